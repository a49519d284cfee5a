"""``KEY=VALUE`` command-line values (``--set``, ``--input``, ``--var``, ...), read one way.

Kept tiny: ``shipyard run`` imports it on its start-up path.
"""

from __future__ import annotations

from collections.abc import Sequence

from shipyard.core import errors


def key_values(values: Sequence[str], flag: str, example: str) -> dict[str, str]:
    """``{KEY: VALUE}`` from a repeated flag; a value without ``=`` or a key names the flag."""
    found: dict[str, str] = {}
    for value in values:
        key, equals, rest = value.partition("=")
        if not equals or not key.strip():
            raise errors.UsageError(
                f"{flag} {value}: expected KEY=VALUE", hint=f"e.g. `{flag} {example}`"
            )
        found[key.strip()] = rest
    return found
