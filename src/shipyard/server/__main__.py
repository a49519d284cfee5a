"""``python -m shipyard.server [--host HOST] [--port PORT]``: run the server in the foreground.

``shipyard serve`` runs this; so does ``shipyard server start`` (in the background, its output in
``$SHIPYARD_HOME/server.log``). Errors are one line on standard error and exit status 2.
"""

from __future__ import annotations

import argparse
import sys

from shipyard.core import errors
from shipyard.server import main
from shipyard.store import paths, serverinfo


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shipyard serve")
    parser.add_argument("--host", default=serverinfo.DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=serverinfo.default_port())
    options = parser.parse_args(argv)
    try:
        main.serve(options.host, options.port, paths.home())
    except errors.ShipyardError as error:
        print(f"error: {error.render()}", file=sys.stderr)
        return error.exit_code
    return 0


sys.exit(run())
