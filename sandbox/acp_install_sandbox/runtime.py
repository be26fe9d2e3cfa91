"""``Sandbox``: one emulated minialauda (API server, controllers, installer) on loopback.

Usage::

    with Sandbox(scenario="happy", speed=20) as sb:
        subprocess.run(["kubectl", "--kubeconfig", sb.kubeconfig_path, "get", "ns"])
        httpx.get(sb.installer_url + "/cpaas-installer/api/progress")
        sb.recorder.installer_payloads

Everything runs in threads of the calling process, so start and stop take milliseconds and
tests can inspect :attr:`Sandbox.recorder` and :attr:`Sandbox.api` directly.
"""

from __future__ import annotations

import ipaddress
import secrets
import shutil
import socket
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from .api import Api, FieldValidation
from .apiserver import ApiServer
from .catalog import Catalog
from .controllers import Controllers
from .declarations import installed
from .faults import ACTIONS, Chaos, Fault
from .global_cluster import GlobalCluster, GlobalClusters
from .holds import Hold, Holds, Until
from .installer import InstallerServer
from .kinds import BUILTIN, Kinds
from .kubeconfig import write_kubeconfig
from .recorder import Recorder
from .registry import AuthScheme, Registry, RegistryServer
from .scenarios import Scenario, get_scenario
from .schema import CRDRegistry
from .store import Store
from .tls import make_certificates

__all__ = ["Sandbox"]


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False

#: ConfigMap in ``kube-public`` by which a sandbox announces itself and its loopback stand-ins.
ANNOUNCEMENT = "acp-install-sandbox"

NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease", "cpaas-system")


class Sandbox:
    """An emulated minialauda. Start with :meth:`start` or as a context manager.

    Args:
        crds_dir: directory of CRD YAML that overrides, by CRD name, the schemas the
            installed distributions ship (custom resources are always validated against the
            schema of their kind; see :mod:`.provider`).
        scenario: name of a controller/installer scenario (see :mod:`.scenarios`).
        state_dir: where the kubeconfig (and pid file for the CLI) go; a temporary directory
            removed on stop when not given.
        speed: time scale of the simulated controllers (20 = twenty times faster).
        address: loopback address to listen on (any 127.x.y.z).
        api_port: API server port (0 = any free port).
        installer_port: cpaas-installer port (the seed's 8080; 0 = any free port).
        token: bearer token (random when not given).
        preinstall_crds: install every declared chart's CRDs at start (as if every provider
            chart had been installed), e.g. to apply rendered manifests directly.
        field_validation: server default for requests without ``fieldValidation``.
        holds: objects the simulated controllers keep in a state (with the scenario's own
            ``holds``); more with :meth:`hold` at any time.
        registry: ``"preloaded"``: minialauda's registry holds every declared chart version
            (``Chart.versions``) from the start; ``"empty"``: nothing, for a test that pushes.
        registry_port: registry port (0 = any free port; the real one is 11443).
        registry_auth: ``(user, password)`` the registry asks for; ``None`` = anonymous.
        registry_auth_scheme: ``"bearer"`` (token service at ``/token``) or ``"basic"``.
    """

    def __init__(
        self,
        *,
        crds_dir: str | Path | None = None,
        scenario: str | Scenario = "happy",
        state_dir: str | Path | None = None,
        speed: float = 1.0,
        address: str = "127.0.0.1",
        api_port: int = 0,
        installer_port: int = 8080,
        token: str | None = None,
        preinstall_crds: bool = False,
        field_validation: FieldValidation = "Warn",
        holds: Iterable[Hold] = (),
        global_address: str | None = None,
        registry: str = "preloaded",
        registry_port: int = 0,
        registry_auth: tuple[str, str] | None = None,
        registry_auth_scheme: AuthScheme = "bearer",
    ) -> None:
        if registry not in ("preloaded", "empty"):
            raise ValueError(f"registry must be 'preloaded' or 'empty', not {registry!r}")
        self.scenario = scenario if isinstance(scenario, Scenario) else get_scenario(scenario)
        self.speed = float(speed)
        if self.speed <= 0:
            raise ValueError("speed must be positive")
        if not _is_loopback(address):
            raise ValueError(f"address {address!r} is not a loopback address: the sandbox (its API server "
                             "and the unauthenticated installer) listens on 127.0.0.0/8 only")
        self.address = address
        if global_address is not None and not _is_loopback(global_address):
            raise ValueError(f"global_address {global_address!r} is not a loopback address")
        self.global_clusters = GlobalClusters(address=address, scenario=self.scenario, own_address=global_address)
        self.token = token or secrets.token_urlsafe(32)
        self.declarations = installed()
        self.catalog = Catalog(self.declarations, Path(crds_dir) if crds_dir else None)
        self._own_state_dir = state_dir is None
        self._state_dir_arg = Path(state_dir) if state_dir else None
        self.state_dir: Path = self._state_dir_arg or Path(".")
        self.recorder = Recorder()
        self.store = Store()
        self.kinds = Kinds(CRDRegistry())
        self.api = Api(self.kinds, self.store, self.recorder, field_validation)
        self.api.holds = Holds([*self.scenario.holds, *holds])
        self._api_port = api_port
        self._installer_port = installer_port
        self._preinstall = preinstall_crds
        self.registry = Registry()
        if registry == "preloaded":
            self.registry.preload((c.repo, v) for c in self.declarations.charts for v in c.versions)
        self._registry_port = registry_port
        self._registry_auth = registry_auth
        self._registry_auth_scheme: AuthScheme = registry_auth_scheme
        self._registry_server: RegistryServer | None = None
        self._vip_socket: socket.socket | None = None
        self._server: ApiServer | None = None
        self._installer: InstallerServer | None = None
        self._controllers: Controllers | None = None
        self.kubeconfig_path: Path = Path()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Sandbox:
        if self._own_state_dir:
            self.state_dir = Path(tempfile.mkdtemp(prefix="acp-sandbox-"))
        else:
            self.state_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._bootstrap_objects()
            certs = self._certs = make_certificates(self.address)
            self._server = ApiServer(
                self.api, address=self.address, port=self._api_port, token=self.token, tls=certs.server_context()
            )
            self._installer = InstallerServer(
                self.api,
                self.recorder,
                self.scenario,
                address=self.address,
                port=self._installer_port,
                speed=self.speed,
                global_clusters=self.global_clusters,
            )
            self._installer.installer.log_path = self.installer_log_path
            self._registry_server = RegistryServer(
                self.registry, address=self.address, port=self._registry_port,
                auth=self._registry_auth, auth_scheme=self._registry_auth_scheme)
            self._server.start()
            self._installer.start()
            self._registry_server.start()
            self._announce()
            self._installer.publish_pod()
            self._publish_controller_pod()
            self.kubeconfig_path = write_kubeconfig(
                self.state_dir / "kubeconfig", server=self.server_url, ca_pem=certs.ca_pem, token=self.token
            )
            (self.state_dir / "ca.crt").write_bytes(certs.ca_pem)
            self._controllers = Controllers(
                self.api, self.catalog, self.scenario, self.speed, self._installer.installer, self.global_clusters
            )
            self._controllers.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every thread and close every socket; idempotent."""
        if self._controllers:
            self._controllers.stop()
        if self._installer:
            self._installer.stop()
        self.global_clusters.stop()
        if self._registry_server:
            self._registry_server.stop()
            self._registry_server = None
        if self._vip_socket is not None:
            self._vip_socket.close()
            self._vip_socket = None
        self.store.close()
        if self._server:
            self._server.stop()
        self._controllers = self._installer = self._server = None
        if self._own_state_dir and self.state_dir != Path("."):
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _bootstrap_objects(self) -> None:
        """What a freshly bootstrapped minialauda has before Step 3."""
        ns_type = next(rt for rt in BUILTIN if rt.plural == "namespaces")
        for ns in NAMESPACES:
            self.api.create(ns_type, {"metadata": {"name": ns}}, manager="sandbox")
        for crd in self.catalog.bootstrap_crds():
            self.api.apply_object(crd, manager="sandbox")
        if self._preinstall:
            for crd in self.catalog.all_crds():
                self.api.apply_object(crd, manager="sandbox")

    def _publish_controller_pod(self) -> None:
        """The Cluster API controller's Pod (seed Step 2 brings it up with minialauda); the
        simulation writes what it does to its log."""
        from .controllers.capi import CONTROLLER_POD, PROVIDER_LABEL
        from .store import now_ts

        pods = next(rt for rt in BUILTIN if rt.plural == "pods")
        ts = now_ts()
        ns, name = CONTROLLER_POD
        self.api.create(pods, {
            "metadata": {"name": name, "namespace": ns,
                         "labels": {PROVIDER_LABEL: "cluster-api", "control-plane": "controller-manager"}},
            "spec": {"containers": [{"name": "manager", "image": "cluster-api-controller:sandbox"}]},
            "status": {"phase": "Running", "startTime": ts, "podIP": self.address,
                       "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": ts}],
                       "containerStatuses": [{"name": "manager", "ready": True, "restartCount": 0, "started": True,
                                              "image": "cluster-api-controller:sandbox", "imageID": "",
                                              "state": {"running": {"startedAt": ts}}}]},
        }, manager="sandbox")
        self.api.log(ns, name, '"Starting Controller" controller="machine" controllerGroup="cluster.x-k8s.io"')

    def _announce(self) -> None:
        """Tell every client of the API that this is a sandbox, and where its loopback
        stand-ins are (ConfigMap ``kube-public/acp-install-sandbox``): the engine checks charts
        in this registry instead of the spec's ``localRegistryAddress``."""
        cm_type = next(rt for rt in BUILTIN if rt.plural == "configmaps")
        # the VIP's stand-in: a port bound (so nothing else takes it) but never listening, as a
        # VIP no cluster owns yet answers nothing; the platform host "resolves" to its address
        self._vip_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._vip_socket.bind((self.address, 0))
        vip = f"{self.address}:{self._vip_socket.getsockname()[1]}"
        api = self.server_url.removeprefix("https://")
        self.api.create(cm_type, {"apiVersion": "v1", "kind": "ConfigMap",
                                  "metadata": {"name": ANNOUNCEMENT, "namespace": "kube-public"},
                                  "data": {"localRegistryAddress": self.registry_address,
                                           "nodeRegistryAddress": self.registry_address,
                                           "controlPlaneVIP": vip,
                                           "platformHost": self.address,
                                           # any IaaS API probe: an endpoint here that speaks TLS
                                           "iaasEndpoint": api}},
                        manager="sandbox")

    # -- holds ------------------------------------------------------------------------------

    def hold(
        self,
        kind: str,
        name: str | None = None,
        namespace: str | None = None,
        *,
        at: tuple[str, Any] | None = None,
        until: Until = "released",
    ) -> Hold:
        """Keep matching objects where they are — or, with ``at=(field path, value)``, once
        they get there — until :meth:`release` (or, ``until="observed"``, until a client has
        read them held). Binds every controller pass that starts after this returns."""
        return self.api.holds.add(Hold(kind, name, namespace, at, until))

    def fail(self, path: str, *, status: int = 503, times: int = 1, method: str = "GET") -> Fault:
        """Answer ``status`` to the next ``times`` API requests to ``path`` (a prefix when it
        ends with ``*``), e.g. ``fail("/api/v1", times=2)`` for a discovery that is briefly
        unavailable; ``Fault.served`` counts the requests it answered."""
        if self._server is None:
            raise RuntimeError("sandbox not started")
        return self._server.faults.add(Fault(path, status, times, method.upper()))

    def restart_api_server(self) -> None:
        """Stop the API server and start a new one on the same address, port, certificate and
        token, with the same objects (as a real API server restarts while etcd keeps the
        data): every open connection and watch breaks, requests during the gap are refused,
        and clients must reconnect. The controllers and the installer keep running."""
        if self._server is None:
            raise RuntimeError("sandbox not started")
        port, faults = self._server.port, self._server.faults
        self._server.stop()
        self._server = ApiServer(self.api, address=self.address, port=port, token=self.token,
                                 tls=self._certs.server_context())
        self._server.faults = faults
        self._server.start()

    def chaos(self, *, seed: int = 0, rate: float = 0.1, actions: Sequence[str] = ACTIONS,
              limit: int | None = None, delay: float = 0.2, installer: bool = False,
              spare: Sequence[str] = ()) -> Chaos:
        """Seeded random faults on a share (``rate``) of the API server's requests — or, with
        ``installer=True``, of the installer's: 503, 500, 429 with ``Retry-After``, connection
        resets, slow answers (``delay`` seconds), dropped watches (:data:`~.faults.ACTIONS`).
        ``limit`` ends the episode after that many faults (a transient fault); ``rate=1`` with
        no limit is a persistent one. A faulted installer request never reaches the installer.
        Returns the :class:`~.faults.Chaos`; ``injected`` counts what it did."""
        if self._server is None or self._installer is None:
            raise RuntimeError("sandbox not started")
        chaos = Chaos(seed=seed, rate=rate, actions=tuple(actions), limit=limit, delay=delay, spare=tuple(spare))
        (self._installer.faults if installer else self._server.faults).chaos = chaos
        return chaos

    def release(self, hold: Hold) -> None:
        """End a hold; the controllers move the object on from their next pass."""
        self.api.holds.release(hold)

    # -- what users need ----------------------------------------------------------------------

    @property
    def server_url(self) -> str:
        if self._server is None:
            raise RuntimeError("sandbox not started")
        return f"https://{self.address}:{self._server.port}"

    @property
    def installer_log_path(self) -> Path:
        """The simulated installer's log (``/var/cpaas/data/installer.log`` on minialauda): a
        line for each step it starts or finishes, so a client can follow it."""
        return self.state_dir / "installer.log"

    @property
    def installer_url(self) -> str:
        """``http://<podIP>:<port>``; the seed's ``INSTALLER_IP:8080``."""
        if self._installer is None:
            raise RuntimeError("sandbox not started")
        return f"http://{self.address}:{self._installer.port}"

    @property
    def global_cluster(self) -> GlobalCluster | None:
        """The new global cluster (``Cluster cpaas-system/global``) once its control plane is
        provisioned; ``None`` before."""
        return self.global_clusters.get("cpaas-system", "global")

    @property
    def installer_port(self) -> int:
        if self._installer is None:
            raise RuntimeError("sandbox not started")
        return self._installer.port

    @property
    def registry_address(self) -> str:
        """``host:port`` of minialauda's registry here: this sandbox's LOCAL_REGISTRY_ADDRESS."""
        if self._registry_server is None:
            raise RuntimeError("sandbox not started")
        return self._registry_server.host_port

    @property
    def ca_pem(self) -> bytes:
        return (self.state_dir / "ca.crt").read_bytes()

    def describe(self) -> dict[str, Any]:
        """What ``acp-install sandbox up`` prints."""
        return {
            "kubeconfig": str(self.kubeconfig_path),
            "server": self.server_url,
            "installer": self.installer_url,
            "registry": self.registry_address,
            "scenario": self.scenario.name,
            "global_address": self.global_clusters.address,
            "speed": self.speed,
            "state_dir": str(self.state_dir),
            "charts": sorted(c.release for c in self.declarations.charts),
            "declaration_errors": list(self.declarations.errors),
        }
