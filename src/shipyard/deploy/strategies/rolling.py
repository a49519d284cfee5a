"""Rolling: replace instances a few at a time, within ``max_surge`` and ``max_unavailable``. Pure.

Per service, in file order: start new instances while the total stays within wanted +
``max_surge``; once they are ready, stop old ones while at least wanted - ``max_unavailable``
remain. Each new instance is ready before an old one is drained. Traffic follows the instance
counts: the new release's weight is its share of the running HTTP instances.
"""

from __future__ import annotations

from shipyard.deploy.strategies import steps
from shipyard.spec import deploy_settings


def plan(observed: steps.Observed, settings: deploy_settings.DeploySettings) -> list[steps.Step]:
    old_release = observed.old_release
    assert old_release is not None
    found: list[steps.Step] = []
    weight = 0
    for service in observed.services:
        wanted, old, new = service.wanted, service.old, service.new
        while new < wanted or old > 0:
            room = wanted + settings.max_surge - (new + old)
            if room > 0 and new < wanted:
                new = min(wanted, new + room)
                found.append(steps.Scale(observed.new_release, service.name, new))
                if service.http and old and _share(new, old) != weight:
                    weight = _share(new, old)
                    found.append(steps.Route(weight))
            spare = (new + old) - (wanted - settings.max_unavailable)
            if old > 0 and spare > 0:
                old -= min(old, spare)
                if service.http and old == 0 and weight != 100:
                    weight = 100
                    found.append(steps.Route(100))
                found.append(steps.Scale(old_release, service.name, old))
                if service.http and old and _share(new, old) != weight:
                    weight = _share(new, old)
                    found.append(steps.Route(weight))
            elif room <= 0 and old == 0:
                break  # pragma: no cover - settings forbid surge and unavailable both 0
    if observed.has_http and weight != 100:
        found.append(steps.Route(100))
    found.extend(
        steps.Scale(old_release, name, 0) for name, count in observed.old_only.items() if count
    )
    return found


def _share(new: int, old: int) -> int:
    """The new release's weight for ``new`` of ``new + old`` ready instances (0 to 99)."""
    if new == 0:
        return 0
    return min(99, max(1, round(100 * new / (new + old))))
