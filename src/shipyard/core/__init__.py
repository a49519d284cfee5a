"""Shared vocabulary: errors with source locations and hints, ids, durations, events. No I/O."""
