"""Running releases: the supervisor of service processes and the router (data plane)."""
