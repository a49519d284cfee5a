"""The worked example in docs/expressions.md runs, so the documentation stays true."""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT

DOC = REPO_ROOT / "docs" / "expressions.md"


def _worked_example() -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Worked example", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert len(blocks) == 1, "the worked example is one python block"
    return blocks[0]


def test_the_worked_example_runs() -> None:
    code = _worked_example()
    assert code.count("assert ") >= 10
    exec(compile(code, str(DOC), "exec"), {})


def test_the_documented_limits_are_the_real_ones() -> None:
    from shipyard.expressions import limits

    text = DOC.read_text(encoding="utf-8")
    assert f"{limits.MAX_EXPRESSION_LENGTH:,} characters" in text
    assert f"| {limits.MAX_DEPTH} |" in text
    assert f"| {limits.MAX_ARGUMENTS} |" in text
    assert limits.MAX_MEMORY_BYTES == 1024 * 1024 and "1 MiB" in text
