"""AppRelease: installing a provider chart makes its CRDs appear (seed Step 3).

Status written (Alauda's real AppRelease status is not published; this is what the sandbox
emits): ``status.phase`` (``Pending``/``Ready``/``Failed``), ``status.conditions[type=Ready]``,
``status.charts[]`` with each chart's release name and installed CRD names, and ``attempt``.
A failed AppRelease is tried again every ``Timing.apprelease`` (its ``interval-sync``
annotation), each attempt a new status write.
"""

from __future__ import annotations

from typing import Any

from ..api import Api
from ..catalog import Catalog
from ..errors import ApiError
from ..scenarios import Scenario
from .base import Clock, Controller, condition

__all__ = ["AppReleaseController"]

API_VERSION = "operator.alauda.io/v1alpha1"


def _releases(obj: dict[str, Any]) -> list[str]:
    charts = ((obj.get("spec") or {}).get("source") or {}).get("charts") or []
    names = [str(c.get("releaseName") or c.get("name") or "") for c in charts if isinstance(c, dict)]
    return [n for n in names if n] or [obj["metadata"]["name"]]


class AppReleaseController(Controller):
    def __init__(self, api: Api, clock: Clock, scenario: Scenario, catalog: Catalog) -> None:
        super().__init__(api, clock, scenario)
        self.catalog = catalog
        self._seen: dict[tuple[str, int], float] = {}
        self._tried: dict[tuple[str, int], float] = {}

    def reconcile(self) -> None:
        rt = self.rt(API_VERSION, "AppRelease")
        if rt is None:
            return
        items, _ = self.api.store.list(rt)
        now = self.clock.now()
        for obj in items:
            meta = obj["metadata"]
            key = (meta["uid"], int(meta.get("generation", 1)))
            first = self._seen.setdefault(key, now)
            status = obj.get("status") or {}
            if status.get("observedGeneration") == key[1]:
                # interval-sync: a failed install is retried (the chart may have been pushed
                # since); each attempt is a new status write (``attempt``), like a real sync
                if status.get("phase") != "Failed" or now - self._tried.get(key, now) \
                        < self.scenario.timing.apprelease:
                    continue
                if self.held("AppRelease", meta.get("namespace"), meta["name"], obj):
                    continue
                self._install(rt, obj, key[1], attempt=int(status.get("attempt", 1)) + 1)
                continue
            if self.held("AppRelease", meta.get("namespace"), meta["name"], obj):
                continue
            if now - first < self.scenario.timing.apprelease:
                if status.get("phase") != "Pending":
                    self.api.set_status(
                        rt,
                        meta.get("namespace"),
                        meta["name"],
                        {
                            "phase": "Pending",
                            "conditions": [condition("Ready", False, "Installing", "installing charts")],
                        },
                    )
                continue
            self._install(rt, obj, key[1])

    def _install(self, rt: Any, obj: dict[str, Any], generation: int, attempt: int = 1) -> None:
        meta = obj["metadata"]
        self._tried[(meta["uid"], generation)] = self.clock.now()
        charts, unknown = [], []
        for release in _releases(obj):
            crds = self.catalog.crds_for_release(release)
            if crds is None:
                unknown.append(release)
                continue
            for crd in crds:
                try:
                    self.api.apply_object(crd, manager="appreleases-controller")
                except ApiError as err:
                    unknown.append(f"{release}: {err.message}")
            charts.append(
                {"releaseName": release, "status": "Deployed", "crds": sorted(c["metadata"]["name"] for c in crds)}
            )
        ready = not unknown
        self.api.set_status(
            rt,
            meta.get("namespace"),
            meta["name"],
            {
                "observedGeneration": generation,
                "attempt": attempt,
                "phase": "Ready" if ready else "Failed",
                "charts": charts,
                "conditions": [
                    condition(
                        "Ready",
                        ready,
                        "Deployed" if ready else "ChartNotFound",
                        "all charts deployed" if ready else
                        f"charts not found: {', '.join(unknown)} (the sandbox serves the charts that "
                        "installed distributions declare under the entry-point group "
                        "acp_install_sandbox.providers)",
                    )
                ],
            },
            manager="appreleases-controller",
        )
