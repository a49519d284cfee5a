"""age identities and recipients: where private keys come from and how a data key is wrapped.

Private keys are read from ``SHIPYARD_AGE_KEY`` (the key itself), ``SHIPYARD_AGE_KEY_FILE`` (a
key file) or every file in ``$SHIPYARD_HOME/keys/``, in that order, in age's key-file format
(``# comments`` and ``AGE-SECRET-KEY-1…`` lines, as ``age-keygen`` and ``sops`` use). A key file
that its group or others may read is refused, with the ``chmod`` that fixes it. All age
cryptography is pyrage's; this module only chooses keys and words the errors.
"""

from __future__ import annotations

import datetime
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyrage  # type: ignore[import-untyped]

from shipyard.core import errors, files
from shipyard.core.frozen import frozen

KEY_ENV = "SHIPYARD_AGE_KEY"
KEY_FILE_ENV = "SHIPYARD_AGE_KEY_FILE"
_SECRET_PREFIX = "AGE-SECRET-KEY-1"


@frozen
class Identity:
    """One private key and where it came from (for messages; never the key itself)."""

    key: pyrage.x25519.Identity
    public: str
    source: str

    def __repr__(self) -> str:
        return f"Identity({self.public} from {self.source})"


def keys_dir(home: Path) -> Path:
    return home / "keys"


def parse_identities(text: str, *, source: str) -> list[Identity]:
    """The identities in an age key file's text; comments and blank lines are skipped."""
    found = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not line.upper().startswith(_SECRET_PREFIX):
            raise errors.UserError(
                f"{source}:{number}: not an age private key (expected AGE-SECRET-KEY-1…)",
                hint="create a key with `shipyard secrets keygen`",
            )
        try:
            key = pyrage.x25519.Identity.from_str(line.upper())
        except pyrage.IdentityError:
            raise errors.UserError(
                f"{source}:{number}: the age private key is malformed",
                hint="check that the whole line was copied",
            ) from None
        found.append(Identity(key, str(key.to_public()), source))
    return found


def check_private(path: Path) -> None:
    """Refuse a key file that anyone but its owner may read."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise errors.UserError(
            f"the key file {path} may be read by others (mode {mode:04o})",
            hint=f"run `chmod 600 {path}`",
        )


def read_key_file(path: Path) -> list[Identity]:
    try:
        check_private(path)
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise errors.UserError(
            f"cannot read the key file {path}: {error.strerror}", hint="check the path"
        ) from None
    return parse_identities(text, source=str(path))


def load_identities(home: Path, environ: Mapping[str, str] | None = None) -> list[Identity]:
    """Every identity available: the environment variables first, then ``$SHIPYARD_HOME/keys``."""
    env = os.environ if environ is None else environ
    found: list[Identity] = []
    if env.get(KEY_ENV):
        found.extend(parse_identities(env[KEY_ENV], source=f"${KEY_ENV}"))
    if env.get(KEY_FILE_ENV):
        found.extend(read_key_file(Path(env[KEY_FILE_ENV])))
    directory = keys_dir(home)
    if directory.is_dir():
        for path in sorted(directory.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                found.extend(read_key_file(path))
    return found


def keygen(home: Path, name: str = "default") -> tuple[Path, str]:
    """A new identity in ``$SHIPYARD_HOME/keys/<name>.txt`` (mode 0600); returns its public key."""
    directory = keys_dir(home)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / f"{name}.txt"
    key = pyrage.x25519.Identity.generate()
    public = str(key.to_public())
    created = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = f"# created: {created}\n# public key: {public}\n{key}\n"
    try:
        files.create_private(path, text)
    except FileExistsError:
        raise errors.UsageError(
            f"the key file {path} already exists",
            hint="pass --name to create another key, or use the existing one",
        ) from None
    return path, public


def parse_recipient(text: str, *, where: str) -> pyrage.x25519.Recipient:
    try:
        return pyrage.x25519.Recipient.from_str(text.strip())
    except pyrage.RecipientError:
        raise errors.UserError(
            f"{where}: `{text.strip()}` is not an age public key (age1…)",
            hint="print yours with `shipyard secrets keygen` or `age-keygen -y KEYFILE`",
        ) from None


def encrypt_data_key(data_key: bytes, recipient: str) -> str:
    """The data key as an armored age file for one recipient (one stanza per recipient, as SOPS)."""
    parsed = parse_recipient(recipient, where="recipient")
    armored: bytes = pyrage.encrypt(data_key, [parsed], armored=True)
    return armored.decode("ascii")


def decrypt_data_key(
    stanzas: Sequence[tuple[str, str]], identities: Sequence[Identity], *, file: str
) -> bytes:
    """The data key from the stanza of a recipient we hold the identity of."""
    recipients = [recipient for recipient, _ in stanzas]
    if not identities:
        raise errors.UserError(
            f"cannot decrypt {file}: no age private key found",
            hint=f"set ${KEY_ENV} or ${KEY_FILE_ENV}, or put a key in $SHIPYARD_HOME/keys/; "
            f"the file can be opened by: {', '.join(recipients)}",
        )
    by_public = {identity.public: identity for identity in identities}
    ordered = sorted(stanzas, key=lambda stanza: stanza[0] not in by_public)
    keys = [identity.key for identity in identities]
    for _, enc in ordered:
        try:
            return bytes(pyrage.decrypt(enc.encode("ascii"), keys))
        except (pyrage.DecryptError, UnicodeEncodeError):
            continue
    yours = ", ".join(sorted(by_public))
    raise errors.UserError(
        f"cannot decrypt {file}: none of your age keys ({yours}) is one of its recipients",
        hint=f"the file can be opened by: {', '.join(recipients)}; ask a holder of one of these "
        "keys to run `shipyard secrets recipients add ENV YOUR_PUBLIC_KEY`",
    )
