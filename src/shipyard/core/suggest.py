"""Suggestions for misspelt names ("did you mean `build`?"). Pure: no I/O."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate nearest to ``name``, or None when nothing is close enough to suggest."""
    options = list(candidates)
    lowered = {option.lower(): option for option in options}
    if name.lower() in lowered:
        return lowered[name.lower()]
    matches = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[matches[0]] if matches else None


def did_you_mean(name: str, candidates: Iterable[str], *, noun: str = "key") -> str:
    """A hint sentence: a close match when there is one, else the valid names."""
    options = sorted(set(candidates))
    match = closest(name, options)
    if match is not None:
        return f"did you mean `{match}`?"
    if not options:
        return f"no {noun}s are allowed here"
    if len(options) > 12:
        return f"valid {noun}s include " + ", ".join(f"`{o}`" for o in options[:12]) + ", ..."
    return f"valid {noun}s: " + ", ".join(f"`{o}`" for o in options)
