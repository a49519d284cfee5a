"""Reading flag files: a flagd document from disk, and a project's flags for one environment.

The only module of ``shipyard.flags`` that reads files. A file that cannot be read or is not JSON
raises a ``SpecError`` naming it; a file whose flags are partly broken loads the good ones and
reports the others as problems (see ``shipyard.flags.definitions``).
"""

from __future__ import annotations

from pathlib import Path

from shipyard.core import errors
from shipyard.flags import definitions, overrides
from shipyard.spec import project

MAX_BYTES = 16 * 1024 * 1024


def read_flag_file(path: Path, *, shown: str | None = None) -> definitions.FlagSet:
    """The flags of a flagd JSON file (both the object and flagd's list form)."""
    name = shown or str(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise errors.SpecError(
                f"{name}: the flags file is larger than {MAX_BYTES // (1024 * 1024)} MiB",
                hint="split the flags into smaller files",
            )
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise errors.SpecError(
            f"{name}: no such flags file", hint="create it, or fix `flags:` in shipyard.yaml"
        ) from None
    except UnicodeDecodeError:
        raise errors.SpecError(f"{name}: the flags file is not UTF-8 text") from None
    except OSError as error:
        raise errors.SpecError(f"{name}: cannot read the flags file: {error.strerror}") from None
    return definitions.load_text(text, name, allow_array=True)


def project_flags(
    root: Path, loaded: project.Project, environment: str | None
) -> definitions.FlagSet:
    """The project's flags, with ``environments.<environment>.flags`` applied."""
    if loaded.flags.file is None:
        raise errors.SpecError(
            f"{loaded.path}: the project has no flags file",
            hint="add `flags: flags.json` to shipyard.yaml (flagd's JSON format)",
        )
    flags = read_flag_file(root / loaded.flags.file, shown=loaded.flags.file)
    if environment is None:
        return flags
    if environment not in loaded.environments:
        raise errors.SpecError(
            f"{loaded.path}: unknown environment `{environment}`",
            hint="declare it under `environments:` in shipyard.yaml",
        )
    changes = [
        overrides.Override.from_fields(key, str(item.location or loaded.path), item.fields)
        for key, item in loaded.environments[environment].flags.items()
    ]
    return overrides.apply(flags, changes)
