"""Flag definitions in flagd's JSON format, validated flag by flag. Pure: no I/O.

A flags document is ``{"flags": {...}, "$evaluators": {...}, "metadata": {...}}`` as flagd
defines it (https://flagd.dev/schema/v0/flags.json). Each flag is checked on its own, against a
JSON Schema written from flagd's (``FLAG_SCHEMA``), then its ``defaultVariant`` against its
variants and its targeting by compiling it: a broken flag becomes a ``Problem`` naming the file,
the flag key, the JSON pointer and the reason, and every other flag still loads. flagd itself
only logs schema problems; Shipyard refuses the broken flag, so a typo never serves traffic.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import field
from typing import Any, Literal

import jsonschema  # type: ignore[import-untyped]

from shipyard.core.frozen import frozen
from shipyard.flags import jsonlogic, targeting

State = Literal["ENABLED", "DISABLED"]
Kind = Literal["boolean", "string", "number", "object"]

_SCALAR_METADATA = {
    "type": "object",
    "additionalProperties": {"type": ["string", "number", "boolean"]},
}


def _typed(kind: dict[str, Any]) -> dict[str, Any]:
    return {
        "properties": {
            "variants": {"type": "object", "additionalProperties": kind, "minProperties": 1}
        }
    }


FLAG_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["state", "variants"],
    "properties": {
        "state": {"type": "string", "enum": ["ENABLED", "DISABLED"]},
        "defaultVariant": {"type": ["string", "null"]},
        "variants": {"type": "object", "minProperties": 1, "propertyNames": {"minLength": 1}},
        "targeting": {"type": "object"},
        "metadata": _SCALAR_METADATA,
    },
    "anyOf": [
        _typed({"type": "boolean"}),
        _typed({"type": "string"}),
        _typed({"type": "number"}),
        _typed({"type": "object"}),
    ],
}
"""One flag, as flagd's ``anyFlag``: base fields plus variants that all hold one JSON type."""

_FLAG_VALIDATOR = jsonschema.Draft7Validator(FLAG_SCHEMA)
_METADATA_VALIDATOR = jsonschema.Draft7Validator(_SCALAR_METADATA)


@frozen
class Problem:
    """Why one flag (or the document, when ``flag`` is None) was refused."""

    source: str
    flag: str | None
    pointer: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.source}: {self.pointer or '/'}"
        return (
            f"{where}: flag `{self.flag}`: {self.reason}"
            if self.flag
            else f"{where}: {self.reason}"
        )


@frozen
class Flag:
    """One loaded flag; ``rule`` is its targeting compiled (None: no targeting)."""

    key: str
    state: State
    variants: Mapping[str, Any]
    default_variant: str | None
    kind: Kind
    targeting: Mapping[str, Any] | None = None
    rule: jsonlogic.Rule | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def definition(self) -> dict[str, Any]:
        """The flag back in flagd's JSON form (targeting with ``$ref`` already inlined)."""
        body: dict[str, Any] = {"state": self.state, "variants": dict(self.variants)}
        body["defaultVariant"] = self.default_variant
        if self.targeting:
            body["targeting"] = self.targeting
        if self.metadata:
            body["metadata"] = dict(self.metadata)
        return body


@frozen
class FlagSet:
    """The flags of one document, the set's metadata, and the problems that kept flags out."""

    flags: Mapping[str, Flag] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()
    evaluators: Mapping[str, Any] = field(default_factory=dict)
    """The shared rules, kept so an override's targeting can ``$ref`` them too."""
    answers: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """The evaluator's cache of answers that never depend on the context (static and disabled
    flags); a new set (``overrides.apply``) starts empty."""

    def document(self) -> dict[str, Any]:
        """The loaded flags as one flagd document (what the server serves to providers)."""
        body: dict[str, Any] = {"flags": {key: f.definition() for key, f in self.flags.items()}}
        if self.metadata:
            body["metadata"] = dict(self.metadata)
        return body


def _pointer(*parts: object) -> str:
    return "".join(f"/{jsonlogic.escape(str(part))}" for part in parts)


def _kind(variants: Mapping[str, Any]) -> Kind:
    first = next(iter(variants.values()))
    if isinstance(first, bool):
        return "boolean"
    if isinstance(first, str):
        return "string"
    if isinstance(first, int | float):
        return "number"
    return "object"


def _schema_reason(error: jsonschema.ValidationError) -> tuple[str, str]:
    path = "".join(f"/{jsonlogic.escape(str(part))}" for part in error.absolute_path)
    if error.validator == "anyOf" and not error.absolute_path:
        return (
            "/variants",
            "all variants of a flag must hold one type: boolean, string, number or object",
        )
    if error.validator == "required":
        missing = str(error.message).split("'")[1]
        return path, f"`{missing}` is required"
    if error.validator == "enum":
        allowed = " or ".join(str(v) for v in error.validator_value)
        return path, f"must be {allowed}, not {error.instance!r}"
    if error.validator == "minProperties":
        return path, "a flag needs at least one variant"
    if error.validator == "type":
        expected = error.validator_value
        shown = " or ".join(expected) if isinstance(expected, list) else expected
        return path, f"must be {shown}, not {error.instance!r}"
    return path, error.message


def load_flag(
    key: str, body: Any, evaluators: Mapping[str, Any], source: str, base: str
) -> Flag | Problem:
    """One flag from its JSON, or the first problem with it; ``base`` is its JSON pointer."""
    errors = sorted(_FLAG_VALIDATOR.iter_errors(body), key=lambda e: len(list(e.absolute_path)))
    if not isinstance(body, dict):
        return Problem(source, key, base, "a flag must be an object with `state` and `variants`")
    if errors:
        # Prefer the most precise error over the anyOf summary.
        precise = [e for e in errors if e.validator != "anyOf"] or errors
        where, reason = _schema_reason(precise[0])
        return Problem(source, key, base + where, reason)
    variants = body["variants"]
    default = body.get("defaultVariant")
    if default is not None and default not in variants:
        known = ", ".join(f"`{name}`" for name in variants)
        return Problem(
            source,
            key,
            base + "/defaultVariant",
            f"default variant `{default}` is not one of {known}",
        )
    try:
        compiled = targeting.compile_targeting(body.get("targeting"), dict(evaluators))
    except jsonlogic.RuleError as error:
        return Problem(source, key, base + "/targeting" + error.pointer, error.reason)
    rule, raw_targeting = compiled if compiled is not None else (None, None)
    return Flag(
        key=key,
        state=body["state"],
        variants=dict(variants),
        default_variant=default,
        kind=_kind(variants),
        targeting=raw_targeting,
        rule=rule,
        metadata=dict(body.get("metadata") or {}),
    )


def load_document(document: Any, source: str, *, allow_array: bool = False) -> FlagSet:
    """Every valid flag of a parsed document; each invalid one is reported in ``problems``.

    ``allow_array`` accepts flagd's daemon form, where ``flags`` may be a list of flags that each
    carry a ``key``; providers (and Shipyard's files) use the object form.
    """
    if not isinstance(document, dict):
        return FlagSet(
            problems=(Problem(source, None, "", "a flags file is a JSON object with `flags`"),)
        )
    problems: list[Problem] = []
    metadata: dict[str, Any] = {}
    raw_metadata = document.get("metadata", {})
    meta_errors = list(_METADATA_VALIDATOR.iter_errors(raw_metadata))
    if meta_errors:
        where = _pointer("metadata", *meta_errors[0].absolute_path)
        problems.append(
            Problem(source, None, where, "metadata values must be strings, numbers or booleans")
        )
    elif isinstance(raw_metadata, dict):
        metadata = dict(raw_metadata)
    evaluators = document.get("$evaluators", {})
    if not isinstance(evaluators, dict):
        problems.append(Problem(source, None, "/$evaluators", "`$evaluators` must be an object"))
        evaluators = {}
    entries: list[tuple[str, Any, str]] = []
    raw_flags = document.get("flags")
    if isinstance(raw_flags, dict):
        entries = [(key, body, _pointer("flags", key)) for key, body in raw_flags.items()]
    elif isinstance(raw_flags, list) and allow_array:
        for index, body in enumerate(raw_flags):
            key = body.get("key") if isinstance(body, dict) else None
            if not isinstance(key, str) or not key:
                problems.append(
                    Problem(
                        source, None, _pointer("flags", index), "a flag in a list needs a `key`"
                    )
                )
                continue
            entries.append((key, body, _pointer("flags", index)))
    elif raw_flags is None:
        problems.append(Problem(source, None, "", "`flags` is required"))
    else:
        shape = "an object or a list" if allow_array else "an object of flag key -> flag"
        problems.append(Problem(source, None, "/flags", f"`flags` must be {shape}"))
    flags: dict[str, Flag] = {}
    for key, body, base in entries:
        if not key:
            problems.append(Problem(source, key, base, "a flag key cannot be empty"))
            continue
        loaded = load_flag(key, body, evaluators, source, base)
        if isinstance(loaded, Problem):
            problems.append(loaded)
        else:
            flags[key] = loaded
    return FlagSet(
        flags=flags, metadata=metadata, problems=tuple(problems), evaluators=dict(evaluators)
    )


def load_text(text: str, source: str, *, allow_array: bool = False) -> FlagSet:
    """A document from its JSON text; a syntax error is one problem with its line and column."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        return FlagSet(
            problems=(
                Problem(
                    source,
                    None,
                    "",
                    f"invalid JSON at line {error.lineno} column {error.colno}: {error.msg}",
                ),
            )
        )
    return load_document(document, source, allow_array=allow_array)
