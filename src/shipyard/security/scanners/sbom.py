"""A CycloneDX SBOM (JSON, spec 1.5) of the resolved dependencies, built with
cyclonedx-python-lib.

The components are what the dependency scanner reads (lock files, pinned requirements,
package-lock.json), each with its package URL. Dependencies without an exact version are listed
without one. The SBOM has no findings; it is an artefact written where ``--sbom`` or
``security.sbom`` says (nothing is written when neither does).
"""

from __future__ import annotations

import time
from pathlib import Path

from shipyard.security import baseline, interface, manifests

_PURL_TYPES = {"PyPI": "pypi", "npm": "npm"}


def build_sbom(root: Path, dependencies: list[manifests.Dependency]) -> str:
    """The SBOM's JSON text."""
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot5
    from packageurl import PackageURL

    bom = Bom()
    application = Component(
        name=root.resolve().name, type=ComponentType.APPLICATION, bom_ref="application"
    )
    bom.metadata.component = application
    components = []
    seen: set[tuple[str, str, str]] = set()
    for dependency in sorted(
        dependencies, key=lambda d: (d.ecosystem, d.name.lower(), d.version or "")
    ):
        key = (dependency.ecosystem, dependency.name.lower(), dependency.version or "")
        if key in seen:
            continue
        seen.add(key)
        name = dependency.name
        namespace = None
        if dependency.ecosystem == "npm" and name.startswith("@") and "/" in name:
            namespace, name = name.split("/", 1)
        purl = PackageURL(
            type=_PURL_TYPES.get(dependency.ecosystem, "generic"),
            namespace=namespace,
            name=name.lower() if dependency.ecosystem == "PyPI" else name,
            version=dependency.version,
        )
        component = Component(
            name=dependency.name,
            version=dependency.version,
            type=ComponentType.LIBRARY,
            purl=purl,
            bom_ref=f"{purl.to_string()}#{dependency.path}",
        )
        bom.components.add(component)
        components.append(component)
    bom.register_dependency(application, components)
    return str(JsonV1Dot5(bom).output_as_string(indent=2))


class SbomScanner:
    """Writes the SBOM; reports how many components it holds."""

    name = "sbom"

    def scan(self, context: interface.ScanContext) -> interface.ScanResult:
        import cyclonedx

        started = time.perf_counter()
        dependencies, problems = manifests.discover(context.root, context.excludes)
        text = build_sbom(context.root, dependencies)
        notices = [
            interface.Notice(f"{p.path}: not in the SBOM: {p.message}", "warning") for p in problems
        ]
        artifacts: list[Path] = []
        if context.sbom_path is not None:
            baseline.write_atomically(context.sbom_path, text, "SBOM")
            artifacts.append(context.sbom_path)
            notices.append(
                interface.Notice(
                    f"SBOM of {len(dependencies)} packages written to {context.sbom_path}"
                )
            )
        else:
            notices.append(
                interface.Notice(
                    f"SBOM of {len(dependencies)} packages built; pass --sbom FILE to write it"
                )
            )
        version = getattr(cyclonedx, "__version__", "")
        return interface.ScanResult(
            scanner=self.name,
            tool="cyclonedx-python-lib",
            version=str(version),
            rules={},
            findings=(),
            notices=notices,
            seconds=time.perf_counter() - started,
            artifacts=artifacts,
        )
