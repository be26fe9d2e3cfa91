"""What ``acp-install status`` reports: the work directory's run state, and the live cluster.

Two sources, because each knows what the other cannot:

- the state file (``.acp-install/state.json``) and its lock say which phases finished, which
  failed, and whether a run holds the work directory right now (:func:`run_state`);
- the bootstrap cluster says where the objects are — the ``Cluster`` object and its
  infrastructure cluster, the control plane with its Machines, the machine deployments, each with
  its ``Ready`` condition and reason (:func:`cluster_tree`, the shape ``clusterctl describe
  cluster`` shows) — and the installer says its stage (:func:`installer_stage`).

Once the control plane is provisioned, the new global cluster's Nodes are read too, through
the Cluster API kubeconfig Secret in minialauda (:func:`read_new_cluster`).

Reading the clusters is best effort: an unreachable API server or installer is reported, never
an error, so ``status`` still answers from the state file. What is reported is names, phases,
conditions and reasons; the one Secret read (the new cluster's kubeconfig) stays in memory and
its credentials go to the redactor.

The exit code says the run state (``docs/exit-codes.md``): :data:`STATE_CODES`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from ..naming import GLOBAL, NAMESPACE
from .phases import PHASE_NAMES
from .state import LOCK_FILE, STATE_DIR, read_state

if TYPE_CHECKING:
    from ..clients.kube import KubeClient
    from ..clients.retry import Deadline

RunStateName = Literal["not-started", "running", "stopped", "failed", "complete"]

#: Exit code of ``acp-install status`` per run state. Not errors: a script polls ``status``
#: until it exits 0 (complete) or 23 (failed). 20-23 are above every error code (1-19, 130).
STATE_CODES: dict[str, int] = {"complete": 0, "not-started": 20, "running": 21, "stopped": 22,
                               "failed": 23}

CAPI = "cluster.x-k8s.io/v1beta1"
CLUSTER_LABEL = "cluster.x-k8s.io/cluster-name"
CONTROL_PLANE_LABEL = "cluster.x-k8s.io/control-plane"
DEPLOYMENT_LABEL = "cluster.x-k8s.io/deployment-name"


@attrs.frozen
class RunState:
    """The run state of a work directory: ``state`` and why (``detail``)."""

    state: RunStateName
    detail: str
    phases: dict[str, dict[str, Any]]
    provider: str | None = None
    installer: dict[str, Any] = attrs.field(factory=dict)
    #: ``{"server": ..., "verify": False}`` when the kubeconfig skipped TLS verification
    tls: dict[str, Any] = attrs.field(factory=dict)

    @property
    def exit_code(self) -> int:
        return STATE_CODES[self.state]


def _locked(workdir: str | os.PathLike[str]) -> bool:
    """A run holds the work directory's lock now (tried without waiting, released at once)."""
    import filelock

    path = os.path.join(os.fspath(workdir), STATE_DIR, LOCK_FILE)
    if not os.path.exists(path):
        return False
    lock = filelock.FileLock(path, timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        return True
    lock.release()
    return False


def error_words(text: str) -> str:
    """A phase's recorded error for a person: ``InstallerError: the installer reports failure``
    becomes ``the installer reports failure (exit code 11)``; an internal error's Python class
    is left out (``--debug`` shows it). The state file keeps the recorded text as it is."""
    import re

    from ..errors import EXIT_CODES

    codes = {name: code for code, name, _meaning in EXIT_CODES}
    name, sep, rest = text.partition(": ")
    if sep and name in codes:
        return f"{rest} (exit code {codes[name]})"
    internal = re.match(r"^[A-Za-z_][\w.]* \((an internal error.*)\)$", text)
    return internal.group(1) if internal else text


def run_state(workdir: str | os.PathLike[str]) -> RunState:
    """Not started, running (a run holds the lock), failed (a phase failed and no run is on),
    stopped (some phase not finished: ``--until``, an interrupt, a crash) or complete."""
    data = read_state(workdir)
    if data is None:
        return RunState("not-started", "no install state in this work directory", {})
    phases: dict[str, dict[str, Any]] = {n: dict((data.get("phases") or {}).get(n)
                                                 or {"status": "pending"}) for n in PHASE_NAMES}
    common: dict[str, Any] = {"phases": phases, "provider": data.get("provider"),
                              "installer": dict(data.get("installer") or {}),
                              "tls": dict(data.get("tls") or {})}
    running = next((n for n, p in phases.items() if p.get("status") == "running"), None)
    if _locked(workdir):
        return RunState("running", f"a run is under way (phase {running or 'starting'})", **common)
    failed = next((n for n, p in phases.items() if p.get("status") == "failed"), None)
    if failed is not None:
        return RunState("failed", f"phase {failed} failed: {error_words(str(phases[failed].get('error', '?')))}",
                        **common)
    if all(p.get("status") == "finished" for p in phases.values()):
        return RunState("complete", "every phase finished", **common)
    pending = next(n for n, p in phases.items() if p.get("status") != "finished")
    why = ("the last run ended without finishing it (crashed or killed)"
           if running else phases[pending].get("status", "pending"))
    return RunState("stopped", f"stopped before phase {pending} ({why})", **common)


# -- the cluster tree -------------------------------------------------------------------------


@attrs.frozen
class TreeNode:
    """One object of the tree: ``state`` is its phase or count (``Provisioned``, ``3/3 ready``),
    ``ready`` its ``Ready`` condition (``True``/``False``/``Unknown``, "" when it has none),
    ``reason``/``message`` those of the condition that explains it (when not ready)."""

    kind: str
    name: str
    state: str = ""
    ready: str = ""
    reason: str = ""
    message: str = ""
    node: str = ""
    children: tuple[TreeNode, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    def walk(self) -> list[TreeNode]:
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out


def _conditions(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list((obj.get("status") or {}).get("conditions") or [])


def _node(obj: Mapping[str, Any], state: str = "", children: tuple[TreeNode, ...] = ()) -> TreeNode:
    conds = _conditions(obj)
    ready = next((c for c in conds if c.get("type") == "Ready"), None)
    status = obj.get("status") or {}
    ready_text = str(ready.get("status", "")) if ready else (
        "True" if status.get("ready") is True else "False" if status.get("ready") is False else "")
    # the condition that explains a not-ready object: Ready itself; without a Ready condition
    # the first False one. A ready object needs no explaining (a Node's MemoryPressure=False
    # is good news).
    why = (ready if ready.get("status") != "True" else None) if ready else next(
        (c for c in conds if c.get("status") == "False"), None)
    meta = obj.get("metadata") or {}
    node_ref = (status.get("nodeRef") or {}).get("name", "")
    return TreeNode(str(obj.get("kind", "")), str(meta.get("name", "")), state, ready_text,
                    str((why or {}).get("reason", "") or ""), str((why or {}).get("message", "") or ""),
                    str(node_ref), children)


def _missing(ref: Mapping[str, Any], kube: KubeClient, deadline: Deadline) -> TreeNode:
    served = kube.has_kind(str(ref.get("apiVersion", "")), str(ref.get("kind", "")), deadline=deadline)
    return TreeNode(str(ref.get("kind", "")), str(ref.get("name", "")),
                    "not found" if served else "kind not served")


def _ref(kube: KubeClient, ref: Mapping[str, Any] | None, deadline: Deadline) -> Mapping[str, Any] | None:
    """The object a reference names; None when it is absent or its kind is not served."""
    if not ref or not ref.get("kind") or not ref.get("name"):
        return None
    api_version, kind = str(ref.get("apiVersion", "")), str(ref["kind"])
    if not kube.has_kind(api_version, kind, deadline=deadline):
        return None
    return kube.get(api_version, kind, str(ref["name"]), str(ref.get("namespace") or NAMESPACE),
                    deadline=deadline)


def _machine(kube: KubeClient, machine: Mapping[str, Any], deadline: Deadline) -> TreeNode:
    infra_ref = (machine.get("spec") or {}).get("infrastructureRef")
    infra = _ref(kube, infra_ref, deadline)
    children = (_node(infra),) if infra else ((_missing(infra_ref, kube, deadline),) if infra_ref else ())
    return _node(machine, str((machine.get("status") or {}).get("phase") or ""), children)


def _replicas(obj: Mapping[str, Any]) -> str:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    want = spec.get("replicas", status.get("replicas"))
    if want is None:
        return ""
    return f"{status.get('readyReplicas') or 0}/{want} ready"


def cluster_tree(kube: KubeClient, deadline: Deadline, *, name: str = GLOBAL,
                 namespace: str = NAMESPACE) -> TreeNode | None:
    """Cluster → infrastructure cluster, control plane → its Machines → their infrastructure
    machines, machine deployments → theirs; None when there is no ``Cluster`` yet."""
    if not kube.has_kind(CAPI, "Cluster", deadline=deadline):
        return None
    cluster = kube.get(CAPI, "Cluster", name, namespace, deadline=deadline)
    if cluster is None:
        return None
    spec = cluster.get("spec") or {}
    machines: list[Mapping[str, Any]] = []
    if kube.has_kind(CAPI, "Machine", deadline=deadline):
        items, _rv = kube.list(CAPI, "Machine", namespace, deadline=deadline)
        machines = sorted((m for m in items
                           if (m.get("metadata") or {}).get("labels", {}).get(CLUSTER_LABEL) == name
                           or (m.get("spec") or {}).get("clusterName") == name),
                          key=lambda m: str((m.get("metadata") or {}).get("name")))
    children: list[TreeNode] = []
    infra_ref = spec.get("infrastructureRef")
    infra = _ref(kube, infra_ref, deadline)
    if infra is not None:
        children.append(_node(infra))
    elif infra_ref:
        children.append(_missing(infra_ref, kube, deadline))
    cp_ref = spec.get("controlPlaneRef")
    control_plane = _ref(kube, cp_ref, deadline)
    cp_kind = str((cp_ref or {}).get("kind", ""))

    def in_control_plane(m: Mapping[str, Any]) -> bool:
        meta = m.get("metadata") or {}
        return CONTROL_PLANE_LABEL in (meta.get("labels") or {}) or any(
            o.get("kind") == cp_kind for o in meta.get("ownerReferences") or [])

    cp_machines = [m for m in machines if in_control_plane(m)]
    rest = [m for m in machines if not in_control_plane(m)]
    if control_plane is not None:
        children.append(_node(control_plane, _replicas(control_plane),
                              tuple(_machine(kube, m, deadline) for m in cp_machines)))
    elif cp_ref:
        children.append(attrs.evolve(_missing(cp_ref, kube, deadline), children=tuple(
            _machine(kube, m, deadline) for m in cp_machines)))
    if kube.has_kind(CAPI, "MachineDeployment", deadline=deadline):
        deployments, _rv = kube.list(CAPI, "MachineDeployment", namespace,
                                     label_selector=f"{CLUSTER_LABEL}={name}", deadline=deadline)
        for md in sorted(deployments, key=lambda d: str(d["metadata"]["name"])):
            md_name = md["metadata"]["name"]
            own = [m for m in rest if (m.get("metadata") or {}).get("labels", {}).get(DEPLOYMENT_LABEL) == md_name]
            rest = [m for m in rest if m not in own]
            children.append(_node(md, _replicas(md), tuple(_machine(kube, m, deadline) for m in own)))
    children.extend(_machine(kube, m, deadline) for m in rest)
    return _node(cluster, str((cluster.get("status") or {}).get("phase") or ""), tuple(children))


@attrs.frozen
class ClusterView:
    """What the bootstrap cluster said: ``tree`` when reachable, else ``error`` (in words);
    and the new global cluster's ``nodes`` once its kubeconfig exists (else ``nodes_error``)."""

    server: str = ""
    reachable: bool = False
    error: str = ""
    tree: TreeNode | None = None
    nodes_server: str = ""
    nodes: tuple[TreeNode, ...] = ()
    nodes_error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"server": self.server, "reachable": self.reachable, "error": self.error,
                "tree": self.tree.as_dict() if self.tree else None,
                "new_cluster": {"server": self.nodes_server, "error": self.nodes_error,
                                "nodes": [n.as_dict() for n in self.nodes]}}


def _node_row(node: Mapping[str, Any]) -> TreeNode:
    """A Node of the new cluster: roles and kubelet version as its state, Ready and why."""
    meta = node.get("metadata") or {}
    roles = sorted(k.split("/", 1)[1] for k in (meta.get("labels") or {})
                   if k.startswith("node-role.kubernetes.io/"))
    version = ((node.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", "")
    state = " ".join(p for p in (",".join(roles) or "worker", version) if p)
    return attrs.evolve(_node(node, state), kind="Node")


def read_new_cluster(kube: KubeClient | None, deadline: Deadline, *,
                     override: str | None = None) -> tuple[str, tuple[TreeNode, ...], str]:
    """(server, nodes, "") of the new global cluster, or ("", (), why not).

    Its kubeconfig comes from the Cluster API Secret in minialauda (or ``override``) and stays in
    memory; its credentials go to the client's redactor, so no error can quote them.
    """
    from ..clients.kubeconfigs import global_kubeconfig, kubeconfig_secret_name
    from ..clients.redact import Redactor
    from ..errors import AcpInstallError

    try:
        found = global_kubeconfig(kube, override=override, deadline=deadline)
    except AcpInstallError as err:
        return "", (), err.message
    if found is None:
        return "", (), (f"Secret {NAMESPACE}/{kubeconfig_secret_name(GLOBAL)} not there yet "
                         "(the control plane is not provisioned)")
    try:
        client = found.client(redact=Redactor(), request_timeout=max(1.0, min(deadline.remaining(), 5.0)))
    except AcpInstallError as err:
        return found.server, (), err.message
    try:
        items, _rv = client.list("v1", "Node", None, deadline=deadline)
        rows = tuple(_node_row(n) for n in sorted(items, key=lambda n: str(n["metadata"]["name"])))
        return found.server, rows, ""
    except AcpInstallError as err:
        return found.server, (), err.message
    finally:
        client.close()


def read_cluster(kubeconfig: str | None, seconds: float = 10.0, *,
                 global_kubeconfig: str | None = None) -> ClusterView:
    """The tree of the bootstrap cluster behind ``kubeconfig`` and the new cluster's nodes; an
    error in words for what is unreachable."""
    from ..clients.kube import KubeClient
    from ..clients.retry import Deadline
    from ..errors import AcpInstallError

    if kubeconfig is None:  # only the new cluster, from its own kubeconfig file
        server, nodes, why = read_new_cluster(None, Deadline(seconds), override=global_kubeconfig)
        return ClusterView(error="no kubeconfig of minialauda", nodes_server=server, nodes=nodes,
                           nodes_error=why)
    try:
        kube = KubeClient(kubeconfig, request_timeout=min(seconds, 5.0))
    except AcpInstallError as err:
        return ClusterView(error=err.message)
    try:
        tree = cluster_tree(kube, Deadline(seconds))
    except AcpInstallError as err:
        kube.close()
        return ClusterView(kube.server, False, err.message)
    try:
        server, nodes, why = read_new_cluster(kube, Deadline(seconds), override=global_kubeconfig)
    finally:
        kube.close()
    return ClusterView(kube.server, True, "", tree, server, nodes, why)


def installer_stage(address: str, seconds: float = 5.0) -> tuple[str, str]:
    """(the installer's stage in one line, "") or ("", why it could not be read).

    A snapshot, not a wait: each request may take ``seconds``, but a failing installer is
    retried for a second at most, and one that refuses the connection (after the install it is
    usually gone) is said at once: nothing listening is the fact to show, not a fault to wait on.
    """
    from ..clients.installer import InstallerClient
    from ..clients.retry import Deadline
    from ..errors import AcpInstallError

    try:
        with InstallerClient(address, timeout=seconds, connect_grace=0.0) as client:
            return client.progress(deadline=Deadline(min(seconds, 1.0))).summary(), ""
    except AcpInstallError as err:
        return "", err.message
