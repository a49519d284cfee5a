"""``python -m shipyard`` is the ``shipyard`` command."""

from shipyard.cli import main

main.main()
