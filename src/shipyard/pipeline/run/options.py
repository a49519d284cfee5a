"""What a run is asked to do: the typed form of ``shipyard run``'s flags."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import field
from pathlib import Path
from typing import Any

from shipyard.core.frozen import frozen
from shipyard.pipeline.actions import interface


def default_home() -> Path:
    """``$SHIPYARD_HOME``, else ``~/.local/share/shipyard``."""
    configured = os.environ.get("SHIPYARD_HOME")
    if configured:
        return Path(configured)
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "shipyard"


@frozen
class RunOptions:
    """Everything a run needs to know before it starts."""

    repository: interface.RepositoryInfo
    home: Path
    event_name: str = "push"
    event: Mapping[str, Any] = field(default_factory=dict)
    inputs: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    variables: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    jobs: tuple[str, ...] = ()
    """Only these jobs (and the jobs they need); empty means all."""
    matrix: Mapping[str, str] = field(default_factory=dict)
    """Only matrix combinations whose values match these (compared as strings)."""
    parallel_jobs: int = field(default_factory=lambda: os.cpu_count() or 2)
    label_map: Mapping[str, str] = field(default_factory=dict)
    """runs-on label -> ``local`` (run here) or another label it stands for."""
    actor: str = field(default_factory=lambda: os.environ.get("USER", "shipyard"))
    run_number: int = 1
    kill_grace: float = 2.5
    """Seconds between SIGINT, SIGTERM and SIGKILL when a step is stopped."""
    use_cache: bool = True
    """Replay jobs whose inputs are unchanged from the job cache (``--no-cache`` turns it off)."""
    explain_cache: bool = False
    """Say why each job missed the job cache."""
    environment_loader: Callable[[str], tuple[Mapping[str, str], Mapping[str, str]]] | None = None
    """An environment's (secrets, vars), for jobs with ``environment:`` (None: they get none)."""
