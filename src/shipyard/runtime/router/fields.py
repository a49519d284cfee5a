"""Reading decoded JSON into typed values, with errors that name the exact key path.

Every reader takes the value and its key path (``table.routes[0].groups[1].weight``) and raises
:class:`~shipyard.runtime.router.errors.ProtocolError` naming that path. Pure: no I/O.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Sequence
from typing import Any

from shipyard.runtime.router import errors

_HOSTNAME_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,127}$")


def fail(path: str, message: str, hint: str | None = None) -> errors.ProtocolError:
    """The error for an invalid field (returned, so callers write ``raise fields.fail(...)``)."""
    return errors.ProtocolError(message, key_path=path or None, hint=hint)


def kind(value: object) -> str:
    """How a JSON value is called in error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def obj(
    value: object, path: str, *, required: Sequence[str], optional: Sequence[str] = ()
) -> dict[str, Any]:
    """A JSON object with exactly the allowed keys, and every required key present."""
    if not isinstance(value, dict):
        raise fail(path, f"must be an object, not {kind(value)}")
    allowed = (*required, *optional)
    for key in value:
        if key not in allowed:
            listed = ", ".join(allowed)
            raise fail(join(path, str(key)), "unknown key", hint=f"allowed keys: {listed}")
    for key in required:
        if key not in value:
            raise fail(join(path, key), "is required")
    return value


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def items(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise fail(path, f"must be a list, not {kind(value)}")
    return value


def string(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise fail(path, f"must be a string, not {kind(value)}")
    if not value:
        raise fail(path, "must not be empty")
    return value


def identifier(value: object, path: str) -> str:
    """A name or id: letters, digits and ``._:@/+-``, at most 128 characters."""
    text = string(value, path)
    if not _ID.match(text):
        raise fail(
            path,
            f"{text!r} is not a valid name",
            hint="use letters, digits and ._:@/+- (at most 128 characters, no spaces)",
        )
    return text


def boolean(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise fail(path, f"must be true or false, not {kind(value)}")
    return value


def integer(value: object, path: str, *, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(path, f"must be an integer, not {kind(value)}")
    if not minimum <= value <= maximum:
        raise fail(path, f"must be between {minimum} and {maximum}, not {value}")
    return value


def seconds(value: object, path: str, *, minimum: float, maximum: float) -> float:
    """A duration in seconds (a JSON number)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(path, f"must be a number of seconds, not {kind(value)}")
    number = float(value)
    if math.isnan(number) or not minimum <= number <= maximum:
        raise fail(path, f"must be between {minimum:g} and {maximum:g} seconds, not {value}")
    return number


def choice(value: object, path: str, allowed: Sequence[str]) -> str:
    text = string(value, path)
    if text not in allowed:
        listed = ", ".join(allowed)
        raise fail(path, f"{text!r} is not one of: {listed}")
    return text


def ip_literal(value: object, path: str) -> str:
    """An IPv4 or IPv6 address to bind (no names: binding must not depend on DNS)."""
    text = string(value, path)
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise fail(path, f"{text!r} is not an IP address", hint="for example 127.0.0.1") from None


def hostname(value: object, path: str) -> str:
    """A DNS host name as a Host header carries it, without a port; returned lowercased."""
    text = string(value, path).lower().rstrip(".")
    labels = text.split(".")
    if len(text) > 253 or not all(_HOSTNAME_LABEL.match(label) for label in labels):
        raise fail(
            path,
            f"{text!r} is not a host name",
            hint="for example staging.shop.localhost (no scheme, no port)",
        )
    return text


def address(value: object, path: str) -> tuple[str, int]:
    """``host:port`` of an instance: an IP literal (IPv6 in brackets) or a host name."""
    text = string(value, path)
    host, sep, port_text = text.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise fail(path, f"{text!r} is not host:port", hint="for example 127.0.0.1:9001")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise fail(path, f"port {port} is out of range (1-65535)")
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise fail(path, f"{host!r} is not an IPv6 address") from None
        return host[1:-1], port
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        hostname(host, path)
    return host, port
