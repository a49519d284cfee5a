"""Getting a commit into an environment: immutable releases (and, later, rollout strategies)."""
