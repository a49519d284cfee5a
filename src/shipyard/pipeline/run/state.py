"""What the jobs of one run share: options, the run directory, the masker and the event stream."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path
from typing import Any

from shipyard.core.frozen import record
from shipyard.pipeline import artifacts as artifact_files
from shipyard.pipeline.run import events, jobcache, options, process
from shipyard.secrets import masking
from shipyard.spec import workflow


@record
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
    job_cache: jobcache.JobCache | None = None
    recorder: jobcache.JobRecorder = field(default_factory=jobcache.JobRecorder)
    older_pids: frozenset[int] = field(default_factory=process.running_pids)
    """Processes that existed before the run: never one of its jobs' leftovers."""
    tools: str = ""
    """The toolchain digest of this machine, computed once per run for job cache keys."""

    @property
    def artifacts(self) -> Path:
        return self.run_dir / "artifacts"

    def artifact_store(self) -> artifact_files.ArtifactStore:
        """This run's artifacts, their bytes in ``$SHIPYARD_HOME/cache``."""
        return artifact_files.ArtifactStore(self.artifacts, self.options.home / "cache")

    @property
    def tool_cache(self) -> Path:
        """Interpreters' probes and template environments, shared by runs; movable with
        ``SHIPYARD_TOOL_CACHE`` (what ``RUNNER_TOOL_CACHE`` points at)."""
        configured = os.environ.get("SHIPYARD_TOOL_CACHE")
        return Path(configured) if configured else self.options.home / "tool-cache"

    def secrets_without_token(self) -> dict[str, str]:
        """The run's secrets apart from the random ``GITHUB_TOKEN`` (new in every run)."""
        return {k: v for k, v in self.secrets.items() if k != "GITHUB_TOKEN"}

    def unique_key(self, wanted: str) -> str:
        """A job key not used before in this run (matrix names can repeat)."""
        key, number = wanted, 2
        while key in self.used_keys:
            key = f"{wanted} #{number}"
            number += 1
        self.used_keys.add(key)
        return key
