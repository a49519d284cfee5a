"""Loading flagd documents: flagd's schema examples, and one broken flag among good ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shipyard.flags import definitions, jsonlogic, targeting
from tests.flags.corpus import EXAMPLES


def _examples(kind: str, verdict: str) -> list[Path]:
    found = sorted((EXAMPLES / kind / verdict).glob("*.json"))
    assert found or verdict == "negative", f"no {kind}/{verdict} examples under {EXAMPLES}"
    return found


def test_the_schema_examples_are_there() -> None:
    assert len(_examples("flags", "positive")) >= 9
    assert len(_examples("flags", "negative")) >= 9
    assert len(_examples("targeting", "negative")) >= 9


@pytest.mark.parametrize("path", _examples("flags", "positive") + _examples("flagd", "positive"),
                         ids=lambda p: f"{p.parent.parent.name}/{p.name}")  # fmt: skip
def test_every_positive_flags_example_loads(path: Path) -> None:
    document = json.loads(path.read_text())
    loaded = definitions.load_document(document, path.name, allow_array=True)
    assert loaded.problems == ()
    expected = document["flags"]
    assert len(loaded.flags) == len(expected) > 0


@pytest.mark.parametrize("path", _examples("flags", "negative"), ids=lambda p: p.name)
def test_every_negative_flags_example_is_refused(path: Path) -> None:
    loaded = definitions.load_document(json.loads(path.read_text()), path.name)
    assert loaded.problems, f"{path.name} loaded without a problem"
    for problem in loaded.problems:
        assert problem.source == path.name and problem.reason


@pytest.mark.parametrize("path", _examples("targeting", "positive"), ids=lambda p: p.name)
def test_every_positive_targeting_example_compiles(path: Path) -> None:
    rule = targeting.compile_targeting(json.loads(path.read_text()), {"some-ref": {"var": "x"}})
    assert rule is not None


@pytest.mark.parametrize("path", _examples("targeting", "negative"), ids=lambda p: p.name)
def test_every_negative_targeting_example_is_refused(path: Path) -> None:
    with pytest.raises(jsonlogic.RuleError):
        targeting.compile_targeting(json.loads(path.read_text()))


def test_one_broken_flag_is_reported_and_the_others_load() -> None:
    document = {
        "flags": {
            "good": {"state": "ENABLED", "variants": {"on": True, "off": False},
                     "defaultVariant": "off"},
            "mixed": {"state": "ENABLED", "variants": {"on": True, "off": "no"},
                      "defaultVariant": "off"},
            "typo": {"state": "ENABLED", "variants": {"on": True, "off": False},
                     "defaultVariant": "of"},
            "rule": {"state": "ENABLED", "variants": {"a": "a", "b": "b"}, "defaultVariant": "a",
                     "targeting": {"if": [{"sem_ver": [{"var": "v"}, "=>", "1.0.0"]}, "b", None]}},
            "state": {"state": "ON", "variants": {"a": 1}, "defaultVariant": "a"},
        }
    }  # fmt: skip
    loaded = definitions.load_document(document, "flags.json")
    assert list(loaded.flags) == ["good"]
    assert [str(problem) for problem in loaded.problems] == [
        "flags.json: /flags/mixed/variants: flag `mixed`: all variants of a flag must hold one "
        "type: boolean, string, number or object",
        "flags.json: /flags/typo/defaultVariant: flag `typo`: default variant `of` is not one of "
        "`on`, `off`",
        "flags.json: /flags/rule/targeting/if/0/sem_ver/1: flag `rule`: unknown `sem_ver` "
        "operator '=>'; use one of !=, <, <=, =, >, >=, ^, ~",
        "flags.json: /flags/state/state: flag `state`: must be ENABLED or DISABLED, not 'ON'",
    ]


def test_evaluators_are_inlined_and_unknown_references_refused() -> None:
    document = {
        "$evaluators": {"staff": {"ends_with": [{"var": "email"}, "@example.com"]}},
        "flags": {
            "ok": {"state": "ENABLED", "variants": {"on": True, "off": False},
                   "defaultVariant": "off", "targeting": {"if": [{"$ref": "staff"}, "on", None]}},
            "bad": {"state": "ENABLED", "variants": {"on": True, "off": False},
                    "defaultVariant": "off", "targeting": {"if": [{"$ref": "staf"}, "on", None]}},
        },
    }  # fmt: skip
    loaded = definitions.load_document(document, "flags.json")
    assert loaded.flags["ok"].targeting == {
        "if": [{"ends_with": [{"var": "email"}, "@example.com"]}, "on", None]
    }
    assert [p.pointer for p in loaded.problems] == ["/flags/bad/targeting/if/0"]
    assert "unknown evaluator 'staf' in $ref (known: staff)" in loaded.problems[0].reason


def test_invalid_json_names_line_and_column() -> None:
    loaded = definitions.load_text('{"flags": {\n  "a": }\n}', "flags.json")
    assert [str(p) for p in loaded.problems] == [
        "flags.json: /: invalid JSON at line 2 column 8: Expecting value"
    ]


def test_the_array_form_is_flagds_daemon_form_only() -> None:
    document = {"flags": [{"key": "a", "state": "ENABLED", "variants": {"x": 1},
                           "defaultVariant": "x"}]}  # fmt: skip
    assert definitions.load_document(document, "f.json", allow_array=True).flags.keys() == {"a"}
    refused = definitions.load_document(document, "f.json")
    assert [p.pointer for p in refused.problems] == ["/flags"]
