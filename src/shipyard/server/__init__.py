"""The server (``shipyard serve``): HTTP API, supervisor of deployed services, router control.

An entry point, like ``shipyard.cli``: nothing imports it. ``python -m shipyard.server`` runs it.
"""
