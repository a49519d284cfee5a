"""Evaluating one flag for one context, with flagd's reasons and error codes. Pure: no I/O.

=====================================  ===============  ================
situation                              reason           error code
=====================================  ===============  ================
no flag under the key                  ERROR            FLAG_NOT_FOUND
``state: DISABLED``                    DISABLED         (caller's default)
no targeting, a default variant        STATIC
no targeting, ``defaultVariant: null`` DEFAULT          (caller's default)
targeting gives ``null``               DEFAULT          (default variant, else caller's)
targeting names a variant              TARGETING_MATCH
targeting names no variant             ERROR            GENERAL
targeting fails to run                 ERROR            PARSE_ERROR
the value is not the type asked for    ERROR            TYPE_MISMATCH
=====================================  ===============  ================

A targeting result is turned into a variant name as flagd does: a string as is, ``true`` and
``false`` as ``"true"`` and ``"false"``, a number as its JSON text. ``$flagd.flagKey`` and
``$flagd.timestamp`` (Unix seconds) are added to the context, replacing any the caller sent.
When ``value`` is None and there is no error, the caller's default is the answer.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import field
from typing import Any, Literal

from shipyard.core.frozen import frozen
from shipyard.flags import coercion, definitions

STATIC = "STATIC"
TARGETING_MATCH = "TARGETING_MATCH"
DEFAULT = "DEFAULT"
DISABLED = "DISABLED"
ERROR = "ERROR"

FLAG_NOT_FOUND = "FLAG_NOT_FOUND"
PARSE_ERROR = "PARSE_ERROR"
TYPE_MISMATCH = "TYPE_MISMATCH"
GENERAL = "GENERAL"

ValueType = Literal["boolean", "string", "integer", "float", "object"]


@frozen
class Resolution:
    """What a flag evaluated to. ``variant`` None with no error: use the caller's default."""

    key: str
    reason: str
    value: Any = None
    variant: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def uses_caller_default(self) -> bool:
        return self.variant is None


def variant_name(result: Any) -> str | None:
    """A targeting result as the variant name flagd reads from it (None: not a name)."""
    if isinstance(result, str):
        return result
    if result is True:
        return "true"
    if result is False:
        return "false"
    if isinstance(result, int | float):
        return coercion.to_string(coercion.to_json_number(result))
    return None


def _metadata(flags: definitions.FlagSet, flag: definitions.Flag) -> Mapping[str, Any]:
    if not flags.metadata:
        return flag.metadata
    return {**flags.metadata, **flag.metadata}


def evaluate(
    flags: definitions.FlagSet,
    key: str,
    context: Mapping[str, Any] | None = None,
    *,
    now: float | None = None,
) -> Resolution:
    """Evaluate flag ``key`` of ``flags`` for ``context``."""
    known = flags.answers.get(key)
    if known is not None:
        return known  # type: ignore[no-any-return]
    flag = flags.flags.get(key)
    if flag is None:
        return Resolution(
            key, ERROR, error_code=FLAG_NOT_FOUND, error_message=f"flag `{key}` does not exist"
        )
    metadata = _metadata(flags, flag)
    if flag.state == "DISABLED" or flag.rule is None:
        answer = (
            Resolution(key, DISABLED, metadata=metadata)
            if flag.state == "DISABLED"
            else _default(flag, STATIC, metadata)
        )
        flags.answers[key] = answer
        return answer
    data = dict(context) if context else {}
    data["$flagd"] = {"flagKey": key, "timestamp": int(time.time() if now is None else now)}
    try:
        result = flag.rule(data)
    except (RecursionError, MemoryError, OverflowError, TypeError, ValueError) as error:
        return Resolution(
            key,
            ERROR,
            error_code=PARSE_ERROR,
            error_message=f"error applying the targeting of flag `{key}`: {error}",
            metadata=metadata,
        )
    if result is None:
        return _default(flag, DEFAULT, metadata)
    name = variant_name(result)
    if name is None or name not in flag.variants:
        shown = name if name is not None else coercion.to_string(result)
        return Resolution(
            key,
            ERROR,
            error_code=GENERAL,
            error_message=f"the targeting of flag `{key}` gave `{shown}`, which is not a variant",
            metadata=metadata,
        )
    return Resolution(key, TARGETING_MATCH, flag.variants[name], name, metadata=metadata)


def _default(flag: definitions.Flag, reason: str, metadata: Mapping[str, Any]) -> Resolution:
    if flag.default_variant is None:
        return Resolution(flag.key, DEFAULT, metadata=metadata)
    name = flag.default_variant
    return Resolution(flag.key, reason, flag.variants[name], name, metadata=metadata)


def check_type(resolution: Resolution, wanted: ValueType) -> Resolution:
    """The resolution as a value of ``wanted``, or a TYPE_MISMATCH error (flagd's typed calls).

    Numbers follow flagd: an integer request truncates a float variant, a float request widens
    an integer one.
    """
    if resolution.error_code is not None or resolution.variant is None:
        return resolution
    value = resolution.value
    ok: bool
    if wanted == "boolean":
        ok = isinstance(value, bool)
    elif wanted == "string":
        ok = isinstance(value, str)
    elif wanted == "object":
        ok = isinstance(value, dict | list)
    else:
        ok = coercion.is_number(value)
        if ok:
            value = int(value) if wanted == "integer" else float(value)
    if not ok:
        return Resolution(
            resolution.key,
            ERROR,
            error_code=TYPE_MISMATCH,
            error_message=f"flag `{resolution.key}` holds {type(value).__name__} values, "
            f"not {wanted}",
            metadata=resolution.metadata,
        )
    if value is resolution.value:
        return resolution
    return Resolution(
        resolution.key, resolution.reason, value, resolution.variant, metadata=resolution.metadata
    )
