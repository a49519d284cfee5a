"""GitHub Actions risks in ``.github/workflows``, read with Shipyard's own workflow loader.

Checks: script injection (an attacker-controlled ``${{ github.event.* }}`` value expanded into a
``run:`` script or a github-script), ``pull_request_target`` checking out the pull request's head,
``permissions: write-all`` or no permissions at all, third-party actions not pinned to a commit,
and secrets exposed to every step through workflow- or job-level ``env``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping

from shipyard.core import errors
from shipyard.security import checks, findings, interface
from shipyard.security import files as tree
from shipyard.spec import workflow, workflow_loader

_S = findings.Severity
RULES = checks.rules(
    checks.rule(
        "gha/script-injection",
        "Script injection",
        "An attacker-controlled value is expanded into a script.",
        "Pass the value through an environment variable (`env: TITLE: ${{ "
        'github.event.issue.title }}`) and use `"$TITLE"` in the script, so it is data, '
        "not code.",
        _S.HIGH,
        "actions",
    ),
    checks.rule(
        "gha/pull-request-target-checkout",
        "pull_request_target checks out the PR",
        "A pull_request_target workflow checks out the pull request's code.",
        "pull_request_target runs with the base repository's secrets and a write token; "
        "never build or run the PR's code there. Use `pull_request`, or check out the "
        "base ref only.",
        _S.CRITICAL,
        "actions",
    ),
    checks.rule(
        "gha/write-all",
        "Write-all permissions",
        "The GITHUB_TOKEN gets write access to everything.",
        "Grant only the scopes the job needs, e.g. `permissions: { contents: read }`.",
        _S.HIGH,
        "actions",
    ),
    checks.rule(
        "gha/no-permissions",
        "No permissions set",
        "The workflow does not say what its GITHUB_TOKEN may do.",
        "Add `permissions: { contents: read }` at the top of the workflow (and more per "
        "job where needed); the default depends on repository settings and may be "
        "write-all.",
        _S.MEDIUM,
        "actions",
    ),
    checks.rule(
        "gha/unpinned-action",
        "Unpinned third-party action",
        "A third-party action is referenced by a tag or branch, which can be moved.",
        "Pin it to a full commit SHA (`uses: owner/action@<40 hex>  # v1.2.3`).",
        _S.MEDIUM,
        "actions",
        "supply-chain",
    ),
    checks.rule(
        "gha/secrets-to-every-step",
        "Secret exposed to every step",
        "A secret is put in workflow- or job-level `env`, so every step sees it.",
        "Set the secret in the `env` of the one step that needs it.",
        _S.MEDIUM,
        "actions",
    ),
)

_DANGEROUS = re.compile(
    r"\$\{\{[^}]*?(github\.event\.(?:issue\.(?:title|body)|pull_request\.(?:title|body|head\.ref|"
    r"head\.label|head\.repo\.default_branch)|comment\.body|review\.body|review_comment\.body|"
    r"discussion\.(?:title|body)|pages\.[^}\s]*\.page_name|commits\.[^}\s]*\.(?:message|author\.\w+)|"
    r"head_commit\.(?:message|author\.\w+)|workflow_run\.(?:head_branch|head_commit\.\w+))|"
    r"github\.head_ref)"
)
_PR_HEAD = re.compile(r"github\.event\.pull_request\.head\.(?:sha|ref)|github\.head_ref")
_TRUSTED_OWNERS = ("actions/", "github/", "shipyard/")
_SHA = re.compile(r"[0-9a-f]{40}\Z")


class WorkflowScanner:
    """GitHub Actions workflows under ``.github/workflows`` and ``.shipyard/workflows``."""

    name = "workflows"

    def scan(self, context: interface.ScanContext) -> interface.ScanResult:
        started = time.perf_counter()
        found = checks.Checks(self.name, RULES)
        notices: list[interface.Notice] = []
        for shown, path in tree.walk(context.root, context.excludes):
            folder, _, name = shown.rpartition("/")
            if folder not in (".github/workflows", ".shipyard/workflows"):
                continue
            if not name.endswith((".yml", ".yaml")):
                continue
            try:
                loaded = workflow_loader.load_workflow_file(path, display_path=shown)
            except errors.SpecError as error:
                notices.append(
                    interface.Notice(f"{shown}: not checked, it does not load: {error}", "warning")
                )
                continue
            check_workflow(loaded, found)
        return interface.ScanResult(
            scanner=self.name,
            tool="shipyard-workflows",
            version="1",
            rules=RULES,
            findings=found.found,
            notices=notices,
            seconds=time.perf_counter() - started,
        )


def check_workflow(loaded: workflow.Workflow, found: checks.Checks) -> None:
    """Every check over one loaded workflow."""
    path = loaded.path
    target = "pull_request_target" in loaded.on.events
    if loaded.permissions == "write-all":
        found.report(
            "gha/write-all",
            path,
            loaded.source.where("permissions").line,
            "the workflow grants `permissions: write-all`",
            key="permissions",
        )
    elif loaded.permissions is None and any(
        job.permissions is None for job in loaded.jobs.values()
    ):
        found.report(
            "gha/no-permissions",
            path,
            1,
            "no `permissions:` set; the token's default may be write-all",
            key="permissions",
        )
    _secret_env(found, path, loaded.env, loaded.source, "env")
    for job_id, job in loaded.jobs.items():
        if job.permissions == "write-all":
            found.report(
                "gha/write-all",
                path,
                job.source.where("permissions").line,
                f"job `{job_id}` grants `permissions: write-all`",
                key=f"jobs.{job_id}.permissions",
            )
        _secret_env(found, path, job.env, job.source, f"jobs.{job_id}.env")
        if job.uses:
            _pinned(found, path, job.uses, job.source.where("uses").line, f"jobs.{job_id}.uses")
        for step in job.steps:
            _step(found, loaded, job_id, step, target)


def _step(
    found: checks.Checks, loaded: workflow.Workflow, job_id: str, step: workflow.Step, target: bool
) -> None:
    path = loaded.path
    key = f"jobs.{job_id}.steps[{step.index}]"
    scripts = [("run", step.run)] if step.run else []
    if step.uses and step.uses.split("@")[0] == "actions/github-script":
        scripts.append(("with.script", str(step.with_.get("script", ""))))
    for where, script in scripts:
        for match in _DANGEROUS.finditer(script or ""):
            found.report(
                "gha/script-injection",
                path,
                _line_in(script, match.start(), step.source.where(where).line),
                f"`{match.group(1)}` is expanded into the script of {key}; an attacker controls it",
                key=f"{key}.{match.group(1)}",
                snippet=match.group(0) + " }}",
            )
    if not step.uses:
        return
    _pinned(found, path, step.uses, step.source.where("uses").line, f"{key}.uses")
    if target and step.uses.split("@")[0] == "actions/checkout":
        ref = str(step.with_.get("ref", ""))
        if _PR_HEAD.search(ref):
            found.report(
                "gha/pull-request-target-checkout",
                path,
                step.source.where("uses").line,
                f"{key} checks out the pull request head (`{ref}`) in a "
                "pull_request_target workflow",
                key=key,
            )


def _line_in(script: str, offset: int, value_line: int) -> int:
    """The file line of ``offset`` in a script: a block scalar (``run: |``, which leaves a line
    break in its value) starts on the line after its key."""
    block = 1 if "\n" in script else 0
    return value_line + block + script.count("\n", 0, offset)


def _pinned(found: checks.Checks, path: str, uses: str, line: int, key: str) -> None:
    if uses.startswith(("./", "docker://")) or uses.lower().startswith(_TRUSTED_OWNERS):
        return
    name, _, ref = uses.partition("@")
    if not _SHA.match(ref):
        found.report(
            "gha/unpinned-action",
            path,
            line,
            f"`{uses}` is not pinned to a commit SHA",
            key=f"{key}:{name}",
        )


def _secret_env(
    found: checks.Checks,
    path: str,
    env: Mapping[str, workflow.Value],
    source: workflow.SourceMap,
    prefix: str,
) -> None:
    for name, value in env.items():
        if isinstance(value, str) and "secrets." in value:
            line = source.where(f"env.{name}").line
            found.report(
                "gha/secrets-to-every-step",
                path,
                line,
                f"`{prefix}.{name}` puts a secret in the environment of every step",
                key=f"{prefix}.{name}",
            )
