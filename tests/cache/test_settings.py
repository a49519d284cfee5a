"""Where the store lives and how big it may grow: read from the environment, exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.cache import settings
from shipyard.core import errors


def test_default_root_prefers_shipyard_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPYARD_HOME", "/srv/shipyard")
    monkeypatch.setenv("XDG_DATA_HOME", "/data")
    assert settings.default_root() == Path("/srv/shipyard/cache")


def test_default_root_falls_back_to_xdg_data_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHIPYARD_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", "/data")
    assert settings.default_root() == Path("/data/shipyard/cache")


def test_default_root_falls_back_to_local_share(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SHIPYARD_HOME", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert settings.default_root() == tmp_path / ".local" / "share" / "shipyard" / "cache"


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("0", 0),
        ("1234", 1234),
        ("1K", 1024),
        ("500M", 500 * 1024**2),
        ("2G", 2 * 1024**3),
        ("2g", 2 * 1024**3),
        ("10GiB", 10 * 1024**3),
        ("1.5G", 3 * 1024**3 // 2),
        ("1T", 1024**4),
        (" 3 MB ", 3 * 1024**2),
    ],
)
def test_parse_size(text: str, size: int) -> None:
    assert settings.parse_size(text) == size


@pytest.mark.parametrize("text", ["", "G", "-1G", "2X", "1e3", "two"])
def test_parse_size_rejects_what_is_not_a_size(text: str) -> None:
    with pytest.raises(errors.UsageError) as caught:
        settings.parse_size(text, source="--max-size")
    assert caught.value.render() == (
        f"--max-size: {text!r} is not a size\n"
        "  hint: write a size such as 500M, 2G or 10GiB (K, M, G and T are powers of 1024)"
    )


def test_max_bytes_default_and_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHIPYARD_CACHE_MAX_SIZE", raising=False)
    assert settings.max_bytes_from_env() == 10 * 1024**3
    monkeypatch.setenv("SHIPYARD_CACHE_MAX_SIZE", "500M")
    assert settings.max_bytes_from_env() == 500 * 1024**2
    monkeypatch.setenv("SHIPYARD_CACHE_MAX_SIZE", "lots")
    with pytest.raises(errors.UsageError) as caught:
        settings.max_bytes_from_env()
    assert caught.value.headline() == "SHIPYARD_CACHE_MAX_SIZE: 'lots' is not a size"


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (200 * 1024**2, "200.0 MiB"),
        (10 * 1024**3, "10.0 GiB"),
        (3 * 1024**5, "3072.0 TiB"),
    ],
)
def test_format_size(size: int, text: str) -> None:
    assert settings.format_size(size) == text
