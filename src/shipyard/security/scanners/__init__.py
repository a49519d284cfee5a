"""One module per scanner, each implementing ``shipyard.security.interface.Scanner``."""
