"""The simulated cpaas-installer: its Pod, its REST API, and its progress state machine.

ASSUMPTION (reference §10): the real progress response schema is unpublished. The shape this
simulator emits is defined in ONE place, :func:`progress_body`, and documented in
``docs/sandbox.md``; change both together. The seed only tells us the endpoints, the port
(8080, plain HTTP), the phases a user observes and the terminal values ``status: Success`` and
``type: Complete``.

Phases wait on the world like the real installer would: "infrastructure" finishes only when the
``global`` Cluster's Machines run and "control plane" only when its KubeadmControlPlane is Ready
(when no Cluster ``global`` exists the installer does not wait, so it can be exercised alone).
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from .api import Api
from .errors import ApiError
from .faults import Faults
from .kinds import BUILTIN
from .recorder import Recorder
from .scenarios import Scenario
from .serving import BackgroundServer
from .store import now_ts

if TYPE_CHECKING:
    from .global_cluster import GlobalClusters

__all__ = ["PHASES", "Installer", "InstallerServer", "Phase", "progress_body"]

log = logging.getLogger(__name__)

#: The config endpoint is ``CONFIG_PREFIX + <name>``; each provider declares the full path it
#: POSTs to (``ProviderInfo.installer_endpoint``), and the recorder keeps it for tests to check.
CONFIG_PREFIX = "/cpaas-installer/api/config/"
PROGRESS_PATH = "/cpaas-installer/api/progress"
NAMESPACE = "cpaas-system"
POD_NAME = "cpaas-installer"


@attrs.frozen
class Phase:
    key: str  # scenario hook ("network"), stable
    type: str  # progress "type" while this phase runs
    title: str  # what the seed calls it


PHASES: tuple[Phase, ...] = (
    Phase("infrastructure", "Infrastructure", "Infrastructure provisioning"),
    Phase("control-plane", "ControlPlane", "Control plane bootstrap"),
    Phase("network", "NetworkAddons", "Network and core add-ons"),
    Phase("platform", "PlatformInstallation", "Platform installation"),
)


@attrs.define
class _Step:
    phase: Phase
    status: str = "Pending"  # Pending, Running, Success, Failed
    started_at: str | None = None
    finished_at: str | None = None
    message: str = ""


def progress_body(status: str, type_: str, message: str, steps: list[_Step], started_at: str | None) -> dict[str, Any]:
    """THE progress response shape (an assumption; see module docstring and docs)."""
    done = sum(1 for s in steps if s.status == "Success")
    current = next((s for s in steps if s.status in ("Running", "Failed")), None)
    return {
        "status": status,  # Pending | Running | Success | Failed
        "type": type_,  # NotStarted | <phase type> | Complete
        "phase": current.phase.title if current else ("Completion" if status == "Success" else ""),
        "message": message,
        "percent": int(100 * done / len(steps)),
        "startedAt": started_at,
        "updatedAt": now_ts(),
        "steps": [
            {
                "name": s.phase.type,
                "title": s.phase.title,
                "status": s.status,
                "startedAt": s.started_at,
                "finishedAt": s.finished_at,
                "message": s.message,
            }
            for s in steps
        ],
    }


class Installer:
    """Progress state machine, advanced by :meth:`tick` (controller loop) and on every GET."""

    def __init__(self, api: Api, recorder: Recorder, scenario: Scenario, speed: float,
                 global_clusters: GlobalClusters | None = None) -> None:
        self.api = api
        self.global_clusters = global_clusters
        self._logged = ""
        self.recorder = recorder
        self.scenario = scenario
        self.speed = speed
        self._t0 = time.monotonic()
        self._lock = threading.RLock()
        self.status = "Pending"
        self.message = "waiting for the installation request"
        self.payload: Any = None
        self.started_at: str | None = None
        self.steps = [_Step(p) for p in PHASES]
        self._index = 0
        self._phase_since = 0.0
        self._failures_left = 0
        #: the last stage a progress answer reported Running: a stage finishes only once a client
        #: has seen it, so what a client observes does not depend on how fast the machine is
        self._seen = -1
        #: the same lines as the Pod log, in a file a client on this host can follow
        self.log_path: Path | None = None

    def _log(self, line: str) -> None:
        if self.log_path is None:
            return
        try:
            with open(self.log_path, "a", encoding="utf-8") as fh:
                fh.write(f"{now_ts()} {line}\n")
        except OSError:
            log.debug("installer log %s not writable", self.log_path, exc_info=True)

    def clock(self) -> float:
        return (time.monotonic() - self._t0) * self.speed

    # -- requests ----------------------------------------------------------------------------

    def submit(self, payload: Any) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if self.status in ("Running", "Success"):
                return 409, {
                    "status": "Conflict",
                    "message": f"an installation is already {self.status.lower()}; check /cpaas-installer/api/progress",
                }
            self.payload = payload
            self.status = "Running"
            self.started_at = now_ts()
            self.message = "installation request accepted"
            self.steps = [_Step(p) for p in PHASES]
            self._index = 0
            self._seen = -1
            self._start_phase()
            self._failures_left = self.scenario.installer_5xx
            return 200, {"status": "Accepted", "message": "installation request accepted"}

    def progress(self) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if self._failures_left > 0:
                self._failures_left -= 1
                return 503, {"status": "Unavailable", "message": "installer temporarily unavailable, retry"}
            self.tick()
            if self.status == "Running":
                self._seen = self._index
            type_ = (
                "NotStarted"
                if self.status == "Pending"
                else "Complete"
                if self.status == "Success"
                else PHASES[min(self._index, len(PHASES) - 1)].type
            )
            return 200, progress_body(self.status, type_, self.message, self.steps, self.started_at)

    # -- state machine ------------------------------------------------------------------------

    def _start_phase(self) -> None:
        step = self.steps[self._index]
        step.status, step.started_at = "Running", now_ts()
        step.message = f"{step.phase.title} in progress"
        self.message = step.message
        self._phase_since = self.clock()

    def tick(self) -> None:
        with self._lock:
            self._advance()
            line = f"[{self.status}] {self.message}"
            if line != self._logged:  # the Pod log is the seed's /var/cpaas/data/installer.log
                self._logged = line
                self.api.log(NAMESPACE, POD_NAME, line)
                self._log(line)

    def _advance(self) -> None:
        with self._lock:
            while self.status == "Running":
                step = self.steps[self._index]
                elapsed = self.clock() - self._phase_since
                if elapsed < self.scenario.timing.installer_phase or self._seen < self._index:
                    return
                key = step.phase.key
                if self.scenario.installer_fail_at == key:
                    step.status, step.finished_at = "Failed", now_ts()
                    step.message = self.message = (
                        f"{step.phase.title} failed: module 'base' install timeout "
                        "(sandbox scenario installer-fail); see /var/cpaas/data/installer.log"
                    )
                    self.status = "Failed"
                    return
                if self.scenario.installer_stall_at == key:
                    if not self.scenario.installer_quiet:
                        step.message = self.message = self._stall_message(key)
                    return
                waiting = self._waiting_for(key)
                if waiting:
                    step.message = self.message = waiting
                    return
                step.status, step.finished_at = "Success", now_ts()
                step.message = f"{step.phase.title} finished"
                self._index += 1
                if self._index == len(PHASES):
                    self.status = "Success"
                    self.message = "installation completed"
                    self._write_cluster_module()
                    return
                self._start_phase()

    def _stall_message(self, key: str) -> str:
        if key == "network":
            registry = self._registry_address()
            return (
                f'kube-system/kube-ovn-cni: Back-off pulling image "{registry}/acp/kube-ovn:'
                f'v1.14": dial tcp {registry}: i/o timeout'
            )
        return "waiting for module 'base' to become ready"

    def _registry_address(self) -> str:
        cluster = self._get("cluster.x-k8s.io/v1beta1", "Cluster", NAMESPACE, "global")
        annotations = ((cluster or {}).get("metadata") or {}).get("annotations") or {}
        return str(annotations.get("cpaas.io/registry-address") or "192.0.2.1:11443")

    def _get(self, api_version: str, kind: str, ns: str | None, name: str) -> Any:
        rt = self.api.kinds.by_kind(api_version, kind)
        return None if rt is None else self.api.store.try_get(rt, ns, name)

    def _waiting_for(self, key: str) -> str:
        """Why the phase cannot finish yet ("" when it can)."""
        cluster = self._get("cluster.x-k8s.io/v1beta1", "Cluster", NAMESPACE, "global")
        if cluster is None:
            return ""
        status = cluster.get("status") or {}
        if key == "infrastructure" and status.get("phase") != "Provisioned":
            return "waiting for Cluster global to be Provisioned"
        if key == "control-plane":
            ref = (cluster.get("spec") or {}).get("controlPlaneRef") or {}
            kcp = self._get(
                str(ref.get("apiVersion", "")), str(ref.get("kind", "")), NAMESPACE, str(ref.get("name", ""))
            )
            conditions = ((kcp or {}).get("status") or {}).get("conditions") or []
            if not any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
                return f"waiting for {ref.get('kind', 'control plane')} {ref.get('name')} Ready"
        return ""

    def _write_cluster_module(self) -> None:
        """The final state: on the new global cluster when it runs (as in reality), else, for an
        installer exercised without a Cluster, on minialauda."""
        gc = self.global_clusters.get(NAMESPACE, "global") if self.global_clusters is not None else None
        if gc is not None:
            payload = self.payload if isinstance(self.payload, dict) else {}
            gc.import_from(self.api, NAMESPACE)
            gc.deploy_platform(payload.get("product", []))
            return
        ts = now_ts()
        obj = {
            "apiVersion": "cluster.alauda.io/v1alpha1",
            "kind": "ClusterModule",
            "metadata": {"name": "global", "labels": {"cpaas.io/cluster-name": "global"}},
            "spec": {"product": (self.payload or {}).get("product", []) if isinstance(self.payload, dict) else []},
        }
        try:
            self.api.apply_object(obj, manager="cpaas-installer")
            rt = self.api.resource_for(obj)
            self.api.set_status(
                rt,
                None,
                "global",
                {
                    "phase": "Running",
                    "conditions": [
                        {
                            "type": "Ready",
                            "status": "True",
                            "reason": "Installed",
                            "message": "all modules are installed",
                            "lastTransitionTime": ts,
                        }
                    ],
                },
                manager="cpaas-installer",
            )
        except ApiError:
            log.exception("sandbox installer: could not write ClusterModule global")


class InstallerServer(BackgroundServer):
    """Plain-HTTP server for the installer API, plus the installer Pod it advertises."""

    thread_name = "sandbox-installer"

    def __init__(
        self, api: Api, recorder: Recorder, scenario: Scenario, *, address: str, port: int, speed: float,
        global_clusters: GlobalClusters | None = None,
    ) -> None:
        super().__init__()
        self.api = api
        self.installer = Installer(api, recorder, scenario, speed, global_clusters)
        self._httpd = _QuietServer((address, port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.installer = self.installer  # type: ignore[attr-defined]
        self._httpd.recorder = recorder  # type: ignore[attr-defined]
        self.faults = Faults()
        self._httpd.faults = self.faults  # type: ignore[attr-defined]

    def publish_pod(self) -> None:
        """The Pod the seed's Step 8 reads ``status.podIP`` from."""
        pods = next(rt for rt in BUILTIN if rt.plural == "pods")
        ts = now_ts()
        self.api.create(
            pods,
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": POD_NAME,
                    "namespace": NAMESPACE,
                    "labels": {"service_name": POD_NAME, "app": POD_NAME},
                },
                "spec": {
                    "containers": [
                        {
                            "name": "installer",
                            "image": "cpaas-installer:sandbox",
                            "ports": [{"containerPort": self.port}],
                        }
                    ],
                    "hostNetwork": True,
                },
                "status": {
                    "phase": "Running",
                    "podIP": self.address,
                    "podIPs": [{"ip": self.address}],
                    "hostIP": self.address,
                    "startTime": ts,
                    "conditions": [
                        {"type": t, "status": "True", "lastTransitionTime": ts}
                        for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")
                    ],
                    "containerStatuses": [
                        {
                            "name": "installer",
                            "ready": True,
                            "restartCount": 0,
                            "started": True,
                            "image": "cpaas-installer:sandbox",
                            "imageID": "",
                            "state": {"running": {"startedAt": ts}},
                        }
                    ],
                },
            },
            manager="sandbox",
        )


#: The installer request is a few KB.
MAX_BODY = 4 * 1024 * 1024


class _QuietServer(ThreadingHTTPServer):
    """A client that resets its connection is the client's business (a test, a killed
    acp-install): logged at debug level, never a traceback on the sandbox's stderr."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("installer: connection error from %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cpaas-installer-sandbox"
    timeout = 60

    def setup(self) -> None:
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, TimeoutError, OSError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("installer %s " + format, self.address_string(), *args)

    def _send(self, code: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _record(self, code: int, body: Any) -> None:
        self.server.recorder.installer(  # type: ignore[attr-defined]
            self.command, self.path, code, body
        )

    def _fault(self) -> bool:
        """Act out an injected fault (:class:`~.faults.Chaos`); True when it answered (or
        dropped) the request: a faulted request never reaches the installer."""
        fault = self.server.faults.take(self.command, self.path.split("?")[0])  # type: ignore[attr-defined]
        if fault is None:
            return False
        if fault.action == "slow":
            threading.Event().wait(fault.delay)
            return False
        if fault.action == "drop-watch":
            return False
        length = (self.headers.get("Content-Length") or "0").strip()
        if length.isdigit() and 0 < int(length) <= MAX_BODY:
            self.rfile.read(int(length))
        if fault.action == "reset":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return True
        data = json.dumps({"status": "Error", "message": f"injected fault (sandbox): HTTP {fault.status}"}).encode()
        self.send_response(fault.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if fault.status == 429:
            self.send_header("Retry-After", "1")
        self.end_headers()
        self.wfile.write(data)
        return True

    def do_GET(self) -> None:
        if self._fault():
            return
        installer: Installer = self.server.installer  # type: ignore[attr-defined]
        if self.path.split("?")[0].rstrip("/") == PROGRESS_PATH:
            code, body = installer.progress()
        else:
            code, body = 404, {"status": "NotFound", "message": "not found"}
        self._record(code, None)
        self._send(code, body)

    def do_POST(self) -> None:
        if self._fault():
            return
        installer: Installer = self.server.installer  # type: ignore[attr-defined]
        length_header = (self.headers.get("Content-Length") or "0").strip()
        length = int(length_header) if length_header.isdigit() else -1
        raw = self.rfile.read(length) if 0 < length <= MAX_BODY else b""
        name = self.path.split("?")[0].rstrip("/").removeprefix(CONFIG_PREFIX)
        if length < 0 or length > MAX_BODY:
            # the body cannot be framed (or is not read): the connection cannot be reused
            self.close_connection = True
            code, payload = (400 if length < 0 else 413), None
            body = {"status": "BadRequest" if length < 0 else "RequestEntityTooLarge",
                    "message": f"invalid Content-Length {length_header[:40]!r}" if length < 0
                    else f"request body larger than {MAX_BODY} bytes"}
        elif name == self.path.split("?")[0].rstrip("/") or not name or "/" in name:
            code, body, payload = 404, {"status": "NotFound", "message": "not found"}, None
        else:
            try:
                payload = json.loads(raw.decode("utf-8"))
            except ValueError as err:
                code, body, payload = 400, {"status": "BadRequest", "message": f"invalid JSON: {err}"}, None
            else:
                if not isinstance(payload, dict):
                    code, body = 400, {"status": "BadRequest", "message": "the request body must be a JSON object"}
                else:
                    code, body = installer.submit(payload)
        self._record(code, payload)
        self._send(code, body)
