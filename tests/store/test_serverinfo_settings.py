"""The router's settings read from SHIPYARD_ROUTER_* variables."""

from __future__ import annotations

import pytest

from shipyard.core import errors
from shipyard.store import serverinfo


def test_unset_variables_give_one_worker_and_no_extra_listeners() -> None:
    assert serverinfo.router_settings({}) == serverinfo.RouterSettings(1, None, None)


def test_each_variable_is_read() -> None:
    settings = serverinfo.router_settings(
        {
            "SHIPYARD_ROUTER_WORKERS": "2",
            "SHIPYARD_ROUTER_HOST_PORT": "8080",
            "SHIPYARD_ROUTER_METRICS_PORT": " 9100 ",
        }
    )
    assert settings == serverinfo.RouterSettings(workers=2, host_port=8080, metrics_port=9100)


@pytest.mark.parametrize(
    ("name", "value", "bounds"),
    [
        ("SHIPYARD_ROUTER_WORKERS", "0", "1 to 64"),
        ("SHIPYARD_ROUTER_WORKERS", "-1", "1 to 64"),
        ("SHIPYARD_ROUTER_HOST_PORT", "70000", "1 to 65535"),
        ("SHIPYARD_ROUTER_METRICS_PORT", "metrics", "1 to 65535"),
    ],
)
def test_a_malformed_value_names_the_variable_and_the_fix(
    name: str, value: str, bounds: str
) -> None:
    with pytest.raises(errors.UsageError) as raised:
        serverinfo.router_settings({name: value})
    assert raised.value.message == f"{name}={value!r} is not a number from {bounds}"
    assert raised.value.hint == f"set {name} to a number from {bounds}, or unset it"
