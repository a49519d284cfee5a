"""The ``github`` and ``runner`` contexts, the event payload and the default environment variables.

These are the values GitHub's hosted runner gives every job, rebuilt for a run on this machine:
the same names and shapes, with local values (the local repository, this host, the run directory).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shipyard.core.frozen import frozen
from shipyard.pipeline.actions import interface
from shipyard.pipeline.run import options

SERVER_URL = "https://github.com"
API_URL = "https://api.github.com"
GRAPHQL_URL = "https://api.github.com/graphql"


@frozen
class JobPaths:
    """Where one job's files live inside the run directory."""

    root: Path
    workspace: Path
    temp: Path
    tool_cache: Path
    event_path: Path


def synthesize_event(
    event_name: str, repository: interface.RepositoryInfo, inputs: Mapping[str, Any], actor: str
) -> dict[str, Any]:
    """A minimal payload of the shape GitHub sends, for when no ``--event-path`` is given."""
    owner, _, name = repository.name.partition("/")
    repo = {
        "name": name or owner,
        "full_name": repository.name,
        "owner": {"login": owner, "name": owner},
        "default_branch": "main",
        "html_url": f"{SERVER_URL}/{repository.name}",
    }
    sender = {"login": actor}
    if event_name == "workflow_dispatch":
        return {
            "inputs": {k: str(v) for k, v in inputs.items()},
            "ref": repository.ref,
            "repository": repo,
            "sender": sender,
        }
    if event_name in {"pull_request", "pull_request_target"}:
        head = {"ref": _short_ref(repository.ref), "sha": repository.sha}
        return {
            "action": "opened",
            "number": 1,
            "pull_request": {
                "number": 1,
                "head": head,
                "base": {"ref": "main", "sha": repository.sha},
                "title": "local run",
                "user": sender,
            },
            "repository": repo,
            "sender": sender,
        }
    return {
        "ref": repository.ref,
        "before": "0" * 40,
        "after": repository.sha,
        "head_commit": {"id": repository.sha},
        "commits": [],
        "repository": repo,
        "pusher": {"name": actor},
        "sender": sender,
    }


def _short_ref(ref: str) -> str:
    for prefix in ("refs/heads/", "refs/tags/", "refs/pull/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def ref_type(ref: str) -> str:
    return "tag" if ref.startswith("refs/tags/") else "branch"


def github_context(
    run: options.RunOptions,
    *,
    run_id: str,
    workflow_name: str,
    workflow_path: str,
    job_id: str,
    paths: JobPaths,
    event: Mapping[str, Any],
    token: str,
) -> dict[str, Any]:
    """The ``github`` context of one job."""
    repository = run.repository
    owner = repository.name.partition("/")[0]
    head_ref = base_ref = ""
    if run.event_name in {"pull_request", "pull_request_target"}:
        pull = event.get("pull_request") or {}
        head_ref = str((pull.get("head") or {}).get("ref", ""))
        base_ref = str((pull.get("base") or {}).get("ref", ""))
    return {
        "action": "",
        "action_path": "",
        "action_ref": "",
        "action_repository": "",
        "actor": run.actor,
        "actor_id": "0",
        "api_url": API_URL,
        "base_ref": base_ref,
        "env": "",
        "event": dict(event),
        "event_name": run.event_name,
        "event_path": str(paths.event_path),
        "graphql_url": GRAPHQL_URL,
        "head_ref": head_ref,
        "job": job_id,
        "path": "",
        "ref": repository.ref,
        "ref_name": _short_ref(repository.ref),
        "ref_protected": False,
        "ref_type": ref_type(repository.ref),
        "repository": repository.name,
        "repository_id": "0",
        "repository_owner": owner,
        "repository_owner_id": "0",
        "repositoryUrl": f"git://github.com/{repository.name}.git",
        "retention_days": "90",
        "run_id": run_id,
        "run_number": str(run.run_number),
        "run_attempt": "1",
        "secret_source": "Actions",
        "server_url": SERVER_URL,
        "sha": repository.sha,
        "token": token,
        "triggering_actor": run.actor,
        "workflow": workflow_name,
        "workflow_ref": f"{repository.name}/{workflow_path}@{repository.ref}",
        "workflow_sha": repository.sha,
        "workspace": str(paths.workspace),
    }


def runner_context(paths: JobPaths, *, debug: bool = False) -> dict[str, Any]:
    """The ``runner`` context: this host."""
    host = os.uname()  # what platform.machine() and .system() read, without importing platform
    machine = host.machine.lower()
    arch = {"x86_64": "X64", "amd64": "X64", "aarch64": "ARM64", "arm64": "ARM64"}.get(
        machine, machine.upper()
    )
    return {
        "name": socket.gethostname(),
        "os": host.sysname,
        "arch": arch,
        "temp": str(paths.temp),
        "tool_cache": str(paths.tool_cache),
        "debug": "1" if debug else "",
        "environment": "self-hosted",
    }


def default_environment(github: Mapping[str, Any], runner: Mapping[str, Any]) -> dict[str, str]:
    """The variables GitHub sets in every step, apart from the per-step file paths."""
    env = {
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "SHIPYARD": "true",
        "GITHUB_ACTOR": github["actor"],
        "GITHUB_ACTOR_ID": github["actor_id"],
        "GITHUB_API_URL": github["api_url"],
        "GITHUB_BASE_REF": github["base_ref"],
        "GITHUB_EVENT_NAME": github["event_name"],
        "GITHUB_EVENT_PATH": github["event_path"],
        "GITHUB_GRAPHQL_URL": github["graphql_url"],
        "GITHUB_HEAD_REF": github["head_ref"],
        "GITHUB_JOB": github["job"],
        "GITHUB_REF": github["ref"],
        "GITHUB_REF_NAME": github["ref_name"],
        "GITHUB_REF_PROTECTED": "false",
        "GITHUB_REF_TYPE": github["ref_type"],
        "GITHUB_REPOSITORY": github["repository"],
        "GITHUB_REPOSITORY_ID": github["repository_id"],
        "GITHUB_REPOSITORY_OWNER": github["repository_owner"],
        "GITHUB_REPOSITORY_OWNER_ID": github["repository_owner_id"],
        "GITHUB_RETENTION_DAYS": github["retention_days"],
        "GITHUB_RUN_ATTEMPT": github["run_attempt"],
        "GITHUB_RUN_ID": github["run_id"],
        "GITHUB_RUN_NUMBER": github["run_number"],
        "GITHUB_SERVER_URL": github["server_url"],
        "GITHUB_SHA": github["sha"],
        "GITHUB_TRIGGERING_ACTOR": github["triggering_actor"],
        "GITHUB_WORKFLOW": github["workflow"],
        "GITHUB_WORKFLOW_REF": github["workflow_ref"],
        "GITHUB_WORKFLOW_SHA": github["workflow_sha"],
        "GITHUB_WORKSPACE": github["workspace"],
        "RUNNER_ARCH": runner["arch"],
        "RUNNER_ENVIRONMENT": runner["environment"],
        "RUNNER_NAME": runner["name"],
        "RUNNER_OS": runner["os"],
        "RUNNER_TEMP": runner["temp"],
        "RUNNER_TOOL_CACHE": runner["tool_cache"],
    }
    if runner.get("debug"):
        env["RUNNER_DEBUG"] = "1"
    return env
