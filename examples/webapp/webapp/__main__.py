"""Command line: ``python -m webapp [--host HOST] [--port PORT]``.

The one module that reads the process environment, reports bad options and chooses exit codes:
0 after a clean stop, 1 when the process cannot serve (or is told to crash), 2 for a bad option
or knob value, with one line on standard error that names it.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Sequence

from webapp import __version__, server, settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="webapp",
        description="A small web application for Shipyard's deploy tests. "
        "Knobs are environment variables: see README.md.",
    )
    parser.add_argument(
        "--host", help=f"address to listen on (default: $HOST, else {settings.DEFAULT_HOST})"
    )
    parser.add_argument(
        "--port",
        type=int,
        help=f"port to listen on, 0 for a free one (default: $PORT, else {settings.DEFAULT_PORT})",
    )
    parser.add_argument("--version", action="version", version=f"webapp {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the app; returns the process exit status."""
    args = _parser().parse_args(argv)
    try:
        config = settings.load_settings(
            os.environ,
            host=args.host,
            port=args.port,
            default_instance=f"{socket.gethostname()}-{os.getpid()}",
        )
    except settings.SettingsError as exc:
        sys.stderr.write(f"webapp: {exc}\n")
        return 2
    if config.faults.crash_on_start:
        sys.stderr.write("webapp: WEBAPP_CRASH_ON_START is set: exiting with status 1\n")
        return 1
    return server.run(config)


if __name__ == "__main__":
    raise SystemExit(main())
