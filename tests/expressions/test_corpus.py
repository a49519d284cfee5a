"""Every reference case of GitHub's expression language, one test each, plus the total.

The corpus marks five cases as skipped for GitHub's TypeScript implementation (absolute positions
in multi-line expressions, and the memory limit); they are run here too and must pass.
"""

from __future__ import annotations

import pytest

from tests.expressions import corpus

CASES = corpus.load_cases()


def test_the_corpus_is_there() -> None:
    assert len(CASES) == 1020, (
        f"expected GitHub's 1,020 reference cases in {corpus.CASES_DIRECTORY}"
    )


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_case(case: corpus.Case) -> None:
    problem = corpus.check(case)
    assert problem is None, f"{case.expression!r}: {problem}"


def test_every_case_passes(capsys: pytest.CaptureFixture[str]) -> None:
    failures = [(case, corpus.check(case)) for case in CASES]
    failures = [(case, problem) for case, problem in failures if problem is not None]
    required = [case for case in CASES if "typescript" not in case.skip]
    passed = len(CASES) - len(failures)
    summary = f"{passed}/{len(CASES)} expression cases pass"
    summary += f" ({len(CASES) - len(required)} of them marked skip for typescript)"
    corpus.SUMMARY.append(summary)
    with capsys.disabled():
        print(f"\n{summary}")
    missed = [case.id for case, _ in failures if "typescript" not in case.skip]
    assert not missed, "\n".join(f"{case.id}: {problem}" for case, problem in failures)
