"""Kubernetes manifests: privileged containers, running as root, no resource limits, host
namespaces. Every YAML document with ``apiVersion`` and a workload ``kind`` is checked; the
others are ignored. Positions come from ruamel.yaml, so findings point at the offending key.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from shipyard.security import checks, findings, interface
from shipyard.security import files as tree

_S = findings.Severity
RULES = checks.rules(
    checks.rule(
        "k8s/privileged",
        "Privileged container",
        "A container runs privileged: it is root on the node.",
        "Remove `privileged: true`; grant the single capability it needs instead.",
        _S.HIGH,
        "kubernetes",
    ),
    checks.rule(
        "k8s/runs-as-root",
        "Container may run as root",
        "Neither the pod nor the container sets `runAsNonRoot: true`, or it sets `runAsUser: 0`.",
        "Set `securityContext: { runAsNonRoot: true, runAsUser: 10001 }`.",
        _S.MEDIUM,
        "kubernetes",
    ),
    checks.rule(
        "k8s/no-resource-limits",
        "No resource limits",
        "A container has no CPU or memory limit; one bad pod can starve the node.",
        "Set `resources.limits.cpu` and `resources.limits.memory`.",
        _S.LOW,
        "kubernetes",
    ),
    checks.rule(
        "k8s/host-namespace",
        "Host network, PID or IPC",
        "The pod shares the node's network, process or IPC namespace.",
        "Remove `hostNetwork`, `hostPID` and `hostIPC` unless it is a node agent.",
        _S.HIGH,
        "kubernetes",
    ),
)
_WORKLOADS = {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob",
              "ReplicationController"}  # fmt: skip


class KubernetesScanner:
    """YAML files holding Kubernetes workloads."""

    name = "kubernetes"

    def scan(self, context: interface.ScanContext) -> interface.ScanResult:
        started = time.perf_counter()
        found = checks.Checks(self.name, RULES)
        notices: list[interface.Notice] = []
        for shown, path in tree.walk(context.root, context.excludes):
            if not shown.endswith((".yaml", ".yml")) or shown.startswith(".github/"):
                continue
            text = tree.read_text(path, 2 * 1024 * 1024)
            if text is None or "apiVersion" not in text or "kind" not in text:
                continue
            try:
                documents = list(YAML(typ="rt").load_all(text))
            except YAMLError as error:
                notices.append(
                    interface.Notice(f"{shown}: not checked: {str(error).splitlines()[0]}")
                )
                continue
            for index, document in enumerate(documents):
                if isinstance(document, dict) and document.get("kind") in _WORKLOADS:
                    check_workload(shown, index, document, found)
        return interface.ScanResult(
            scanner=self.name,
            tool="shipyard-kubernetes",
            version="1",
            rules=RULES,
            findings=found.found,
            notices=notices,
            seconds=time.perf_counter() - started,
        )


def _line(node: Any, key: str | None = None) -> int:
    try:
        if key is not None:
            return int(node.lc.key(key)[0]) + 1
        return int(node.lc.line) + 1
    except (AttributeError, KeyError, TypeError):
        return 1


def _pod_spec(document: dict[str, Any]) -> dict[str, Any] | None:
    spec = document.get("spec") or {}
    if document.get("kind") == "Pod":
        return spec if isinstance(spec, dict) else None
    if document.get("kind") == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    template = (spec.get("template") or {}).get("spec") if isinstance(spec, dict) else None
    return template if isinstance(template, dict) else None


def _containers(pod: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for key in ("initContainers", "containers"):
        for container in pod.get(key) or ():
            if isinstance(container, dict):
                yield container


def check_workload(shown: str, index: int, document: dict[str, Any], found: checks.Checks) -> None:
    """Every check over one workload document."""
    pod = _pod_spec(document)
    if pod is None:
        return
    name = str((document.get("metadata") or {}).get("name", f"document {index + 1}"))
    where = f"{document.get('kind')}/{name}"
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(key) is True:
            found.report(
                "k8s/host-namespace",
                shown,
                _line(pod, key),
                f"{where} sets `{key}: true`",
                key=f"{where}:{key}",
            )
    pod_context = pod.get("securityContext") or {}
    for container in _containers(pod):
        label = f"{where} container `{container.get('name', '?')}`"
        context = container.get("securityContext") or {}
        if context.get("privileged") is True:
            found.report(
                "k8s/privileged",
                shown,
                _line(context, "privileged"),
                f"{label} is privileged",
                key=f"{label}:privileged",
            )
        non_root = context.get("runAsNonRoot", pod_context.get("runAsNonRoot"))
        user = context.get("runAsUser", pod_context.get("runAsUser"))
        if user == 0 or (non_root is not True and not (isinstance(user, int) and user > 0)):
            found.report(
                "k8s/runs-as-root",
                shown,
                _line(container),
                f"{label} may run as root",
                key=f"{label}:root",
            )
        limits = (container.get("resources") or {}).get("limits") or {}
        if not ("cpu" in limits and "memory" in limits):
            found.report(
                "k8s/no-resource-limits",
                shown,
                _line(container),
                f"{label} has no CPU and memory limits",
                key=f"{label}:limits",
            )
