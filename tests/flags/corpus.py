"""Where flagd's published schema examples are: the shared corpus beside the repository."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import REPO_ROOT

SCHEMAS = Path(
    os.environ.get(
        "SHIPYARD_FLAGD_SCHEMAS", REPO_ROOT.parent / "shared" / "corpus" / "flagd-schemas"
    )
)
EXAMPLES = SCHEMAS / "json" / "test"
