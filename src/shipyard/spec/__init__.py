"""File formats turned into typed, validated models: workflows, shipyard.yaml, flags."""
