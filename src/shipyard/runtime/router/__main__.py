"""``python -m shipyard.runtime.router --control PATH [--workers N]``: run a router."""

import sys

from shipyard.runtime.router import parent

sys.exit(parent.main())
