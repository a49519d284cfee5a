"""Version ranges as the setup-* actions read them (node-semver and PEP 440)."""

from __future__ import annotations

import pytest

from shipyard.pipeline.actions import _versions

INSTALLED = ["2.7.18", "3.10.13", "3.11.7", "3.12.1", "3.13.0rc2", "3.13.0", "3.14.0a1"]


def matching(spec: str) -> list[str]:
    parsed = _versions.VersionSpec.parse(spec)
    return [text for text in INSTALLED if parsed.matches(_versions.Version.parse(text))]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("3.11", ["3.11.7"]),
        ("3.12.1", ["3.12.1"]),
        ("3.x", ["3.10.13", "3.11.7", "3.12.1", "3.13.0"]),
        ("3", ["3.10.13", "3.11.7", "3.12.1", "3.13.0"]),
        ("*", ["2.7.18", "3.10.13", "3.11.7", "3.12.1", "3.13.0"]),
        (">=3.11 <3.13", ["3.11.7", "3.12.1"]),
        (">= 3.11, < 3.13", ["3.11.7", "3.12.1"]),
        (">3.11", ["3.12.1", "3.13.0"]),
        ("<=3.11", ["2.7.18", "3.10.13", "3.11.7"]),
        ("~3.11", ["3.11.7"]),
        ("^3.11", ["3.11.7", "3.12.1", "3.13.0"]),
        ("3.10 - 3.11", ["3.10.13", "3.11.7"]),
        ("2.7 || >=3.13", ["2.7.18", "3.13.0"]),
        ("3.13-dev", ["3.13.0rc2", "3.13.0"]),
        ("3.14-dev", ["3.14.0a1"]),
        ("3.13.0rc2", ["3.13.0rc2"]),
        ("3.13.0-rc.2", ["3.13.0rc2"]),
        (">=3.13.0rc1", ["3.13.0rc2", "3.13.0"]),
        ("~=3.10", ["3.10.13", "3.11.7", "3.12.1", "3.13.0"]),
        ("~=3.10.2", ["3.10.13"]),
        ("==3.11.*", ["3.11.7"]),
        ("!=3.12.*", ["2.7.18", "3.10.13", "3.11.7", "3.13.0"]),
        ("!=3.12.1", ["2.7.18", "3.10.13", "3.11.7", "3.13.0"]),
        ("==3.11", []),  # PEP 440 pads with zeros: 3.11.0 only
    ],
)
def test_ranges(spec: str, expected: list[str]) -> None:
    assert matching(spec) == expected


@pytest.mark.parametrize(
    ("spec", "versions", "best"),
    [
        ("^0.5", ["0.4.30", "0.5.0", "0.5.31", "0.6.0"], "0.5.31"),
        ("^0.0.3", ["0.0.3", "0.0.4"], "0.0.3"),
        ("0.5.x", ["0.5.4", "0.6.1"], "0.5.4"),
        (">=0.4.25,<0.5", ["0.4.4", "0.5.0"], None),
    ],
)
def test_best(spec: str, versions: list[str], best: str | None) -> None:
    found = _versions.VersionSpec.parse(spec).best(_versions.Version.parse(v) for v in versions)
    assert (str(found) if found else None) == best


def test_exact_is_set_for_one_full_version_only() -> None:
    assert _versions.VersionSpec.parse("0.5.4").exact == _versions.Version(0, 5, 4)
    assert _versions.VersionSpec.parse("==0.5.4").exact == _versions.Version(0, 5, 4)
    assert _versions.VersionSpec.parse("0.5").exact is None
    assert _versions.VersionSpec.parse(">=0.5.4").exact is None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("three", "'three' is not a version or a version range"),
        ("3.x.y.z", "'3.x.y.z' is not a version or a version range"),
        (">=", "'>=' is not a version or a version range"),
        ("===3.11", "'===3.11' is not a version or a version range"),
        ("~=3", "'~=3' needs at least major.minor"),
    ],
)
def test_errors(spec: str, message: str) -> None:
    with pytest.raises(_versions.VersionError) as failure:
        _versions.VersionSpec.parse(spec)
    assert str(failure.value) == message


def test_versions_print_and_sort_as_python_does() -> None:
    parsed = [_versions.Version.parse(text) for text in ("3.13.0", "3.13.0rc2", "3.13.0b1", "3.13")]
    assert [str(version) for version in sorted(parsed)] == [
        "3.13.0b1",
        "3.13.0rc2",
        "3.13.0",
        "3.13.0",
    ]
