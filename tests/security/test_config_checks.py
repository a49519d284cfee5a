"""Workflow, Dockerfile, Kubernetes and shipyard.yaml checks: what each flags and lets be."""

from __future__ import annotations

from pathlib import Path

from shipyard.security import interface
from shipyard.security.scanners import dockerfile, kubernetes, project_config, workflows

RISKY_WORKFLOW = """\
name: triage
on:
  pull_request_target:
  issues:
permissions: write-all
env:
  DEPLOY_TOKEN: ${{ secrets.DEPLOY_TOKEN }}
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: |
          echo "title: ${{ github.event.issue.title }}"
          echo "branch: ${{ github.head_ref }}"
      - uses: third-party/labeler@v2
      - uses: actions/github-script@v7
        with:
          script: console.log("${{ github.event.comment.body }}")
      - run: echo "${{ github.event.issue.number }} is a number, not attacker text"
      - uses: pinned/action@0123456789abcdef0123456789abcdef01234567
"""

SAFE_WORKFLOW = """\
on: [push]
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - env:
          TITLE: ${{ github.event.head_commit.message }}
          TOKEN: ${{ secrets.TOKEN }}
        run: echo "$TITLE"
"""


def _scan(scanner: interface.Scanner, root: Path) -> list[tuple[str, str, int]]:
    result = scanner.scan(interface.ScanContext(root=root))
    return sorted((f.rule_id, f.location.path, f.location.line) for f in result.findings)


def _write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_workflow_risks(tmp_path: Path) -> None:
    _write(tmp_path, ".github/workflows/triage.yml", RISKY_WORKFLOW)
    _write(tmp_path, ".github/workflows/safe.yml", SAFE_WORKFLOW)
    path = ".github/workflows/triage.yml"
    assert _scan(workflows.WorkflowScanner(), tmp_path) == [
        ("gha/pull-request-target-checkout", path, 12),
        ("gha/script-injection", path, 16),
        ("gha/script-injection", path, 17),
        ("gha/script-injection", path, 21),
        ("gha/secrets-to-every-step", path, 7),
        ("gha/unpinned-action", path, 18),
        ("gha/write-all", path, 5),
    ]


def test_a_workflow_without_permissions_and_one_that_does_not_load(tmp_path: Path) -> None:
    _write(tmp_path, ".github/workflows/a.yml", "on: push\njobs:\n  a:\n    runs-on: x\n"
                                                "    steps:\n      - run: true\n")  # fmt: skip
    _write(tmp_path, ".github/workflows/broken.yml", "on: push\njobs: [\n")
    result = workflows.WorkflowScanner().scan(interface.ScanContext(root=tmp_path))
    assert [(f.rule_id, f.location.line) for f in result.findings] == [("gha/no-permissions", 1)]
    (notice,) = result.notices
    assert notice.message.startswith(".github/workflows/broken.yml: not checked, it does not load:")


def test_dockerfile_basics(tmp_path: Path) -> None:
    _write(tmp_path, "Dockerfile", (
        "FROM golang:1.22 AS build\nRUN go build ./...\n"
        "FROM python:latest\nADD https://example.invalid/tool.tgz /opt/\n"
        "ADD --checksum=sha256:abc https://example.invalid/ok.tgz /opt/\n"
        "COPY --from=build /out /app\nUSER root\n"
    ))  # fmt: skip
    _write(tmp_path, "svc/worker.Dockerfile", "FROM alpine\nUSER app\n")
    _write(tmp_path, "svc/good/Dockerfile", (
        "FROM python:3.12-slim@sha256:" + "a" * 64 + " AS base\nFROM base\n"
        "RUN useradd app \\\n  && true\nUSER 10001:10001\n"
    ))  # fmt: skip
    assert _scan(dockerfile.DockerfileScanner(), tmp_path) == [
        ("docker/add-url", "Dockerfile", 4),
        ("docker/runs-as-root", "Dockerfile", 7),
        ("docker/unpinned-base-image", "Dockerfile", 3),
        ("docker/unpinned-base-image", "svc/worker.Dockerfile", 1),
    ]


def test_kubernetes_manifests(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "deploy/app.yaml",
        """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      hostNetwork: true
      containers:
        - name: web
          image: web:1
          securityContext:
            privileged: true
---
apiVersion: v1
kind: Pod
metadata: {name: safe}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 1000}
  containers:
    - name: app
      image: app:1
      resources: {limits: {cpu: 100m, memory: 64Mi}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: config}
data: {privileged: "true"}
""",
    )
    assert _scan(kubernetes.KubernetesScanner(), tmp_path) == [
        ("k8s/host-namespace", "deploy/app.yaml", 7),
        ("k8s/no-resource-limits", "deploy/app.yaml", 9),
        ("k8s/privileged", "deploy/app.yaml", 12),
        ("k8s/runs-as-root", "deploy/app.yaml", 9),
    ]


def test_shipyard_yaml_risks(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "shipyard.yaml",
        """\
app: shop
services:
  web:
    run: python -m shop --host 0.0.0.0 --port $PORT
  worker:
    run: python -m shop.worker --bind 127.0.0.1
config:
  STRIPE_API_KEY: sk_test_123
  LOG_LEVEL: info
environments:
  staging:
    port: 8081
  production:
    port: 8080
    config:
      DEBUG: "true"
""",
    )
    assert _scan(project_config.ProjectConfigScanner(), tmp_path) == [
        ("project/binds-all-interfaces", "shipyard.yaml", 4),
        ("project/debug-in-production", "shipyard.yaml", 16),
        ("project/plaintext-secret", "shipyard.yaml", 8),
        ("project/unprotected-production", "shipyard.yaml", 13),
    ]
    _write(tmp_path, "shipyard.yaml", (
        "app: shop\nservices:\n  web:\n    run: python -m shop --port $PORT\n"
        "environments:\n  production:\n    port: 8080\n"
        "    protection: {branches: [main], approval: true}\n"
    ))  # fmt: skip
    assert _scan(project_config.ProjectConfigScanner(), tmp_path) == []
