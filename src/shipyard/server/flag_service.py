"""The server's flags: what each environment serves, runtime changes, and who may read them.

An environment's flags are the flagd document last published to it (``shipyard flags push``:
the repository's flags file with ``environments.<env>.flags`` applied) plus the runtime
overrides made since (``shipyard flags enable|disable|set-default|rollout``). The loaded,
compiled set is cached per environment and rebuilt when the environment's revision in the store
moves; the revision is re-read at most every ``REVISION_TTL`` seconds (at once after a change
made through this server), so a change made through another server is served within that time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shipyard.core import errors, suggest
from shipyard.core.frozen import frozen
from shipyard.flags import definitions, overrides
from shipyard.server import controller
from shipyard.spec import project_values
from shipyard.store import database, flag_records

REVISION_TTL = 0.25
TOKEN_TTL = 1.0
ACTIONS = ("enable", "disable", "set-default", "rollout", "reset")


class FlagNotFound(controller.NotFound):
    """An environment without published flags, or a flag it does not have (HTTP 404)."""


class FlagChangeRefused(errors.UserError):
    """A change or a document that would make a flag invalid (HTTP 400)."""


@frozen
class Served:
    """One environment's flags as served at ``revision``."""

    environment: str
    revision: int
    flags: definitions.FlagSet
    overridden: Mapping[str, Mapping[str, Any]]
    source: str


class FlagService:
    """Caches each environment's compiled flags and applies changes through the store."""

    def __init__(self, store: database.Store, home: Path) -> None:
        self.store = store
        self.home = home
        self._served: dict[str, tuple[float, Served | None]] = {}
        self._tokens: dict[str, tuple[float, str | None]] = {}

    # -- reading --

    def fresh_served(self, environment: str) -> tuple[bool, Served | None]:
        """(True, flags) when the cache is fresh enough to answer without the store."""
        cached = self._served.get(environment)
        if cached is not None and time.monotonic() - cached[0] < REVISION_TTL:
            return True, cached[1]
        return False, None

    def fresh_token(self, token: str) -> tuple[bool, str | None]:
        """(True, environment) when the token was checked less than ``TOKEN_TTL`` ago."""
        cached = self._tokens.get(token)
        if cached is not None and time.monotonic() - cached[0] < TOKEN_TTL:
            return True, cached[1]
        return False, None

    def served(self, environment: str) -> Served | None:
        """The environment's flags now (None: nothing published). Blocking; cached."""
        now = time.monotonic()
        cached = self._served.get(environment)
        if cached is not None and now - cached[0] < REVISION_TTL:
            return cached[1]
        current = flag_records.revision(self.store, environment)
        previous = cached[1] if cached is not None else None
        if current is None:
            result = None
        elif previous is not None and previous.revision == current:
            result = previous
        else:
            result = self._load(environment)
        self._served[environment] = (now, result)
        return result

    def _load(self, environment: str) -> Served | None:
        record = flag_records.get_set(self.store, environment)
        if record is None:
            return None
        base = definitions.load_document(record.document, record.source or "published flags")
        changes = flag_records.overrides(self.store, environment)
        flags = overrides.apply(
            base,
            [
                overrides.Override.from_fields(key, "runtime", fields)
                for key, fields in changes.items()
            ],
        )
        return Served(environment, record.revision, flags, changes, record.source)

    def require(self, environment: str) -> Served:
        served = self.served(environment)
        if served is None:
            raise FlagNotFound(
                f"environment `{environment}` has no flags",
                hint=f"publish them from the project: `shipyard flags push --env {environment}`",
            )
        return served

    def flag(self, environment: str, key: str) -> tuple[Served, definitions.Flag]:
        served = self.require(environment)
        found = served.flags.flags.get(key)
        if found is None:
            raise FlagNotFound(
                f"environment `{environment}` has no flag `{key}`",
                hint=suggest.did_you_mean(key, list(served.flags.flags), noun="flag")
                if served.flags.flags
                else "the published flags file defines none",
            )
        return served, found

    def token_environment(self, token: str) -> str | None:
        """The environment a flag token reads (cached for ``TOKEN_TTL`` seconds)."""
        now = time.monotonic()
        cached = self._tokens.get(token)
        if cached is not None and now - cached[0] < TOKEN_TTL:
            return cached[1]
        environment = flag_records.token_environment(self.store, token)
        if len(self._tokens) > 10_000:
            self._tokens.clear()
        self._tokens[token] = (now, environment)
        return environment

    # -- changing --

    def publish(
        self, environment: str, document: Mapping[str, Any], *, source: str, actor: str
    ) -> Served:
        if not project_values.NAME_PATTERN.match(environment):
            raise FlagChangeRefused(
                f"invalid environment name `{environment}`", hint=f"use {project_values.NAME_RULE}"
            )
        loaded = definitions.load_document(document, source or "published flags", allow_array=True)
        if loaded.problems:
            shown = "; ".join(str(problem) for problem in loaded.problems[:5])
            raise FlagChangeRefused(
                f"the flags document has {len(loaded.problems)} invalid flag(s): {shown}",
                hint="fix the flags file; nothing was published",
            )
        summary = f"published {len(loaded.flags)} flag(s) from {source or 'a document'}"
        flag_records.publish(
            self.store, environment, loaded.document(), source=source, actor=actor, summary=summary
        )
        self._served.pop(environment, None)
        return self.require(environment)

    def change(
        self,
        environment: str,
        key: str,
        action: str,
        *,
        actor: str,
        variant: str | None = None,
        percent: float | None = None,
    ) -> Served:
        """Apply one runtime change (validated as a flag), audit it, and record the event."""
        served, flag = self.flag(environment, key)
        if action == "reset":
            return self._reset(served, flag, actor)
        fields, summary = _change_fields(flag, action, variant, percent)
        changed = overrides.apply(
            served.flags, [overrides.Override.from_fields(key, "change", fields)]
        )
        refused = [p for p in changed.problems if p.source == "change"]
        if refused:
            raise FlagChangeRefused(f"cannot {action} flag `{key}`: {refused[0].reason}")
        before = flag.definition()
        after = changed.flags[key].definition()
        flag_records.change_flag(
            self.store,
            environment,
            key,
            fields,
            action=action,
            actor=actor,
            before=before,
            after=after,
            summary=f"{actor or 'someone'} {summary}",
        )
        self._served.pop(environment, None)
        return self.require(environment)

    def _reset(self, served: Served, flag: definitions.Flag, actor: str) -> Served:
        """Drop the flag's runtime override: it is again as published."""
        record = flag_records.get_set(self.store, served.environment)
        base = definitions.load_document(record.document if record else {}, "published flags")
        published = base.flags.get(flag.key)
        after = published.definition() if published is not None else None
        flag_records.change_flag(
            self.store,
            served.environment,
            flag.key,
            None,
            action="reset",
            actor=actor,
            before=flag.definition(),
            after=after,
            summary=f"{actor or 'someone'} reset flag `{flag.key}` to its published definition",
        )
        self._served.pop(served.environment, None)
        return self.require(served.environment)


def _change_fields(
    flag: definitions.Flag, action: str, variant: str | None, percent: float | None
) -> tuple[dict[str, Any], str]:
    key = flag.key
    if action == "enable":
        return {"state": "ENABLED"}, f"enabled flag `{key}`"
    if action == "disable":
        return {"state": "DISABLED"}, f"disabled flag `{key}`"
    if action == "set-default":
        if variant is None:
            raise FlagChangeRefused(
                "set-default needs the variant", hint="e.g. `set-default FLAG on`"
            )
        return {"defaultVariant": variant}, f"set the default of flag `{key}` to `{variant}`"
    if action == "rollout":
        if percent is None:
            raise FlagChangeRefused("rollout needs a percentage", hint="e.g. `--percent 5`")
        try:
            rule, on, off = overrides.rollout_targeting(flag, percent, variant)
        except ValueError as error:
            raise FlagChangeRefused(str(error)) from None
        return (
            {"targeting": rule, "state": "ENABLED"},
            f"rolled out `{on}` of flag `{key}` to {percent:g}% (the rest get `{off}`)",
        )
    raise FlagChangeRefused(f"unknown change `{action}`", hint="one of: " + ", ".join(ACTIONS))


async def run(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Call blocking store code off the event loop."""
    return await asyncio.to_thread(function, *args, **kwargs)
