"""Limits that keep hostile expressions cheap: each fails fast with an ExpressionError. Pure.

GitHub's own limits are the guide; where GitHub has one, the number is the same.
"""

from __future__ import annotations

MAX_EXPRESSION_LENGTH = 21_000
"""Characters in one expression (GitHub: 21,000). Longer text is a lexing error before any work."""

MAX_DEPTH = 50
"""Nesting of groups, function calls, ``!``, ``&&``/``||`` chains and property or index accesses,
counted as GitHub counts it (GitHub: 50). Bounds the parser's and the evaluator's recursion."""

MAX_MEMORY_BYTES = 1_048_576
"""Bytes of strings one evaluation may hold at once (GitHub: 1 MiB). Strings count as GitHub counts
them, 26 bytes plus 2 per character, so ``format``, ``join``, ``toJSON`` and ``fromJSON``
stop as soon as their output would pass about 512 Ki characters."""

MAX_ARGUMENTS = 255
"""Arguments to ``format``, ``hashFiles`` and ``case`` (GitHub: 255, the largest byte)."""

STRING_OVERHEAD_BYTES = 26
"""What GitHub charges for a string before its characters."""


def string_bytes(text: str) -> int:
    """The memory GitHub charges for a string: 26 bytes plus 2 per character."""
    return STRING_OVERHEAD_BYTES + 2 * len(text)
