"""OSV range semantics: the oracle over a real advisory database, and the rules case by case."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from packaging import version as pep440

from shipyard.security import osv_db, osv_match
from tests.conftest import CORPUS

OSV_PYPI = CORPUS / "osv-pypi" / "vulns"


def _explain_listed(entry: dict[str, Any], listed: str) -> str | None:
    """Why a version the record lists is outside its ranges, when the record explains it."""
    parsed = pep440.Version(listed)
    if not any(range_.get("type") == "ECOSYSTEM" for range_ in entry.get("ranges") or ()):
        return "the record has no ECOSYSTEM range, only its list of versions"
    fixed = [
        pep440.Version(str(event["fixed"]))
        for range_ in entry.get("ranges") or ()
        if range_.get("type") == "ECOSYSTEM"
        for event in range_["events"]
        if "fixed" in event
    ]
    if parsed.is_prerelease:
        return "a pre-release listed below the range's first release"
    if any(parsed >= fix and parsed.release[:3] == fix.release[:3] for fix in fixed):
        return "the record lists its own fixed version (or its post-release) as affected"
    return None


def _oracle() -> tuple[int, Counter[str], list[str]]:
    """Each record's own ranges judged against its own lists (as ``affected_by`` does with
    ``use_versions=False``, each range compiled once rather than once per version)."""
    database = osv_db.load(OSV_PYPI)
    agreed = 0
    explained: Counter[str] = Counter()
    unexplained: list[str] = []
    records = {id(r): r for records in database.by_package.values() for r in records}
    for record in records.values():
        for entry in record.get("affected") or ():
            name = entry["package"]["name"]
            ranges = [
                osv_match.Range.compile(range_["events"], osv_match.PARSERS["PyPI"])
                for range_ in entry.get("ranges") or ()
                if range_.get("type") == "ECOSYSTEM"
            ]

            def affected(text: str, ranges: list[osv_match.Range] = ranges) -> bool:
                wanted = osv_match.PARSERS["PyPI"](text)
                return any(range_.contains(wanted) for range_ in ranges)

            for listed in map(str, entry.get("versions") or ()):
                try:
                    if affected(listed):
                        agreed += 1
                        continue
                except osv_match.InvalidVersion:
                    explained["a listed version that is not PEP 440"] += 1
                    continue
                why = _explain_listed(entry, listed)
                if why:
                    explained[why] += 1
                else:
                    unexplained.append(f"{record['id']} {name} {listed} listed, not in range")
            introduced = {
                str(event["introduced"])
                for range_ in entry.get("ranges") or ()
                for event in range_["events"]
                if "introduced" in event
            }
            for range_ in entry.get("ranges") or ():
                if range_.get("type") != "ECOSYSTEM":
                    continue
                for fixed in (str(e["fixed"]) for e in range_["events"] if "fixed" in e):
                    try:
                        if not affected(fixed):
                            agreed += 1
                            continue
                    except osv_match.InvalidVersion:
                        explained["a fixed version that is not PEP 440"] += 1
                        continue
                    if fixed in introduced:
                        explained["the record also introduces the version it fixes"] += 1
                    else:
                        unexplained.append(f"{record['id']} {name} {fixed} fixed, yet affected")
    return agreed, explained, unexplained


def test_the_oracle_over_the_pypi_advisory_database_agrees_except_where_the_data_explains_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    agreed, explained, unexplained = _oracle()
    with capsys.disabled():
        total = sum(explained.values())
        print(f"\nOSV oracle: {agreed} checks agree; {total} explained: {dict(explained)}")
    assert unexplained == []
    assert agreed > 144_000
    # Every disagreement is a data problem the test names, and they are few.
    assert sum(explained.values()) < agreed / 1000


def _record(
    *ranges: dict[str, Any], versions: tuple[str, ...] = (), **extra: Any
) -> dict[str, Any]:
    package = {"ecosystem": extra.pop("ecosystem", "PyPI"), "name": extra.pop("name", "Demo_Pkg")}
    return {"id": "TEST-1", "affected": [{"package": package, "ranges": list(ranges),
                                          "versions": list(versions)}], **extra}  # fmt: skip


@pytest.mark.parametrize(
    ("events", "version", "affected"),
    [
        ([{"introduced": "0"}, {"fixed": "1.5"}], "1.4.9", True),
        ([{"introduced": "0"}, {"fixed": "1.5"}], "1.5", False),
        ([{"introduced": "0"}, {"fixed": "1.5"}], "1.5rc1", True),
        ([{"introduced": "1.0"}, {"last_affected": "1.2"}], "1.2", True),
        ([{"introduced": "1.0"}, {"last_affected": "1.2"}], "1.2.1", False),
        ([{"introduced": "1.0"}, {"last_affected": "1.2"}], "0.9", False),
        (
            [{"introduced": "1.0"}, {"fixed": "1.1"}, {"introduced": "2.0"}, {"fixed": "2.1"}],
            "1.5",
            False,
        ),
        (
            [{"introduced": "2.0"}, {"fixed": "2.1"}, {"introduced": "1.0"}, {"fixed": "1.1"}],
            "1.0.5",
            True,
        ),
        ([{"introduced": "1.0"}], "99.0", True),
        ([{"introduced": "0"}, {"fixed": "2.0"}], "2.0.post1", False),
        ([{"introduced": "0"}, {"fixed": "1!0.5"}], "3.0", True),
    ],
)
def test_pypi_ranges_follow_pep_440(
    events: list[dict[str, str]], version: str, affected: bool
) -> None:
    record = _record({"type": "ECOSYSTEM", "events": events})
    assert osv_match.affected_by(record, "PyPI", "demo-pkg", version).affected is affected


@pytest.mark.parametrize(
    ("events", "version", "affected"),
    [
        ([{"introduced": "0"}, {"fixed": "4.17.21"}], "4.17.20", True),
        ([{"introduced": "0"}, {"fixed": "4.17.21"}], "4.17.21", False),
        ([{"introduced": "1.0.0"}, {"fixed": "1.0.0"}], "1.0.0-rc.1", False),
        ([{"introduced": "0"}, {"fixed": "1.0.0"}], "1.0.0-alpha.10", True),
        ([{"introduced": "1.0.0-alpha.2"}, {"fixed": "1.0.0"}], "1.0.0-alpha.10", True),
        ([{"introduced": "1.0.0-alpha.beta"}, {"fixed": "1.0.0"}], "1.0.0-alpha.1", False),
        ([{"introduced": "0"}, {"last_affected": "2.3.4"}], "2.3.4+build.7", True),
    ],
)
def test_npm_ranges_follow_semver_precedence(
    events: list[dict[str, str]], version: str, affected: bool
) -> None:
    record = _record({"type": "SEMVER", "events": events}, ecosystem="npm", name="left-pad")
    assert osv_match.affected_by(record, "npm", "left-pad", version).affected is affected


def test_listed_versions_count_and_fixed_versions_are_reported() -> None:
    record = _record(
        {
            "type": "ECOSYSTEM",
            "events": [{"introduced": "0"}, {"fixed": "2.0"}, {"fixed": "1.9.3"}],
        },
        versions=("5.0",),
    )
    verdict = osv_match.affected_by(record, "PyPI", "demo.pkg", "5.0")
    assert verdict == osv_match.Verdict(True, ("2.0", "1.9.3"))
    assert not osv_match.affected_by(record, "PyPI", "demo.pkg", "5.0", use_versions=False).affected


def test_withdrawn_git_ranges_and_other_packages_affect_nothing() -> None:
    events = [{"introduced": "0"}]
    withdrawn = _record({"type": "ECOSYSTEM", "events": events}, withdrawn="2024-01-01T00:00:00Z")
    assert not osv_match.affected_by(withdrawn, "PyPI", "demo-pkg", "1.0").affected
    git = _record({"type": "GIT", "repo": "r", "events": [{"introduced": "0"}, {"fixed": "abc"}]})
    assert not osv_match.affected_by(git, "PyPI", "demo-pkg", "1.0").affected
    other = _record({"type": "ECOSYSTEM", "events": events})
    assert not osv_match.affected_by(other, "PyPI", "another", "1.0").affected


def test_an_unparsable_version_is_an_error_not_a_verdict() -> None:
    record = _record({"type": "ECOSYSTEM", "events": [{"introduced": "0"}]})
    with pytest.raises(osv_match.InvalidVersion):
        osv_match.affected_by(record, "PyPI", "demo-pkg", "not a version")
    with pytest.raises(osv_match.InvalidVersion):
        osv_match.affected_by(_record(ecosystem="npm", name="x"), "npm", "x", "1.2")


def test_the_database_reads_zips_of_json_and_skips_what_it_cannot_read(tmp_path: Path) -> None:
    import json
    import zipfile

    record = _record({"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0"}]})
    archive = tmp_path / "PyPI.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("TEST-1.json", json.dumps(record))
        zipped.writestr("broken.json", "{not json")
        zipped.writestr("gone.json", json.dumps({**record, "id": "TEST-2", "withdrawn": "x"}))
    database = osv_db.load(archive)
    assert (database.records, database.withdrawn) == (2, 1)
    assert [problem.split(":")[0] for problem in database.problems] == ["broken.json"]
    assert [r["id"] for r in database.advisories("PyPI", "demo-pkg")] == ["TEST-1"]
