"""Settings of one webapp process, read once at start from the environment and the command line.

Every knob is validated here, so a typo in a deploy's environment stops the process at start with
one line naming the variable, rather than giving a release that misbehaves in some other way.
This module never reads ``os.environ`` itself: the caller passes the mapping in.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import TypeVar

from webapp import __version__

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_DRAIN_SECONDS = 10.0

_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
_FALSE_WORDS = frozenset({"0", "false", "no", "off"})
# Versions and instance names travel in response headers and metric labels: printable ASCII only.
_LABEL_TEXT = re.compile(r"[\x20-\x7e]{1,128}")

T = TypeVar("T")


class SettingsError(ValueError):
    """A knob or an option has a value the app cannot use; the message names it and says why."""


@dataclasses.dataclass(frozen=True)
class Faults:
    """Ways to make the app misbehave on purpose, for testing deploys. All off by default."""

    slow_ms: int = 0
    """Latency added to every application request (never to /healthz, /readyz or /metrics)."""
    slow_jitter_ms: int = 0
    """Extra latency drawn uniformly from [0, slow_jitter_ms], on top of ``slow_ms``."""
    error_rate: Fraction = Fraction(0)
    """Fraction of application requests answered 500, from 0 to 1."""
    seed: int | None = None
    """Seed for the random draws; without it, failures follow an evenly spread counter pattern."""
    crash_after: int | None = None
    """Exit with status 1 right after answering this many requests (of any kind)."""
    crash_on_start: bool = False
    """Exit with status 1 before listening: a release that never becomes healthy."""
    unhealthy: bool = False
    """Answer /healthz and /readyz with 503 for the whole life of the process."""
    startup_delay_ms: int = 0
    """Answer /healthz and /readyz with 503 ("starting") for this long after start."""


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything one process needs to know, validated."""

    host: str = DEFAULT_HOST
    """Address to listen on."""
    port: int = DEFAULT_PORT
    """Port to listen on; 0 asks the system for a free one (the bound port is announced)."""
    version: str = __version__
    """Version this process reports: WEBAPP_VERSION, else the package's version."""
    instance: str = "webapp"
    """Name of this process among its replicas, reported on / and in a response header."""
    drain_seconds: float = DEFAULT_DRAIN_SECONDS
    """After SIGTERM, how long requests in flight may take to finish before the process exits."""
    access_log: bool = True
    """Write one line per request to standard error."""
    faults: Faults = dataclasses.field(default_factory=Faults)
    """The misbehaviour knobs."""
    ofrep_endpoint: str | None = None
    """OFREP_ENDPOINT: the flag service (a Shipyard server) /banner reads its flag from."""
    ofrep_headers: tuple[tuple[str, str], ...] = ()
    """OFREP_HEADERS (``Name=value,Name=value``): e.g. the flag token's Authorization header."""
    banner_flag: str = "welcome-banner"
    """WEBAPP_BANNER_FLAG: the string flag /banner shows."""


def load_settings(
    environ: Mapping[str, str],
    *,
    host: str | None = None,
    port: int | None = None,
    default_instance: str = "webapp",
) -> Settings:
    """Build the settings from command-line values (when given) and the environment.

    An empty environment variable counts as unset, as it does in most CI and deploy tools.
    Raises SettingsError on the first invalid value.
    """
    resolved_port = port if port is not None else _read(environ, "PORT", _port, DEFAULT_PORT)
    if not 0 <= resolved_port <= 65535:
        raise SettingsError(f"invalid --port {resolved_port}: must be from 0 to 65535")
    return Settings(
        host=host or environ.get("HOST") or DEFAULT_HOST,
        port=resolved_port,
        version=_read(environ, "WEBAPP_VERSION", _label_text, __version__),
        instance=_read(environ, "WEBAPP_INSTANCE", _label_text, default_instance),
        drain_seconds=_read(environ, "WEBAPP_DRAIN_SECONDS", _seconds, DEFAULT_DRAIN_SECONDS),
        access_log=_read(environ, "WEBAPP_ACCESS_LOG", _flag, True),
        faults=_load_faults(environ),
        ofrep_endpoint=_read(environ, "OFREP_ENDPOINT", _endpoint, None),
        ofrep_headers=_read(environ, "OFREP_HEADERS", _headers, ()),
        banner_flag=_read(environ, "WEBAPP_BANNER_FLAG", _label_text, "welcome-banner"),
    )


def _load_faults(environ: Mapping[str, str]) -> Faults:
    return Faults(
        slow_ms=_read(environ, "WEBAPP_SLOW_MS", _milliseconds, 0),
        slow_jitter_ms=_read(environ, "WEBAPP_SLOW_JITTER_MS", _milliseconds, 0),
        error_rate=_read(environ, "WEBAPP_ERROR_RATE", _rate, Fraction(0)),
        seed=_read(environ, "WEBAPP_SEED", _seed, None),
        crash_after=_read(environ, "WEBAPP_CRASH_AFTER", _positive_count, None),
        crash_on_start=_read(environ, "WEBAPP_CRASH_ON_START", _flag, False),
        unhealthy=_read(environ, "WEBAPP_UNHEALTHY", _flag, False),
        startup_delay_ms=_read(environ, "WEBAPP_STARTUP_DELAY_MS", _milliseconds, 0),
    )


def _read(environ: Mapping[str, str], name: str, parse: Callable[[str], T], default: T) -> T:
    raw = environ.get(name, "")
    if raw.strip() == "":
        return default
    try:
        return parse(raw.strip())
    except ValueError as exc:
        raise SettingsError(f"invalid {name}={raw!r}: {exc}") from None


def _whole_number(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise ValueError("must be a whole number")
    return int(text)


def _port(text: str) -> int:
    value = _whole_number(text)
    if value > 65535:
        raise ValueError("must be from 0 to 65535")
    return value


def _milliseconds(text: str) -> int:
    try:
        return _whole_number(text)
    except ValueError:
        raise ValueError("must be a whole number of milliseconds, 0 or more") from None


def _positive_count(text: str) -> int:
    value = _whole_number(text)
    if value < 1:
        raise ValueError("must be a whole number, 1 or more")
    return value


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError("must be an integer") from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError("must be a number of seconds, 0 or more") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError("must be a number of seconds, 0 or more")
    return value


def _rate(text: str) -> Fraction:
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise ValueError("must be a number from 0 to 1, such as 0.25") from None
    if not 0 <= value <= 1:
        raise ValueError("must be a number from 0 to 1, such as 0.25")
    return value


def _flag(text: str) -> bool:
    word = text.lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise ValueError("must be one of 1, 0, true, false, yes, no, on, off")


def _label_text(text: str) -> str:
    if not _LABEL_TEXT.fullmatch(text):
        raise ValueError("must be 1 to 128 printable ASCII characters")
    return text


def _endpoint(text: str) -> str:
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", text):
        raise ValueError("must be an http:// or https:// URL")
    return text.rstrip("/")


def _headers(text: str) -> tuple[tuple[str, str], ...]:
    found = []
    for part in text.split(","):
        name, sep, value = part.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z0-9-]+", name.strip()):
            raise ValueError("must be Name=value pairs separated by commas")
        found.append((name.strip(), value.strip()))
    return tuple(found)
