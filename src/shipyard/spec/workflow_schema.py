"""The key tables of GitHub Actions workflow syntax, as Shipyard accepts it. Pure: data only.

Which keys each object takes, the events and their filters and activity types, the permission
scopes, the shells, and the keys Shipyard knows but does not support (with the reason to show).
The loader modules read these tables; a change to the accepted syntax starts here and in
``docs/workflows.md``.
"""

from __future__ import annotations

import re
from typing import Literal, TypeAlias

ID_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
"""Job ids, step ids, input and output names: a letter or `_`, then letters, digits, `-`, `_`."""

ID_MAX_LENGTH = 100

WORKFLOW_KEYS = frozenset(
    {
        "name",
        "run-name",
        "description",
        "on",
        "env",
        "defaults",
        "concurrency",
        "permissions",
        "jobs",
        "x-shipyard",
    }
)

# Keys every job takes, whether it runs steps or calls a reusable workflow.
COMMON_JOB_KEYS = frozenset(
    {"name", "needs", "if", "strategy", "permissions", "concurrency", "x-shipyard"}
)
STEPS_JOB_KEYS = COMMON_JOB_KEYS | {
    "runs-on",
    "steps",
    "env",
    "defaults",
    "outputs",
    "timeout-minutes",
    "cancel-timeout-minutes",
    "continue-on-error",
    "environment",
}
CALL_JOB_KEYS = COMMON_JOB_KEYS | {"uses", "with", "secrets"}
JOB_KEYS = STEPS_JOB_KEYS | CALL_JOB_KEYS

STEP_KEYS = frozenset(
    {
        "id",
        "name",
        "if",
        "run",
        "uses",
        "with",
        "env",
        "shell",
        "working-directory",
        "continue-on-error",
        "timeout-minutes",
    }
)

_HOST_ONLY = "see docs/compatibility.md"
UNSUPPORTED_JOB_KEYS: dict[str, tuple[str, str]] = {
    "container": (
        "`container` is not supported: Shipyard runs jobs on the host",
        f"remove `container` and install what the job needs on the host; {_HOST_ONLY}",
    ),
    "services": (
        "`services` is not supported: Shipyard runs jobs on the host",
        f"start the services on the host (or in a step) instead; {_HOST_ONLY}",
    ),
    "snapshot": (
        "`snapshot` is not supported: Shipyard runs jobs on the host, not on runner images",
        f"remove `snapshot`; {_HOST_ONLY}",
    ),
}
UNSUPPORTED_STEP_KEYS: dict[str, tuple[str, str]] = {
    key: (
        f"`{key}` (background steps) is not supported by Shipyard yet",
        f"run the step in the foreground; {_HOST_ONLY}",
    )
    for key in ("background", "wait", "wait-all", "cancel")
}
UNSUPPORTED_CONCURRENCY_KEYS: dict[str, tuple[str, str]] = {
    "queue": (
        "`queue` is not supported by Shipyard yet",
        f"remove it; a pending run replaces the previous pending one; {_HOST_ONLY}",
    ),
}

SHELLS = frozenset({"bash", "sh", "python", "pwsh", "powershell", "cmd"})

# Events that take no filters: `create:` with nothing after it.
EVENTS_WITHOUT_FILTERS = frozenset(
    {
        "create",
        "delete",
        "deployment",
        "deployment_status",
        "fork",
        "gollum",
        "page_build",
        "public",
        "status",
    }
)

_BRANCHES = ("branches", "branches-ignore")
_PATHS = ("paths", "paths-ignore")
_TAGS = ("tags", "tags-ignore")

# Event -> the filters it takes besides `types` (workflow_dispatch, workflow_call and schedule
# have their own readers).
EVENT_FILTERS: dict[str, tuple[str, ...]] = {
    "push": _BRANCHES + _TAGS + _PATHS,
    "pull_request": (*_BRANCHES, *_PATHS, "types"),
    "pull_request_target": (*_BRANCHES, *_PATHS, "types"),
    "merge_group": (*_BRANCHES, "types"),
    "workflow_run": (*_BRANCHES, "types", "workflows"),
    "image_version": ("types", "names", "versions"),
    "repository_dispatch": ("types",),
}

# Filters that cannot appear together on one event.
EXCLUSIVE_FILTERS = (_BRANCHES, _TAGS, _PATHS)

_PULL_REQUEST_TYPES = frozenset(
    {
        "assigned",
        "unassigned",
        "labeled",
        "unlabeled",
        "opened",
        "edited",
        "closed",
        "reopened",
        "synchronize",
        "converted_to_draft",
        "locked",
        "unlocked",
        "enqueued",
        "dequeued",
        "milestoned",
        "demilestoned",
        "ready_for_review",
        "review_requested",
        "review_request_removed",
        "auto_merge_enabled",
        "auto_merge_disabled",
    }
)
_CREATED_EDITED_DELETED = frozenset({"created", "edited", "deleted"})

# Event -> the activity `types` it accepts (repository_dispatch takes any name).
ACTIVITY_TYPES: dict[str, frozenset[str]] = {
    "branch_protection_rule": _CREATED_EDITED_DELETED,
    "check_run": frozenset({"created", "rerequested", "completed", "requested_action"}),
    "check_suite": frozenset({"completed"}),
    "discussion": frozenset(
        {
            "created",
            "edited",
            "deleted",
            "transferred",
            "pinned",
            "unpinned",
            "labeled",
            "unlabeled",
            "locked",
            "unlocked",
            "category_changed",
            "answered",
            "unanswered",
        }
    ),
    "discussion_comment": _CREATED_EDITED_DELETED,
    "image_version": frozenset({"created", "ready", "deleted"}),
    "issue_comment": _CREATED_EDITED_DELETED,
    "issues": frozenset(
        {
            "opened",
            "edited",
            "deleted",
            "transferred",
            "pinned",
            "unpinned",
            "closed",
            "reopened",
            "assigned",
            "unassigned",
            "labeled",
            "unlabeled",
            "locked",
            "unlocked",
            "milestoned",
            "demilestoned",
        }
    ),
    "label": _CREATED_EDITED_DELETED,
    "merge_group": frozenset({"checks_requested"}),
    "milestone": frozenset({"created", "closed", "opened", "edited", "deleted"}),
    "project": frozenset({"created", "closed", "reopened", "edited", "deleted"}),
    "project_card": frozenset({"created", "moved", "converted", "edited", "deleted"}),
    "project_column": frozenset({"created", "updated", "moved", "deleted"}),
    "pull_request": _PULL_REQUEST_TYPES,
    "pull_request_comment": _CREATED_EDITED_DELETED,
    "pull_request_review": frozenset({"submitted", "edited", "dismissed"}),
    "pull_request_review_comment": _CREATED_EDITED_DELETED,
    "pull_request_target": _PULL_REQUEST_TYPES,
    "registry_package": frozenset({"published", "updated"}),
    "release": frozenset(
        {"published", "unpublished", "created", "edited", "deleted", "prereleased", "released"}
    ),
    "watch": frozenset({"started"}),
    "workflow_run": frozenset({"requested", "completed", "in_progress"}),
}

EVENTS = frozenset(
    EVENTS_WITHOUT_FILTERS
    | ACTIVITY_TYPES.keys()
    | EVENT_FILTERS.keys()
    | {"schedule", "workflow_call", "workflow_dispatch"}
)

DISPATCH_INPUT_KEYS = frozenset({"description", "type", "required", "default", "options"})
InputType: TypeAlias = Literal["string", "boolean", "number", "choice", "environment"]
DISPATCH_INPUT_TYPES: tuple[InputType, ...] = (
    "string",
    "boolean",
    "number",
    "choice",
    "environment",
)
CALL_INPUT_KEYS = frozenset({"description", "type", "required", "default"})
CALL_INPUT_TYPES: tuple[InputType, ...] = ("string", "boolean", "number")
CALL_OUTPUT_KEYS = frozenset({"description", "value"})
CALL_SECRET_KEYS = frozenset({"description", "required"})
WORKFLOW_CALL_KEYS = frozenset({"inputs", "outputs", "secrets"})
WORKFLOW_DISPATCH_KEYS = frozenset({"inputs"})

_ANY_LEVEL = ("read", "write", "none")
# Scope -> the levels it accepts.
PERMISSION_SCOPES: dict[str, tuple[str, ...]] = {
    "actions": _ANY_LEVEL,
    "artifact-metadata": _ANY_LEVEL,
    "attestations": _ANY_LEVEL,
    "checks": _ANY_LEVEL,
    "contents": _ANY_LEVEL,
    "deployments": _ANY_LEVEL,
    "discussions": _ANY_LEVEL,
    "id-token": ("write", "none"),
    "issues": _ANY_LEVEL,
    "models": ("read", "none"),
    "packages": _ANY_LEVEL,
    "pages": _ANY_LEVEL,
    "pull-requests": _ANY_LEVEL,
    "repository-projects": _ANY_LEVEL,
    "security-events": _ANY_LEVEL,
    "statuses": _ANY_LEVEL,
}
PERMISSION_SHORTHANDS = ("read-all", "write-all")

CONCURRENCY_KEYS = frozenset({"group", "cancel-in-progress"})
DEFAULTS_KEYS = frozenset({"run"})
DEFAULTS_RUN_KEYS = frozenset({"shell", "working-directory"})
ENVIRONMENT_KEYS = frozenset({"name", "url", "deployment"})
RUNS_ON_KEYS = frozenset({"group", "labels"})
STRATEGY_KEYS = frozenset({"matrix", "fail-fast", "max-parallel"})
SCHEDULE_KEYS = frozenset({"cron"})
UNSUPPORTED_SCHEDULE_KEYS: dict[str, tuple[str, str]] = {
    "timezone": (
        "`timezone` is not supported by Shipyard yet: schedules run in UTC",
        f"remove it and write the cron expression in UTC; {_HOST_ONLY}",
    ),
}
