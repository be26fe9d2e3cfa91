"""Simulated controllers, run by one background thread.

Why one level-triggered loop instead of per-object timers: every reconcile reads the current
world from the store and decides from recorded timestamps, so behaviour is the same whether
objects were applied by kubectl, by the engine or re-applied after a restart, and faults are
injected by the scenario rather than by timing accidents.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from ..api import Api
from ..scenarios import Scenario
from .apprelease import AppReleaseController
from .base import Clock, Controller
from .capi import ClusterApiController
from .certmanager import CertManagerController
from .globalcluster import GlobalClusterController

if TYPE_CHECKING:
    from ..catalog import Catalog
    from ..global_cluster import GlobalClusters
    from ..installer import Installer

__all__ = ["Controllers"]

log = logging.getLogger(__name__)

TICK = 0.02  # seconds of real time between reconciles when nothing changes


class Controllers:
    def __init__(
        self, api: Api, catalog: Catalog, scenario: Scenario, speed: float, installer: Installer | None = None,
        global_clusters: GlobalClusters | None = None,
    ) -> None:
        self.api = api
        self.clock = Clock(speed)
        declared = catalog.declarations
        self.controllers: list[Controller] = [
            AppReleaseController(api, self.clock, scenario, catalog),
            CertManagerController(api, self.clock, scenario),
            *(factory(api, self.clock, scenario) for factory in declared.controllers),
            ClusterApiController(api, self.clock, scenario, declared.provisioning_gates),
        ]
        if global_clusters is not None:
            self.controllers.append(GlobalClusterController(api, self.clock, scenario, global_clusters))
        self.installer = installer
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-controllers", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            with self.api.holds.pass_():  # a hold added by a test binds every later pass
                self._pass()
            self._stop.wait(TICK)

    def _pass(self) -> None:
        for c in self.controllers:
            try:
                c.reconcile()
            except Exception:  # a controller bug must not stop the others
                log.exception("sandbox controller %s failed", type(c).__name__)
        if self.installer is not None:
            try:
                self.installer.tick()
            except Exception:
                log.exception("sandbox installer tick failed")
