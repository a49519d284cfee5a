"""Golden cases: each ``data/invalid/<case>.yml`` must fail with exactly ``<case>.errors``.

A case file is a whole workflow with one kind of mistake; its ``.errors`` file is what
``shipyard validate`` prints for it: every problem at file:line:col, its key path, what is wrong
and the hint. To add a case, write the ``.yml``, run the test, and check the output by hand
before saving it as the ``.errors`` file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.core import errors
from shipyard.spec import workflow_loader
from tests.spec import cases

INVALID = Path(__file__).parent / "data" / "invalid"
CASES = sorted(INVALID.glob("*.yml"))


def test_every_case_has_its_expected_errors() -> None:
    assert len(CASES) > 100
    assert sorted(path.with_suffix(".errors") for path in CASES) == sorted(INVALID.glob("*.errors"))


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.stem)
def test_invalid_workflow_is_reported_exactly(case: Path) -> None:
    with pytest.raises(errors.SpecErrors) as caught:
        workflow_loader.load_workflow(case.read_text(encoding="utf-8"), path=cases.PATH)
    rendered = caught.value.render() + "\n"
    assert rendered == case.with_suffix(".errors").read_text(encoding="utf-8")
    assert "Traceback" not in rendered
