"""The baseline file: fingerprints of accepted findings, which no longer fail the gate.

JSON, reviewable in a diff: each entry keeps the rule and the path beside the fingerprint so a
reviewer sees what was accepted (never a secret: fingerprints are hashes). Written to a temporary
file and renamed, so a failed write leaves the previous baseline intact.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from shipyard.core import errors
from shipyard.security import findings

DEFAULT_PATH = ".shipyard/security-baseline.json"
"""Where the baseline lives unless ``security.baseline`` or ``--baseline`` says otherwise."""
FORMAT_VERSION = 1


def load(path: Path, shown: str | None = None) -> frozenset[str]:
    """The fingerprints in a baseline file; empty when the file does not exist."""
    shown = shown or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return frozenset()
    except OSError as error:
        raise errors.UsageError(
            f"cannot read the baseline {shown}: {error.strerror}",
            hint="check the path given by --baseline or `security.baseline`",
        ) from error
    try:
        data = json.loads(text)
        entries = data["findings"]
        return frozenset(str(entry["fingerprint"]) for entry in entries)
    except (ValueError, KeyError, TypeError) as error:
        raise errors.SpecError(
            f"{shown} is not a Shipyard security baseline ({error.__class__.__name__}: {error})",
            location=errors.SourceLocation(shown, 1, 1),
            hint="recreate it with `shipyard scan --update-baseline`",
        ) from error


def save(path: Path, found: Iterable[findings.Finding]) -> int:
    """Record every current finding (suppressed inline ones left out); how many were written."""
    entries = sorted(
        (
            {
                "fingerprint": finding.fingerprint,
                "rule": finding.rule_id,
                "path": finding.location.path,
            }
            for finding in found
            if finding.suppressed != "inline"
        ),
        key=lambda entry: (entry["path"], entry["rule"], entry["fingerprint"]),
    )
    unique = list({entry["fingerprint"]: entry for entry in entries}.values())
    text = json.dumps({"version": FORMAT_VERSION, "findings": unique}, indent=2) + "\n"
    write_atomically(path, text, "baseline")
    return len(unique)


def write_atomically(path: Path, text: str, what: str = "file") -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory.

    A failure is a UsageError naming ``what`` and the path; the previous file stays as it was.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as error:
        raise _unwritable(what, path, error) from error
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise _unwritable(what, path, error) from error
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _unwritable(what: str, path: Path, error: OSError) -> errors.UsageError:
    return errors.UsageError(
        f"cannot write the {what} {path}: {error.strerror or error}",
        hint="choose a directory you can write to",
    )
