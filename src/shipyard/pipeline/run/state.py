"""What the jobs of one run share: options, the run directory, the masker and the event stream."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipyard.pipeline.run import events, options
from shipyard.secrets import masking
from shipyard.spec import workflow


@dataclass
class RunState:
    """Shared, mutable state of one run. Lives only as long as the run."""

    options: options.RunOptions
    run_id: str
    run_dir: Path
    workflow: workflow.Workflow
    broadcaster: events.Broadcaster
    masker: masking.Masker
    token: str
    event: Mapping[str, Any]
    inputs: Mapping[str, Any]
    secrets: Mapping[str, str]
    cancelled: bool = False
    job_prefix: str = ""
    """Set for the jobs of a called (reusable) workflow: ``caller-job / ``."""
    used_keys: set[str] = field(default_factory=set)

    @property
    def artifacts(self) -> Path:
        return self.run_dir / "artifacts"

    @property
    def tool_cache(self) -> Path:
        return self.options.home / "tool-cache"

    def unique_key(self, wanted: str) -> str:
        """A job key not used before in this run (matrix names can repeat)."""
        key, number = wanted, 2
        while key in self.used_keys:
            key = f"{wanted} #{number}"
            number += 1
        self.used_keys.add(key)
        return key
