"""The router's errors, as seen by whoever drives it over the control socket.

    ShipyardError
     └── RouterError            anything the router or its client reports
          ├── ProtocolError     a control message is malformed or invalid (names the key path)
          ├── RouterRefused     the router understood the message and refused it (``code`` says why)
          └── RouterUnavailable nothing answers on the control socket, or it stopped answering

Pure: no I/O.
"""

from __future__ import annotations

from shipyard.core import errors


class RouterError(errors.ShipyardError):
    """Something went wrong talking to, or inside, the router."""


class ProtocolError(RouterError):
    """A control message is malformed or invalid; ``key_path`` names the offending field."""

    code = "invalid_message"


class RouterRefused(RouterError):
    """The router refused a valid message: a stale version, a port it cannot bind, ...

    ``code`` is one of the reply codes documented in docs/router.md.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        key_path: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, key_path=key_path, hint=hint)
        self.code = code


class RouterUnavailable(RouterError):
    """No router answers on the control socket, or the answer did not come in time."""
