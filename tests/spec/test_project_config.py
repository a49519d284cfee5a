"""``config`` with declared types and ``vars`` in shipyard.yaml: values, layers and errors."""

from __future__ import annotations

import textwrap

import pytest

from shipyard.core import errors
from shipyard.spec import project_loader

BASE = """\
app: shop
services: {web: {run: python -m shop}}
"""


def load(extra: str):  # type: ignore[no-untyped-def]
    return project_loader.load_project(BASE + textwrap.dedent(extra), path="shipyard.yaml")


def problems(extra: str) -> list[str]:
    with pytest.raises(errors.SpecErrors) as caught:
        load(extra)
    return [error.headline() for error in caught.value.errors]


def test_declared_types_defaults_and_vars() -> None:
    project = load(
        """\
        vars: {REGION: eu-west}
        config:
          LOG_LEVEL: {type: enum, values: [debug, info], default: info}
          WORKERS: {type: int, default: 4}
          API_URL: {type: url}
          TOKEN: ${{ secrets.API_TOKEN }}
          PLAIN: hello
        environments:
          staging:
            vars: {REGION: us-east}
            config: {LOG_LEVEL: debug, API_URL: "https://staging.example.com"}
        """
    )
    assert project.config == {
        "LOG_LEVEL": "info",
        "WORKERS": "4",
        "TOKEN": "${{ secrets.API_TOKEN }}",
        "PLAIN": "hello",
    }
    spec = project.config_spec
    assert spec.declarations["API_URL"].required
    assert spec.declarations["LOG_LEVEL"].choices == ("debug", "info")
    assert spec.vars_for("staging") == {"REGION": "us-east"}
    assert project.environment_config("staging")["LOG_LEVEL"] == "debug"
    location, key_path = spec.where("staging", "API_URL")
    assert (str(location), key_path) == (
        "shipyard.yaml:13:41",
        "environments.staging.config.API_URL",
    )


def test_values_that_do_not_fit_their_type_are_reported_where_written() -> None:
    assert problems(
        """\
        config:
          WORKERS: {type: int, default: many}
          TIMEOUT: {type: duration, default: 30s}
          MODE: {type: enum, values: [a, b]}
          FLAG: {type: bool}
        environments:
          staging:
            config: {TIMEOUT: soon, MODE: c, FLAG: "yes"}
        """
    ) == [
        "shipyard.yaml:4:33: config.WORKERS: expected an integer, found `many`",
        "shipyard.yaml:10:23: environments.staging.config.TIMEOUT: "
        "expected a duration like 30s, 5m or 1h30m, found `soon`",
        "shipyard.yaml:10:35: environments.staging.config.MODE: expected one of a, b, found `c`",
        "shipyard.yaml:10:44: environments.staging.config.FLAG: expected true or false, "
        "found `yes`",
    ]


def test_declarations_need_a_known_type() -> None:
    found = problems(
        """\
        config:
          A: {type: number}
          B: {default: 1}
          C: {type: string, values: [x]}
        vars: {V: "${{ secrets.X }}"}
        """
    )
    assert found == [
        "shipyard.yaml:4:13: config.A.type: unknown value `number`",
        "shipyard.yaml:5:6: config.B: missing `type`",
        "shipyard.yaml:6:21: config.C.values: `values` is only for `type: enum`",
        "shipyard.yaml:7:11: vars.V: `vars` hold plain values",
    ]
