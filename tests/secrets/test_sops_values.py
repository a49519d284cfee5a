"""SOPS values: round trips, Go's number formatting, associated data and the MAC."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shipyard.secrets import sops_values

KEY = bytes(range(32))


@given(
    value=st.one_of(
        st.text(min_size=1),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.booleans(),
        st.floats(allow_nan=False, allow_infinity=False),
    ),
    path=st.lists(st.text(alphabet="abc_", min_size=1, max_size=5), max_size=3),
)
def test_a_value_comes_back_with_its_type(value: sops_values.Scalar, path: list[str]) -> None:
    aad = sops_values.additional_data(path)
    token = sops_values.encrypt(value, KEY, aad)
    back = sops_values.decrypt(token, KEY, aad)
    assert type(back) is type(value)
    assert back == value


def test_a_value_under_another_key_path_does_not_decrypt() -> None:
    token = sops_values.encrypt("hunter2-hunter2", KEY, "db:password:")
    with pytest.raises(sops_values.BadValue) as caught:
        sops_values.decrypt(token, KEY, "api:token:")
    assert caught.value.reason.startswith("its authentication tag does not match")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.5, "1.5"),
        (1.0, "1"),
        (1e20, "100000000000000000000"),
        (0.1, "0.1"),
        (-2.5e-7, "-0.00000025"),
    ],
)
def test_floats_are_written_as_go_formats_them(value: float, text: str) -> None:
    assert sops_values.format_float(value) == text


def test_booleans_enter_the_mac_title_cased_as_in_sops() -> None:
    assert sops_values.to_bytes(True) == b"True"
    assert sops_values.compute_mac(["a", 1, True]) == sops_values.compute_mac(["a1True"])
    assert sops_values.compute_mac(["x"], only_encrypted=True) != sops_values.compute_mac(["x"])
