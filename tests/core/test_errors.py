from __future__ import annotations

from shipyard.core import errors, suggest


def test_render_names_file_key_message_and_hint() -> None:
    error = errors.SpecError(
        "unknown job `biuld`",
        location=errors.SourceLocation(".github/workflows/ci.yml", 14, 9),
        key_path="jobs.test.needs",
        hint="did you mean `build`?",
    )
    assert error.render() == (
        ".github/workflows/ci.yml:14:9: jobs.test.needs: unknown job `biuld`\n"
        "  hint: did you mean `build`?"
    )
    assert error.exit_code == 2


def test_spec_errors_sorted_by_location_and_counted() -> None:
    late = errors.SpecError("b", location=errors.SourceLocation("a.yml", 9, 1))
    early = errors.SpecError("a", location=errors.SourceLocation("a.yml", 2, 3))
    collected = errors.SpecErrors.collect([late, errors.SpecErrors([early])])
    assert collected is not None
    assert [e.message for e in collected.errors] == ["a", "b"]
    assert collected.render() == "a.yml:2:3: a\na.yml:9:1: b\n2 errors"
    assert errors.SpecErrors.collect([]) is None


def test_did_you_mean_suggests_close_names_or_lists_valid_ones() -> None:
    hint = suggest.did_you_mean("runs_on", ["runs-on", "steps", "needs"])
    assert hint == "did you mean `runs-on`?"
    assert suggest.did_you_mean("zzz", ["b", "a"]) == "valid keys: `a`, `b`"
