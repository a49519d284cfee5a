from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from shipyard.core import errors
from shipyard.spec import yaml_composer, yamlsource


@pytest.fixture(params=["libyaml", "pure"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run a test against both event sources: libyaml and ruamel's pure-Python parser."""
    if request.param == "pure":
        monkeypatch.setattr(yaml_composer, "events", yaml_composer._pure_events)
    yield request.param


TAG_HINT = "remove the tag; workflows use plain strings, numbers, booleans, lists and mappings"


def parse(text: str) -> yamlsource.Document:
    return yamlsource.parse(text, path="w.yml")


def value_of(text: str) -> object:
    document = parse(text)
    assert document.problems == ()
    assert document.root is not None
    return yamlsource.to_value(document.root)


def syntax_error(text: str) -> str:
    with pytest.raises(errors.SpecError) as caught:
        parse(text)
    return caught.value.render()


@pytest.mark.usefixtures("backend")
def test_yaml_1_2_core_schema() -> None:
    text = (
        "on: push\nyes: no\nversion: 3.10\nhex: 0x1F\noct: 0o17\nnothing: ~\nempty:\n"
        "quoted: 'true'\nflag: True\nexp: 1e3\nneg: -.inf\nstr: 1_000\ntext: 12abc\n"
    )
    assert value_of(text) == {
        "on": "push",
        "yes": "no",
        "version": 3.1,
        "hex": 31,
        "oct": 15,
        "nothing": None,
        "empty": None,
        "quoted": "true",
        "flag": True,
        "exp": 1000.0,
        "neg": -math.inf,
        "str": "1_000",
        "text": "12abc",
    }


@pytest.mark.usefixtures("backend")
def test_nan_and_huge_integers_resolve_to_floats() -> None:
    values = value_of("a: .nan\nb: " + "9" * 5000 + "\n")
    assert isinstance(values, dict)
    assert math.isnan(values["a"])
    assert values["b"] == math.inf


@pytest.mark.usefixtures("backend")
def test_core_tags_convert_and_others_are_problems() -> None:
    document = parse("a: !!str 12\nb: !!float 1\nc: !!int x\nd: !foo y\ne: ! 5\nf: !!set {}\n")
    assert document.root is not None
    assert yamlsource.to_value(document.root) == {
        "a": "12",
        "b": 1.0,
        "c": "x",
        "d": "y",
        "e": "5",
        "f": {},
    }
    assert [problem.render() for problem in document.problems] == [
        "w.yml:3:4: c: `x` is not a valid `!!int`\n  hint: remove the tag or correct the value",
        f"w.yml:4:4: d: unsupported YAML tag `!foo`\n  hint: {TAG_HINT}",
        f"w.yml:6:4: f: unsupported YAML tag `!!set`\n  hint: {TAG_HINT}",
    ]


@pytest.mark.usefixtures("backend")
def test_positions_are_one_based_and_count_characters() -> None:
    document = parse("é: ü\njobs:\n  build:\n    runs-on: [a, 😀, b]\n")
    root = document.root
    assert isinstance(root, yamlsource.MappingNode)
    assert root.location == errors.SourceLocation("w.yml", 1, 1)
    assert root.entries["é"].value.location == errors.SourceLocation("w.yml", 1, 4)
    build = root.entries["jobs"].value
    assert isinstance(build, yamlsource.MappingNode)
    job = build.entries["build"]
    assert job.key_location == errors.SourceLocation("w.yml", 3, 3)
    assert isinstance(job.value, yamlsource.MappingNode)
    labels = job.value.entries["runs-on"].value
    assert isinstance(labels, yamlsource.SequenceNode)
    assert [item.location.column for item in labels.items] == [15, 18, 21]


@pytest.mark.usefixtures("backend")
def test_anchors_aliases_and_merge_keys() -> None:
    text = (
        "defaults: &defaults {runs-on: ubuntu-latest, timeout-minutes: 5}\n"
        "more: &more {env: {A: 1}, timeout-minutes: 9}\n"
        "job:\n"
        "  name: first\n"
        "  <<: [*defaults, *more]\n"
        "  timeout-minutes: 10\n"
        "copy: *defaults\n"
    )
    document = parse(text)
    assert document.problems == ()
    root = document.root
    assert isinstance(root, yamlsource.MappingNode)
    assert yamlsource.to_value(root)["job"] == {
        "name": "first",
        "runs-on": "ubuntu-latest",
        "env": {"A": 1},
        "timeout-minutes": 10,
    }
    job = root.entries["job"].value
    assert isinstance(job, yamlsource.MappingNode)
    assert list(job.entries) == ["name", "runs-on", "env", "timeout-minutes"]
    # A merged key keeps the position where its value was written.
    assert job.entries["runs-on"].value.location == errors.SourceLocation("w.yml", 1, 31)
    assert root.entries["copy"].value is root.entries["defaults"].value


@pytest.mark.usefixtures("backend")
def test_quoted_merge_key_is_an_ordinary_key() -> None:
    assert value_of("a: {'<<': 1}\n") == {"a": {"<<": 1}}


@pytest.mark.usefixtures("backend")
def test_duplicate_and_non_string_keys_are_problems_and_the_first_value_wins() -> None:
    document = parse("a: 1\nb:\n  c: 1\n  c: 2\na: 3\n? [x]\n: 4\n? {y: 1}\n: 5\n")
    assert document.root is not None
    assert yamlsource.to_value(document.root) == {"a": 1, "b": {"c": 1}}
    assert [problem.render() for problem in document.problems] == [
        "w.yml:4:3: b.c: duplicate key `c`\n"
        "  hint: the first `c` is at line 3, column 3; remove one of them",
        "w.yml:5:1: a: duplicate key `a`\n"
        "  hint: the first `a` is at line 1, column 1; remove one of them",
        "w.yml:6:3: a key must be a string, found a list\n  hint: write the key as plain text",
        "w.yml:8:3: a key must be a string, found a mapping\n  hint: write the key as plain text",
    ]


@pytest.mark.usefixtures("backend")
def test_merge_of_a_scalar_is_a_problem() -> None:
    document = parse("a:\n  <<: 1\n  b: 2\n")
    assert [problem.render() for problem in document.problems] == [
        "w.yml:2:7: a: a merge key (`<<`) takes a mapping or a list of mappings, "
        "found the number `1`\n  hint: merge an alias of a mapping: `<<: *defaults`"
    ]


@pytest.mark.usefixtures("backend")
def test_empty_and_comment_only_files_have_no_root() -> None:
    assert parse("").root is None
    assert parse("# nothing here\n").root is None


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        (
            "a: b: c\n",
            "w.yml:1:5: invalid YAML: unexpected `:` (a mapping cannot start inside this value)\n"
            "  hint: quote a value that contains `: `, or fix the indentation of this line",
        ),
        (
            "a:\n\t- b\n",
            "w.yml:2:1: invalid YAML: a tab character here; YAML indents with spaces\n"
            "  hint: replace tabs with spaces",
        ),
        (
            "a: 'open\nb: 1\n",
            "w.yml:1:4: invalid YAML: this quote or bracket is never closed\n"
            "  hint: close it before the end of the file",
        ),
        (
            "a: 1\n---\nb: 2\n",
            "w.yml:2:1: a second YAML document starts here, but the file must hold only one\n"
            "  hint: remove the `---` line and everything after it, or move it to its own file",
        ),
        (
            "a: *nope\n",
            "w.yml:1:4: a: alias `*nope` refers to no anchor\n"
            "  hint: define `&nope` on a value above this line",
        ),
        (
            "a: &x [1, *x]\n",
            "w.yml:1:11: a[1]: alias `*x` refers to a collection that contains it\n"
            "  hint: an alias cannot repeat the list or mapping it sits in",
        ),
        (
            "a: \x01\n",
            "w.yml:1:4: the file contains the character U+0001, which YAML does not allow\n"
            '  hint: remove it, or write it as an escape inside double quotes ("\\u0001")',
        ),
        (
            "a: '\ud800'\n",
            "w.yml:1:5: the file contains the character U+D800, which YAML does not allow\n"
            '  hint: remove it, or write it as an escape inside double quotes ("\\ud800")',
        ),
        (
            '"a": "\\q"\n',
            "w.yml:1:7: invalid YAML: unknown escape sequence in a double-quoted string\n"
            "  hint: write a backslash as `\\\\`, or use single quotes",
        ),
    ],
)
@pytest.mark.usefixtures("backend")
def test_syntax_errors_are_plain_spec_errors(text: str, rendered: str) -> None:
    got = syntax_error(text)
    if "escape" in rendered:  # libyaml points at the escaped letter, ruamel at the backslash
        got = got.replace("w.yml:1:8:", "w.yml:1:7:")
    assert got == rendered


@pytest.mark.usefixtures("backend")
def test_deep_nesting_is_refused_without_crashing() -> None:
    rendered = syntax_error("[" * 100_000 + "]" * 100_000)
    assert rendered == (
        "w.yml:1:101: the document nests lists and mappings more than 100 levels deep\n"
        "  hint: flatten the structure"
    )


@pytest.mark.usefixtures("backend")
def test_alias_bombs_are_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    rendered = syntax_error("\n".join(lines) + "\n")
    assert rendered == (
        "w.yml:5:5: a4: the document holds more than 100000 values "
        "(an alias counts every value it repeats)\n"
        "  hint: aliases that repeat aliases grow exponentially; write the values out"
    )


def test_describe_names_the_kind_and_the_text() -> None:
    root = parse("a: [1]\nb: {}\nc: yes\nd: 3.10\ne: true\nf:\ng: ~\n").root
    assert isinstance(root, yamlsource.MappingNode)
    described = {key: yamlsource.describe(entry.value) for key, entry in root.entries.items()}
    assert described == {
        "a": "a list",
        "b": "a mapping",
        "c": "the string `yes`",
        "d": "the number `3.10`",
        "e": "the boolean `true`",
        "f": "an empty value",
        "g": "null (`~`)",
    }
