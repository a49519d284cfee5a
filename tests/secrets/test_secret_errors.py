"""Bad input: wrong keys, tampered values and MACs, broken YAML, readable key files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shipyard.core import errors
from shipyard.secrets import age_keys, secret_files
from tests.secrets.conftest import Key, make_key

STAGING = ".shipyard/secrets/staging.yaml"


@pytest.fixture
def written(repo: Path, alice: Key) -> Path:
    secret_files.set_value(repo, "staging", "API_KEY", "k-0123456789", [alice.identity])
    secret_files.set_value(repo, "staging", "db.password", "pw-0123456789", [alice.identity])
    return repo / STAGING


def test_a_wrong_key_names_the_recipients_that_could_decrypt(
    repo: Path, written: Path, alice: Key, tmp_path: Path
) -> None:
    stranger = make_key(tmp_path / "keys", "stranger")
    with pytest.raises(errors.UserError) as caught:
        secret_files.require(repo, "staging", [stranger.identity])
    assert caught.value.message == (
        f"cannot decrypt {STAGING}: none of your age keys ({stranger.public}) is one of its "
        "recipients"
    )
    assert caught.value.hint is not None and alice.public in caught.value.hint


def test_no_key_at_all_says_where_keys_come_from(repo: Path, written: Path, alice: Key) -> None:
    with pytest.raises(errors.UserError) as caught:
        secret_files.require(repo, "staging", [])
    assert caught.value.message == f"cannot decrypt {STAGING}: no age private key found"
    assert caught.value.hint is not None
    assert "SHIPYARD_AGE_KEY" in caught.value.hint and alice.public in caught.value.hint


def test_a_tampered_value_is_refused_naming_its_key_path(
    repo: Path, written: Path, alice: Key
) -> None:
    text = written.read_text()
    token = re.search(r"password: ENC\[AES256_GCM,data:([^,]+),", text)
    assert token is not None
    data = token.group(1)
    flipped = ("A" if data[0] != "A" else "B") + data[1:]
    written.write_text(text.replace(data, flipped, 1))
    with pytest.raises(errors.SpecError) as caught:
        secret_files.require(repo, "staging", [alice.identity])
    assert caught.value.key_path == "db.password"
    assert caught.value.location is not None
    assert (caught.value.location.file, caught.value.location.line) == (STAGING, 3)
    assert "authentication tag does not match" in caught.value.message


def test_a_value_moved_to_another_key_is_refused(repo: Path, written: Path, alice: Key) -> None:
    lines = written.read_text().splitlines()
    api = next(i for i, line in enumerate(lines) if line.startswith("API_KEY:"))
    password = next(i for i, line in enumerate(lines) if "password:" in line)
    api_value = lines[api].split(": ", 1)[1]
    lines[password] = "    password: " + api_value
    written.write_text("\n".join(lines) + "\n")
    with pytest.raises(errors.SpecError) as caught:
        secret_files.require(repo, "staging", [alice.identity])
    assert caught.value.key_path == "db.password"


def test_a_tampered_mac_is_refused(repo: Path, written: Path, alice: Key) -> None:
    text = written.read_text()
    # Replace a value with a validly encrypted one from another file: tags pass, the MAC fails.
    other = repo.parent / "other"
    (other / ".git").mkdir(parents=True)
    secret_files.set_value(other, "staging", "API_KEY", "k-9999999999", [alice.identity])
    secret_files.set_value(other, "staging", "db.password", "pw-0123456789", [alice.identity])
    foreign = (other / STAGING).read_text()
    line = next(line for line in foreign.splitlines() if "mac:" in line)
    own = next(line for line in text.splitlines() if "mac:" in line)
    written.write_text(text.replace(own, line))
    with pytest.raises(errors.SpecError) as caught:
        secret_files.require(repo, "staging", [alice.identity])
    assert caught.value.key_path == "sops.mac"
    # A value removed by hand: every tag still passes, the MAC does not.
    written.write_text("\n".join(ln for ln in text.splitlines() if not ln.startswith("API_KEY")))
    with pytest.raises(errors.SpecError) as removed:
        secret_files.require(repo, "staging", [alice.identity])
    assert removed.value.key_path == "sops.mac"
    assert removed.value.message.startswith("the MAC does not match the values")


def test_broken_yaml_reports_line_and_column_and_nothing_is_overwritten(
    repo: Path, written: Path, alice: Key
) -> None:
    broken = written.read_text().replace("db:\n", "db: [\n", 1)
    written.write_text(broken)
    with pytest.raises(errors.SpecError) as caught:
        secret_files.set_value(repo, "staging", "NEW", "new-value-1", [alice.identity])
    assert caught.value.location is not None
    assert caught.value.location.file == STAGING
    assert caught.value.location.line >= 2
    assert caught.value.message.startswith("invalid YAML")
    assert written.read_text() == broken


def test_a_failed_change_leaves_the_file_as_it_was(repo: Path, written: Path, bob: Key) -> None:
    before = written.read_text()
    with pytest.raises(errors.UserError):
        secret_files.set_value(repo, "staging", "API_KEY", "other-value", [bob.identity])
    assert written.read_text() == before
    assert not [p for p in written.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_key_file_others_can_read_is_refused_with_the_chmod(tmp_path: Path) -> None:
    home = tmp_path / "home"
    path, public = age_keys.keygen(home)
    assert path.stat().st_mode & 0o777 == 0o600
    assert [identity.public for identity in age_keys.load_identities(home, {})] == [public]
    path.chmod(0o640)
    with pytest.raises(errors.UserError) as caught:
        age_keys.load_identities(home, {})
    assert caught.value.message == f"the key file {path} may be read by others (mode 0640)"
    assert caught.value.hint == f"run `chmod 600 {path}`"


def test_keys_come_from_the_environment_variables_first(
    tmp_path: Path, alice: Key, bob: Key
) -> None:
    home = tmp_path / "empty-home"
    found = age_keys.load_identities(
        home,
        {
            age_keys.KEY_ENV: str(alice.identity.key),
            age_keys.KEY_FILE_ENV: str(bob.file),
        },
    )
    assert [identity.public for identity in found] == [alice.public, bob.public]
    assert str(alice.identity.key) not in repr(found)


def test_a_malformed_key_is_reported_with_its_line(tmp_path: Path) -> None:
    with pytest.raises(errors.UserError) as caught:
        age_keys.parse_identities("# comment\nnot-a-key\n", source="keys.txt")
    assert caught.value.message == "keys.txt:2: not an age private key (expected AGE-SECRET-KEY-1…)"
