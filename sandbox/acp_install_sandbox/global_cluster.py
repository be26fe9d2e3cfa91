"""The new global cluster: the second Kubernetes API a sandbox serves once a control plane is up.

Why a second API server and not more objects in minialauda: everything the seed does after the
installer reports success (Verification, the Common Stalls rows that say
``kubectl --kubeconfig <global-kubeconfig>``, the DR join) talks to the **new** cluster, with
its own address, CA and credentials, reached through the Cluster API kubeconfig Secret in
minialauda. A client that mixed the two up against a real installation would fail; against one
API it could not.

It reuses the sandbox machinery (:class:`~.store.Store`, :class:`~.api.Api`,
:class:`~.apiserver.ApiServer`, generated TLS) and serves, level-triggered from minialauda's
Machines and the installer's progress:

- one ``Node`` per Machine with a ``nodeRef`` (Ready; scenario ``node-not-ready`` makes one
  NotReady), kube-system Pods per node (``etcd-``/``kube-apiserver-`` on control-plane nodes,
  ``kube-ovn-cni-`` everywhere; ``ImagePullBackOff`` naming the node registry in scenario
  ``image-pull``);
- once the installer finishes its platform installation: the ``cpaas-system`` Pods the seed's
  DR section restarts (label ``service_name``; a deleted one comes back under a new name, like
  a Deployment's), the ``k8sadmin`` Secret (``data.token``, also accepted as a bearer token),
  ``clusters.platform.tkestack.io/global`` (``status.phase: Running``) and
  ``ClusterModule/global`` (Ready; scenario ``module-blocked`` leaves it blocked on a module);
- the ModuleInfo API (``cluster.alauda.io/v1alpha1`` ``moduleinfoes``, cluster-scoped): a
  created ModuleInfo gets ``status.phase: Running``;
- pod logs and Events.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import ipaddress
import secrets
import threading
from typing import Any

from .api import Api
from .apiserver import ApiServer
from .catalog import SchemalessKind, schemaless_crd
from .errors import ApiError
from .kinds import BUILTIN, CRD_RESOURCE, Kinds, ResourceType
from .kubeconfig import kubeconfig_text
from .recorder import Recorder
from .scenarios import Scenario
from .schema import CRDRegistry
from .store import Store, now_ts

__all__ = ["PLATFORM_KINDS", "PLATFORM_SERVICES", "GlobalCluster", "GlobalClusters"]

NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease", "cpaas-system")
PLATFORM_NAMESPACE = "cpaas-system"
#: the platform's kinds on the new cluster (their CRDs are not published: served schemaless)
PLATFORM_KINDS = (
    SchemalessKind("platform.tkestack.io", "v1", "Cluster", "clusters", False),
    SchemalessKind("cluster.alauda.io", "v1alpha1", "ClusterModule", "clustermodules", False),
    SchemalessKind("cluster.alauda.io", "v1alpha1", "ModuleInfo", "moduleinfoes", False),
)
#: ``service_name`` of the cpaas-system Pods the platform installation leaves running: the ones
#: the seed's DR section restarts by label (``kubectl delete po -l service_name=...``)
PLATFORM_SERVICES = ("alertmanager", "vmselect", "vminsert", "cpaas-elasticsearch", "cluster-transformer")
K8SADMIN = "k8sadmin"
CP_LABEL = "cluster.x-k8s.io/control-plane"
MANAGER = "acp-install-sandbox"


def _rt(plural: str) -> ResourceType:
    return next(rt for rt in BUILTIN if rt.plural == plural)


def _cond(type_: str, status: bool, reason: str = "", message: str = "") -> dict[str, Any]:
    c: dict[str, Any] = {"type": type_, "status": "True" if status else "False", "lastTransitionTime": now_ts()}
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


def _suffix(*parts: str, n: int = 5) -> str:
    from .controllers.base import short_hash

    return short_hash(*parts, n=n)


class GlobalCluster:
    """One new cluster's API server and what it serves (see the module docstring).

    Attributes for tests and demos: ``api`` (in-process, same admission as HTTP), ``recorder``
    (its own requests and writes: a DR join's Pod deletions and ModuleInfo creations show
    there), ``server_url``, ``ca_pem``, ``token`` (its admin) and ``k8sadmin_token``.
    """

    def __init__(self, *, name: str, namespace: str, address: str, scenario: Scenario) -> None:
        self.name = name
        self.namespace = namespace
        self.address = address
        self.scenario = scenario
        self.store = Store()
        self.kinds = Kinds(CRDRegistry())
        self.recorder = Recorder()
        self.api = Api(self.kinds, self.store, self.recorder)
        self.token = secrets.token_urlsafe(32)
        self.k8sadmin_token = secrets.token_urlsafe(32)
        self.ca_pem = b""
        self.platform_deployed = False
        self._server: ApiServer | None = None
        self._restarts: dict[str, int] = {}
        self._lock = threading.RLock()
        self._events: set[str] = set()
        self._kubeconfig: str | None = None
        self._synced: tuple[Any, ...] | None = None  # what the last sync saw (see sync)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> GlobalCluster:
        from .tls import make_certificates

        ns_type = _rt("namespaces")
        for ns in NAMESPACES:
            self.api.create(ns_type, {"metadata": {"name": ns}}, manager=MANAGER)
        for kind in PLATFORM_KINDS:
            self.api.apply_object(schemaless_crd(kind), manager=MANAGER)
        certs = make_certificates(self.address)  # its own CA: not minialauda's
        self.ca_pem = certs.ca_pem
        self._server = ApiServer(self.api, address=self.address, port=0, token=self.token,
                                 tls=certs.server_context(), extra_tokens=(self.k8sadmin_token,))
        self._server.start()
        return self

    def stop(self) -> None:
        self.store.close()
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def server_url(self) -> str:
        if self._server is None:
            raise RuntimeError("global cluster not started")
        return f"https://{self._server.address}:{self._server.port}"

    def kubeconfig(self) -> str:
        """The kubeconfig Cluster API writes into ``<cluster>-kubeconfig`` (key ``value``);
        rendered once (it is asked for on every controller pass and never changes)."""
        if self._kubeconfig is None:
            self._kubeconfig = kubeconfig_text(server=self.server_url, ca_pem=self.ca_pem, token=self.token,
                                               name=self.name, user=f"{self.name}-admin",
                                               context=f"{self.name}-admin@{self.name}")
        return self._kubeconfig

    # -- helpers -----------------------------------------------------------------------------

    def _event(self, involved: dict[str, Any], type_: str, reason: str, message: str, component: str) -> None:
        meta = involved["metadata"]
        key = f"{meta.get('uid')}/{reason}"
        if key in self._events:
            return
        self._events.add(key)
        ts = now_ts()
        with contextlib.suppress(ApiError):
            self.api.create(_rt("events"), {
                "metadata": {"name": f"{meta['name']}.{_suffix(key, n=10)}",
                             "namespace": meta.get("namespace") or "default"},
                "involvedObject": {"apiVersion": involved.get("apiVersion"), "kind": involved.get("kind"),
                                   "name": meta["name"], "namespace": meta.get("namespace"),
                                   "uid": meta.get("uid")},
                "type": type_, "reason": reason, "message": message, "source": {"component": component},
                "reportingComponent": component, "firstTimestamp": ts, "lastTimestamp": ts, "count": 1,
            }, manager=component)

    def _pod(self, namespace: str, name: str, labels: dict[str, str], image: str, node: str,
             *, pull_error: str = "") -> None:
        pods = _rt("pods")
        if self.store.try_get(pods, namespace, name) is not None:
            return
        ts = now_ts()
        container = labels.get("service_name") or labels.get("app") or name
        if pull_error:
            state: dict[str, Any] = {"waiting": {"reason": "ImagePullBackOff", "message": pull_error}}
            status: dict[str, Any] = {"phase": "Pending", "conditions": [
                _cond("PodScheduled", True), _cond("Ready", False, "ContainersNotReady")]}
        else:
            state = {"running": {"startedAt": ts}}
            status = {"phase": "Running", "startTime": ts, "conditions": [
                _cond(t, True) for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")]}
        status["containerStatuses"] = [{"name": container, "image": image, "imageID": "", "ready": not pull_error,
                                        "restartCount": 0, "started": not pull_error, "state": state}]
        try:
            created, _ = self.api.create(pods, {
                "metadata": {"name": name, "namespace": namespace, "labels": labels},
                "spec": {"nodeName": node, "containers": [{"name": container, "image": image}]},
                "status": status,
            }, manager="kubelet")
        except ApiError:
            return  # created meanwhile by the other thread
        if pull_error:
            self._event(created, "Warning", "Failed", pull_error, "kubelet")
        else:
            self.api.log(namespace, name, f"{container} started on node {node}")

    # -- what the new cluster runs ----------------------------------------------------------

    def sync(self, machines: list[dict[str, Any]], registry: str) -> None:
        """Nodes and kube-system Pods from minialauda's Machines; platform Pods restarted;
        ModuleInfo statuses. Called by minialauda's controller loop on every pass; what it does
        follows only from the Machines, the registry, this cluster's own objects and whether the
        platform is deployed, so a pass that sees all of them as the last one did does nothing
        (it would only read and copy every object again, 50 times a second)."""
        with self._lock:
            seen = (tuple((m["metadata"]["name"], m["metadata"].get("resourceVersion")) for m in machines),
                    registry, self.store.resource_version, self.platform_deployed)
            if seen == self._synced:
                return
            joined = sorted((m for m in machines if (m.get("status") or {}).get("nodeRef")),
                            key=lambda m: m["metadata"]["name"])
            for i, machine in enumerate(joined):
                self._node(machine, not_ready=self.scenario.node_not_ready and i == len(joined) - 1
                           and len(joined) == len(machines))
                self._system_pods(machine, registry)
            if self.platform_deployed:
                self._platform_pods()
            self._module_infos()
            self._synced = seen if self.store.resource_version == seen[2] else None

    def _node(self, machine: dict[str, Any], *, not_ready: bool) -> None:
        nodes = _rt("nodes")
        name = machine["status"]["nodeRef"]["name"]
        control_plane = CP_LABEL in (machine["metadata"].get("labels") or {})
        if not_ready:
            why = ("container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
                   "message:Network plugin returns error: cni plugin not initialized "
                   "(sandbox scenario node-not-ready)")
            ready = _cond("Ready", False, "KubeletNotReady", why)
        else:
            ready = _cond("Ready", True, "KubeletReady", "kubelet is posting ready status")
        status = {
            "conditions": [_cond("MemoryPressure", False, "KubeletHasSufficientMemory"),
                           _cond("DiskPressure", False, "KubeletHasNoDiskPressure"), ready],
            "addresses": (machine.get("status") or {}).get("addresses") or [],
            "nodeInfo": {"kubeletVersion": str((machine.get("spec") or {}).get("version") or ""),
                         "osImage": "immutable OS (sandbox)", "containerRuntimeVersion": "containerd://sandbox"},
        }
        live = self.store.try_get(nodes, None, name)
        if live is None:
            labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
            if control_plane:
                labels["node-role.kubernetes.io/control-plane"] = ""
            try:
                live, _ = self.api.create(nodes, {
                    "metadata": {"name": name, "labels": labels},
                    "spec": {"providerID": str((machine.get("spec") or {}).get("providerID") or "")},
                    "status": status,
                }, manager="kubelet")
            except ApiError:
                return
        elif (live.get("status") or {}).get("conditions", [{}])[-1].get("status") != ready["status"]:
            self.api.set_status(nodes, None, name, status, manager="kubelet")
        if not_ready:
            self._event(live, "Warning", "NodeNotReady", f"Node {name} status is now: NodeNotReady", "node-controller")

    def _system_pods(self, machine: dict[str, Any], registry: str) -> None:
        node = machine["status"]["nodeRef"]["name"]
        if CP_LABEL in (machine["metadata"].get("labels") or {}):
            for component in ("etcd", "kube-apiserver"):
                self._pod("kube-system", f"{component}-{node}", {"component": component, "tier": "control-plane"},
                          f"{registry}/tkestack/{component}:sandbox", node)
        image = f"{registry}/acp/kube-ovn:v1.14"
        pull_error = ""
        if self.scenario.image_pull_failure:
            pull_error = (f'Failed to pull image "{image}": dial tcp {registry}: i/o timeout '
                          "(sandbox scenario image-pull)")
        self._pod("kube-system", f"kube-ovn-cni-{_suffix(node)}", {"app": "kube-ovn-cni"}, image, node,
                  pull_error=pull_error)

    def _platform_pods(self) -> None:
        pods = _rt("pods")
        live, _ = self.store.list(pods, PLATFORM_NAMESPACE)
        present = {(p["metadata"].get("labels") or {}).get("service_name") for p in live
                   if not p["metadata"].get("deletionTimestamp")}
        nodes, _ = self.store.list(_rt("nodes"))
        node = nodes[0]["metadata"]["name"] if nodes else ""
        for service in PLATFORM_SERVICES:
            if service in present:
                continue
            generation = self._restarts.get(service, 0)
            self._restarts[service] = generation + 1
            name = f"{service}-{_suffix(self.name, service, str(generation))}"
            self._pod(PLATFORM_NAMESPACE, name, {"service_name": service, "app": service},
                      f"platform/{service}:sandbox", node)

    def _module_infos(self) -> None:
        rt = self.kinds.by_kind("cluster.alauda.io/v1alpha1", "ModuleInfo")
        if rt is None:
            return
        items, _ = self.store.list(rt)
        for item in items:
            if (item.get("status") or {}).get("phase"):
                continue
            module = (item["metadata"].get("labels") or {}).get("cpaas.io/module-name") or item["metadata"]["name"]
            self.api.set_status(rt, None, item["metadata"]["name"], {
                "phase": "Running", "version": (item.get("spec") or {}).get("version"),
                "conditions": [_cond("Ready", True, "Installed", f"module {module} is installed")],
            }, manager="cluster-module-controller")

    def import_from(self, source: Api, namespace: str) -> int:
        """What the installer's platform installation imports from minialauda (seed Step 8:
        "imports the Cluster API resources into the new global cluster"): the CRDs the
        provider charts installed, their objects in ``namespace``, and every object named by
        an import ConfigMap there (Step 7: ``data["resources.yaml"]``, entries
        ``{resource: plural[.group], names: [...]}``). Returns how many objects were copied."""
        import yaml

        copied = 0
        crds, _ = source.store.list(CRD_RESOURCE)
        kinds: list[ResourceType] = []
        for crd in crds:
            if (crd["metadata"].get("annotations") or {}).get("acp-install.io/sandbox") == "schemaless":
                continue  # bootstrap kinds (minialauda's own), not a chart's
            self.api.apply_object(_clean(crd), manager="cpaas-installer")
            spec = crd.get("spec") or {}
            rt = source.kinds.by_path(str(spec.get("group")), _storage_version(spec), str(spec["names"]["plural"]))
            if rt is not None and rt.namespaced:
                kinds.append(rt)
        wanted: list[tuple[ResourceType, str]] = []
        for rt in kinds:
            items, _ = source.store.list(rt, namespace)
            wanted += [(rt, o["metadata"]["name"]) for o in items]
        configmaps, _ = source.store.list(_rt("configmaps"), namespace)
        for cm in configmaps:
            try:
                body = yaml.safe_load((cm.get("data") or {}).get("resources.yaml") or "") or {}
            except yaml.YAMLError:
                continue
            for entry in body.get("resources") or [] if isinstance(body, dict) else []:
                plural, _, group = str(entry.get("resource", "")).partition(".")
                found = [rt for rt in source.kinds.all() if rt.plural == plural and rt.group == group]
                wanted += [(found[0], str(n)) for n in entry.get("names") or [] if found]
        for rt, name in wanted:
            obj = source.store.try_get(rt, namespace, name)
            if obj is None or self.kinds.by_kind(rt.api_version, rt.kind) is None:
                continue
            try:
                self.api.apply_object(_clean(obj), manager="cpaas-installer")
                copied += 1
            except ApiError:
                continue
        return copied

    def deploy_platform(self, product: Any) -> None:
        """What the installer's platform installation leaves on the new cluster (called once
        the installer reports success): k8sadmin, the platform Cluster, ClusterModule/global and
        the cpaas-system Pods."""
        with self._lock:
            self.api.apply_object({
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": K8SADMIN, "namespace": PLATFORM_NAMESPACE},
                "type": "Opaque",
                "data": {"token": base64.b64encode(self.k8sadmin_token.encode()).decode()},
            }, manager="cpaas-installer")
            rt = self.kinds.by_kind("platform.tkestack.io/v1", "Cluster")
            assert rt is not None
            self.api.apply_object({"apiVersion": "platform.tkestack.io/v1", "kind": "Cluster",
                                   "metadata": {"name": self.name}, "spec": {}},
                                  manager="cpaas-installer")
            self.api.set_status(rt, None, self.name, {"phase": "Running", "conditions": [
                _cond("Ready", True, "Running")]}, manager="cpaas-installer")
            module = {"apiVersion": "cluster.alauda.io/v1alpha1", "kind": "ClusterModule",
                      "metadata": {"name": self.name, "labels": {"cpaas.io/cluster-name": self.name}},
                      "spec": {"product": product if isinstance(product, list) else []}}
            self.api.apply_object(module, manager="cpaas-installer")
            if self.scenario.module_blocked:
                why = ("module base is not healthy: deployment cpaas-system/cluster-transformer has 0 of 1 "
                       "replicas available (sandbox scenario module-blocked)")
                status = {"phase": "Processing", "conditions": [
                    _cond("ModuleReady/base", False, "ModuleNotReady", why),
                    _cond("Ready", False, "ModuleNotReady", why)]}
            else:
                status = {"phase": "Running", "conditions": [
                    _cond("Ready", True, "Installed", "all modules are installed")]}
            mrt = self.api.resource_for(module)
            self.api.set_status(mrt, None, self.name, status, manager="cpaas-installer")
            self.platform_deployed = True
            self._platform_pods()


def _clean(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy fit to apply elsewhere: no server bookkeeping, owners or status."""
    meta = {k: v for k, v in obj["metadata"].items()
            if k not in ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
                         "ownerReferences", "deletionTimestamp", "finalizers")}
    return {**{k: v for k, v in obj.items() if k != "status"}, "metadata": meta}


def _storage_version(spec: dict[str, Any]) -> str:
    versions = spec.get("versions") or []
    stored = [v for v in versions if v.get("storage")] or versions
    return str(stored[0]["name"]) if stored else ""


def _neighbour(address: str) -> str:
    """A loopback address next to minialauda's (127.x.y.z+1): 'its own loopback address'."""
    ip = ipaddress.ip_address(address)
    last = int(ip) & 0xFF
    return str(ipaddress.ip_address(int(ip) + (1 if last < 254 else -1)))


class GlobalClusters:
    """The new clusters of one sandbox, by (namespace, name) of their Cluster API Cluster."""

    def __init__(self, *, address: str, scenario: Scenario, own_address: str | None = None) -> None:
        self.sandbox_address = address
        self.address = own_address or _neighbour(address)
        self.scenario = scenario
        self._clusters: dict[tuple[str, str], GlobalCluster] = {}
        self._lock = threading.Lock()
        self._stopped = False

    def get(self, namespace: str, name: str) -> GlobalCluster | None:
        with self._lock:
            return self._clusters.get((namespace, name))

    def all(self) -> list[GlobalCluster]:
        with self._lock:
            return list(self._clusters.values())

    def ensure(self, namespace: str, name: str) -> GlobalCluster | None:
        """The running cluster for a provisioned Cluster, started on first call."""
        with self._lock:
            if self._stopped:
                return None
            found = self._clusters.get((namespace, name))
            if found is not None:
                return found
            gc = GlobalCluster(name=name, namespace=namespace, address=self.address, scenario=self.scenario)
            try:
                gc.start()
            except OSError as err:
                gc.stop()
                if err.errno != errno.EADDRNOTAVAIL or self.address == self.sandbox_address:
                    raise
                # not Linux: only 127.0.0.1 exists; share minialauda's address (another port)
                self.address = self.sandbox_address
                gc = GlobalCluster(name=name, namespace=namespace, address=self.address,
                                   scenario=self.scenario).start()
            self._clusters[(namespace, name)] = gc
            return gc

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            clusters = list(self._clusters.values())
        for gc in clusters:
            gc.stop()
