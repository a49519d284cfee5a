"""Changes on top of the flags file: per environment (shipyard.yaml) and at runtime. Pure.

An ``Override`` replaces some of a flag's ``state``, ``defaultVariant`` and ``targeting`` and
leaves the rest as the file has it. Overrides apply in order (the file, then
``environments.<env>.flags``, then runtime changes), and each result is validated like a flag in
the file, so an override can never make a flag unservable: a bad one is a ``Problem`` and the
flag keeps its previous definition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from shipyard.core.frozen import frozen
from shipyard.flags import definitions

UNSET: Any = object()
"""A field the override leaves alone (``None`` is a value: ``defaultVariant: null``)."""


@frozen
class Override:
    """New values for some fields of one flag; ``source`` says where it came from."""

    flag: str
    source: str
    state: Any = UNSET
    default_variant: Any = UNSET
    targeting: Any = UNSET

    def fields(self) -> dict[str, Any]:
        """The fields it sets, in flagd's names (for audit logs and the API)."""
        found: dict[str, Any] = {}
        if self.state is not UNSET:
            found["state"] = self.state
        if self.default_variant is not UNSET:
            found["defaultVariant"] = self.default_variant
        if self.targeting is not UNSET:
            found["targeting"] = self.targeting
        return found

    @classmethod
    def from_fields(cls, flag: str, source: str, fields: Mapping[str, Any]) -> Override:
        return cls(
            flag,
            source,
            state=fields.get("state", UNSET),
            default_variant=fields.get("defaultVariant", UNSET),
            targeting=fields.get("targeting", UNSET),
        )


def apply(flags: definitions.FlagSet, changes: Iterable[Override]) -> definitions.FlagSet:
    """``flags`` with ``changes`` applied in order; refused changes become problems."""
    current = dict(flags.flags)
    problems = list(flags.problems)
    for change in changes:
        flag = current.get(change.flag)
        if flag is None:
            problems.append(
                definitions.Problem(
                    change.source, change.flag, "", f"there is no flag `{change.flag}` to override"
                )
            )
            continue
        body = flag.definition()
        body.update(change.fields())
        if body.get("targeting") is None:
            body.pop("targeting", None)
        loaded = definitions.load_flag(change.flag, body, flags.evaluators, change.source, "")
        if isinstance(loaded, definitions.Problem):
            problems.append(loaded)
        else:
            current[change.flag] = loaded
    return replace(flags, flags=current, problems=tuple(problems), answers={})


def rollout_targeting(
    flag: definitions.Flag, percent: float, variant: str | None = None
) -> tuple[dict[str, Any], str, str]:
    """Targeting that serves ``variant`` to ``percent`` % of targeting keys and the other (off)
    variant to the rest, bucketed as flagd buckets. Returns (targeting, on, off).

    For a boolean flag ``variant`` defaults to the variant holding ``true`` and the rest get the
    one holding ``false``; otherwise the rest get the default variant. Percentages keep three
    decimals (weights out of 100,000).
    """
    if not 0 <= percent <= 100:
        raise ValueError(f"a rollout percentage is from 0 to 100, not {percent:g}")
    on, off = _rollout_variants(flag, variant)
    share = round(percent * 1000)
    targeting = {"fractional": [[on, share], [off, 100_000 - share]]}
    return targeting, on, off


def _rollout_variants(flag: definitions.Flag, variant: str | None) -> tuple[str, str]:
    if flag.kind == "boolean":
        by_value = {value: name for name, value in flag.variants.items()}
        if True not in by_value or False not in by_value:
            raise ValueError(
                f"flag `{flag.key}` needs a variant holding true and one holding false"
            )
        on = variant or by_value[True]
        off = by_value[False] if on != by_value[False] else by_value[True]
    else:
        if variant is None:
            raise ValueError(f"flag `{flag.key}` is not boolean: name the variant to roll out")
        if flag.default_variant is None:
            raise ValueError(
                f"flag `{flag.key}` has no default variant to serve the others: set one first"
            )
        on, off = variant, flag.default_variant
    if on not in flag.variants:
        known = ", ".join(f"`{name}`" for name in flag.variants)
        raise ValueError(f"flag `{flag.key}` has no variant `{on}` (it has {known})")
    if on == off:
        raise ValueError(f"variant `{on}` is already what the other targeting keys get")
    return on, off
