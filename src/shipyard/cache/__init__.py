"""The content-addressed store behind caches and artifacts.

``store`` files bytes under their SHA-256 and verifies them on every read; ``snapshots`` turns a
directory tree into one digest (a manifest blob) and back; ``entries`` names snapshots and blobs
(namespace and key), remembers when each was last used and evicts the least recently used ones to
stay under a size cap. Everything lives under one root directory (``settings.default_root()``).

This package knows nothing of workflows, jobs or actions: the runner decides what to save under
which key; the store only keeps bytes safe. It never prints and never imports the command line.
"""
