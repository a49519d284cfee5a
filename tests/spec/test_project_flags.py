"""The flags parts of shipyard.yaml: the flags file and per-environment overrides."""

from __future__ import annotations

import pytest

from shipyard.core import errors
from shipyard.spec import project_loader

PROJECT = """\
app: shop
services: {web: {run: x}}
flags: config/flags.json
environments:
  staging:
    flags:
      new-checkout: {state: ENABLED, defaultVariant: "on"}
      banner:
        targeting: {fractional: [["on", 10], ["off", 90]]}
  production:
    flags:
      banner: {defaultVariant: null, targeting: null}
"""


def test_the_flags_file_and_overrides_are_read() -> None:
    loaded = project_loader.load_project(PROJECT, path="shipyard.yaml")
    assert loaded.flags.file == "config/flags.json"
    staging = loaded.environments["staging"].flags
    assert dict(staging["new-checkout"].fields) == {"state": "ENABLED", "defaultVariant": "on"}
    assert dict(staging["banner"].fields) == {
        "targeting": {"fractional": [["on", 10], ["off", 90]]}
    }
    production = loaded.environments["production"].flags
    assert dict(production["banner"].fields) == {"defaultVariant": None, "targeting": None}
    assert str(staging["banner"].location) == "shipyard.yaml:8:7"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("flags: /etc/flags.json\n", "shipyard.yaml:3:8: flags: the flags file `/etc/flags.json` "
         "must be inside the repository"),
        ("flags: ../flags.json\n", "shipyard.yaml:3:8: flags: the flags file `../flags.json` "
         "must be inside the repository"),
        ("flags: [a]\n", "shipyard.yaml:3:8: flags: expected a string, found a list"),
        ("environments: {s: {flags: {f: {state: ON}}}}\n",
         "shipyard.yaml:3:39: environments.s.flags.f.state: unknown state `ON`"),
        ("environments: {s: {flags: {f: {stat: ENABLED}}}}\n",
         "shipyard.yaml:3:32: environments.s.flags.f.stat: unknown key `stat`"),
        ("environments: {s: {flags: {f: {targeting: [1]}}}}\n",
         "shipyard.yaml:3:43: environments.s.flags.f.targeting: expected a JsonLogic rule"),
        ("environments: {s: {flags: [f]}}\n",
         "shipyard.yaml:3:27: environments.s.flags: expected a mapping of flag key"),
    ],
)  # fmt: skip
def test_problems_name_file_line_and_column(text: str, expected: str) -> None:
    with pytest.raises(errors.SpecError) as raised:
        project_loader.load_project(
            "app: a\nservices: {w: {run: x}}\n" + text, path="shipyard.yaml"
        )
    assert raised.value.render().startswith(expected), raised.value.render()
