"""What a job's result depends on: the job cache key, one digest per kind of input.

A job run here sees only its own workspace (the checked-out commit), the values the run gives it
(env, vars, secrets, inputs, the event, the outputs of the jobs it needs), its own definition
after the matrix is chosen, and the tools on this machine. The key hashes each of those
separately, so a miss can say which one changed. Secret values are hashed, never stored.

A job is never cached when its definition says so (``x-shipyard: {cache: false}``), when it uses
secrets and its workflow did not opt in, when it deploys to an ``environment``, when it calls a
reusable workflow, or when it reads run-specific values (``github.run_id`` ...) that differ in
every run by design.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import shipyard
from shipyard.core.frozen import frozen
from shipyard.pipeline.run import repository
from shipyard.spec import workflow

_SECRET_REFERENCE = re.compile(r"secrets\s*(\.|\[)\s*'?(?!github_token\b)", re.IGNORECASE)
_RUN_SPECIFIC = re.compile(r"github\s*\.\s*(run_id|run_number|run_attempt)\b", re.IGNORECASE)
_COMMIT_SPECIFIC = re.compile(r"\bsha\b|github\s*\.\s*event\b|GITHUB_EVENT_PATH", re.IGNORECASE)
r"""A job that mentions these sees the commit id or the event: both then belong in its key.
Otherwise the commit's files stand for the commit, so a new commit with the same files hits.

The three are searched for in the job's strings joined by NULs, which none of them can match
across (``\s`` and ``\w`` match no NUL), so one search stands for one per string."""


@frozen
class JobKey:
    """``identity`` names the job across runs; ``digest`` its inputs in this run."""

    identity: str
    components: Mapping[str, str]
    digest: str


@frozen
class Uncacheable:
    """Why a job is not looked up nor recorded."""

    reason: str


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}
"""Per class: the dataclass fields a key reads (``source`` left out), or None for other types."""


def _field_names(kind: type) -> tuple[str, ...] | None:
    if kind in _FIELD_NAMES:
        return _FIELD_NAMES[kind]
    names = (
        tuple(field.name for field in dataclasses.fields(kind) if field.name != "source")
        if dataclasses.is_dataclass(kind)
        else None
    )
    _FIELD_NAMES[kind] = names
    return names


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any) -> Any:
    """A model as plain data without its source positions."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    names = _FIELD_NAMES[kind] if kind in _FIELD_NAMES else _field_names(kind)
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _strings(value: Any) -> list[str]:
    """Every string in plain data, in no particular order."""
    found: list[str] = []
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return found


def settings_for(spec: workflow.Workflow, job: workflow.Job) -> workflow.CacheSettings:
    """The job's cache settings: its own, else its workflow's, else the defaults."""
    return job.x_shipyard.cache or spec.x_shipyard.cache or workflow.CacheSettings()


@frozen
class _JobFacts:
    """What the key needs from a job's definition; the same for every matrix combination."""

    spec: workflow.Workflow
    """Held, so that no other workflow can be given its ``id`` while this is cached."""
    definition: Any
    text: str
    """Every string of the job's definition and of the workflow's env, joined by NULs."""


_facts: dict[tuple[int, str], _JobFacts] = {}
_FACTS_KEPT = 1024
"""A server runs workflow after workflow in one process: the cache is emptied past this size."""


def _job_facts(spec: workflow.Workflow, job: workflow.Job) -> _JobFacts:
    known = _facts.get((id(spec), job.id))
    if known is None:
        plain_job, plain_env = _plain(job), _plain(spec.env)
        known = _JobFacts(
            spec=spec,
            definition={
                "job": plain_job,
                "workflow_env": plain_env,
                "defaults": _plain(spec.defaults),
            },
            text="\0".join([*_strings(plain_job), *_strings(plain_env)]),
        )
        if len(_facts) >= _FACTS_KEPT:
            _facts.clear()
        _facts[(id(spec), job.id)] = known
    return known


def refusal(spec: workflow.Workflow, job: workflow.Job) -> Uncacheable | None:
    """Why this job must not be cached, or None."""
    settings = settings_for(spec, job)
    if not settings.enabled:
        return Uncacheable("x-shipyard.cache is false")
    if job.uses is not None:
        return Uncacheable("it calls a reusable workflow (its jobs are cached one by one)")
    if job.environment is not None:
        return Uncacheable("it deploys to an environment")
    text = _job_facts(spec, job).text
    if _RUN_SPECIFIC.search(text):
        return Uncacheable("it reads github.run_id, run_number or run_attempt")
    if not settings.secrets and _SECRET_REFERENCE.search(text):
        return Uncacheable("it uses secrets (opt in with x-shipyard: {cache: {secrets: true}})")
    return None


@functools.lru_cache(maxsize=64)
def files_digest(root: Path, sha: str, inputs: tuple[str, ...]) -> str | None:
    """The commit's tree, or only the files matching ``inputs``; None outside git."""
    if not sha:
        return None
    if not inputs:
        return repository.tree_of(root, sha)
    listing = _git(root, "ls-tree", "-r", "--full-tree", sha)
    if listing is None:
        return None
    kept = []
    for line in listing.splitlines():
        meta, _, path = line.partition("\t")
        if any(_glob_match(path, glob) for glob in inputs):
            kept.append(f"{meta}\t{path}")
    return hashlib.sha256("\n".join(kept).encode("utf-8")).hexdigest()


def _glob_match(path: str, glob: str) -> bool:
    """``**`` matches any number of directories, ``*`` and ``?`` stay within one."""
    pattern = ""
    index = 0
    while index < len(glob):
        char = glob[index]
        if glob.startswith("**/", index):
            pattern += "(?:.*/)?"
            index += 3
            continue
        if glob.startswith("**", index):
            pattern += ".*"
            index += 2
            continue
        pattern += {"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char))
        index += 1
    return re.fullmatch(pattern, path) is not None


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=False, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def compute(
    *,
    spec: workflow.Workflow,
    job: workflow.Job,
    matrix: Mapping[str, Any] | None,
    strategy: Mapping[str, Any],
    needs: Mapping[str, Any],
    root: Path,
    sha: str,
    values: Mapping[str, Any],
    secrets: Mapping[str, str],
    tools: str,
) -> JobKey | Uncacheable:
    """The key of one job instance, or why it has none."""
    refused = refusal(spec, job)
    if refused is not None:
        return refused
    settings = settings_for(spec, job)
    files = files_digest(root, sha, settings.inputs)
    if files is None:
        return Uncacheable("the repository is not a git repository with a commit")
    identity = _digest({"workflow": spec.path, "job": job.id, "matrix": matrix})
    facts = _job_facts(spec, job)
    if not _COMMIT_SPECIFIC.search(facts.text):
        values = {k: v for k, v in values.items() if k not in {"event", "sha"}}
    components = {
        "definition": _digest({**facts.definition, "matrix": matrix, "strategy": strategy}),
        "files": files,
        "values": _digest(values),
        "secrets": _digest(sorted(secrets.items())) if settings.secrets else _digest(None),
        "needs": _digest(needs),
        "tools": tools,
        "shipyard": shipyard.__version__,
    }
    return JobKey(identity=identity, components=components, digest=_digest(components))
