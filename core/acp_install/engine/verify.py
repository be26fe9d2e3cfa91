"""The seed's "Verification", run on the **new** global cluster, with the Common Stalls row.

The installation is successful (seed, Verification) when the installer reports ``status:
Success`` / ``type: Complete`` (phase ``monitor``), all nodes are Ready, the critical
``cpaas-system`` Pods are Running or Completed, and ``ClusterModule/global`` reports the base
module healthy; the seed also reads the phase of ``clusters.platform.tkestack.io/global``.
Each check that fails names the row of the "Common Stalls and Where to Look" table its symptom
belongs to, so ``verify`` says where to look rather than only "not healthy":

- a Node NotReady → "KubeadmControlPlane does not reach Ready" (``kubectl get nodes`` with the
  new cluster kubeconfig; join progress of the remaining nodes);
- a ``kube-system`` (or ``cpaas-system``) Pod failing to pull → "Pods in kube-system stay
  Pending or fail to pull images" (the node-facing registry);
- ``ClusterModule/global`` not healthy, or a platform Pod or the platform Cluster not running →
  "ClusterModule/global does not reach a healthy phase" (its ``Status.conditions`` name the
  blocking module).

Which values count as healthy where the seed is silent is in ``docs/decisions.md``
("Verification on the new global cluster").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from . import stalls

if TYPE_CHECKING:
    from ..clients.kube import KubeClient
    from ..clients.retry import Deadline

__all__ = ["Check", "all_ok", "diagnosis", "symptoms", "verification"]

PLATFORM_CLUSTER_API = "platform.tkestack.io/v1"
CLUSTERMODULE_API = "cluster.alauda.io/v1alpha1"
#: Pod phases the seed's "Running or Completed" means
POD_OK = ("Running", "Succeeded")
#: healthy phases where the seed gives none (decisions.md): tkestack's ClusterPhase, ClusterModule's
PLATFORM_CLUSTER_OK = "Running"
CLUSTERMODULE_OK = "Running"

Obj = Mapping[str, Any]


@attrs.frozen
class Check:
    """One line of the verification: what was checked, whether it holds, what was seen."""

    name: str
    ok: bool
    summary: str
    #: the Common Stalls row a failure belongs to
    stall: stalls.Stall | None = None
    observed: tuple[str, ...] = ()
    #: the observations that show a cause (not only "not yet"): they may end the wait early
    causes: tuple[str, ...] = ()

    def format(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.summary}"


def _cond(obj: Obj, type_: str) -> Obj:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if isinstance(c, Mapping) and c.get("type") == type_:
            return c
    return {}


def _why(cond: Obj) -> str:
    return ": ".join(str(x) for x in (cond.get("reason"), cond.get("message")) if x)


def _name(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{ns}/{meta.get('name')}" if ns else str(meta.get("name"))


def check_nodes(nodes: Sequence[Obj]) -> Check:
    bad = [n for n in nodes if _cond(n, "Ready").get("status") != "True"]
    summary = f"{len(nodes) - len(bad)} of {len(nodes)} Ready"
    observed = tuple(_node_line(n) for n in bad)
    causes = tuple(_node_line(n) for n in bad
                   if _cond(n, "Ready").get("status") == "False" and _cond(n, "Ready").get("reason"))
    if not nodes:
        return Check("nodes", False, "no Node registered", stalls.KCP_NOT_READY,
                     ("kubectl get nodes lists none",))
    return Check("nodes", not bad, summary, stalls.KCP_NOT_READY if bad else None, observed, causes)


def _node_line(node: Obj) -> str:
    ready = _cond(node, "Ready")
    return f"Node {_name(node)}: Ready={ready.get('status', 'Unknown')}" + (f" ({_why(ready)})" if _why(ready) else "")


def _waiting(pod: Obj) -> list[tuple[str, Obj]]:
    status = pod.get("status") or {}
    out = []
    for cs in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
        waiting = ((cs or {}).get("state") or {}).get("waiting")
        if waiting:
            out.append((str(cs.get("name")), waiting))
    return out


def _pod_line(pod: Obj) -> str:
    phase = (pod.get("status") or {}).get("phase") or "Unknown"
    waits = [f"{c}: {w.get('reason')}" + (f": {w['message']}" if w.get("message") else "")
             for c, w in _waiting(pod)]
    return f"Pod {_name(pod)}: {phase}" + (f" ({'; '.join(waits)})" if waits else "")


def _pulling(pod: Obj) -> bool:
    return any(stalls.IMAGE_PULL.search(f"{w.get('reason') or ''} {w.get('message') or ''}")
               for _, w in _waiting(pod))


def check_pods(namespace: str, pods: Sequence[Obj], *, required: bool, otherwise: stalls.Stall) -> Check:
    bad = [p for p in pods if (p.get("status") or {}).get("phase") not in POD_OK]
    name = f"{namespace} Pods"
    if required and not pods:
        return Check(name, False, "none (the platform is not deployed)", otherwise,
                     (f"kubectl get pods -n {namespace} lists none",))
    if not bad:
        return Check(name, True, f"{len(pods)} Running or Completed")
    stall = stalls.PODS_PENDING if any(_pulling(p) for p in bad) else otherwise
    return Check(name, False, f"{len(bad)} of {len(pods)} not Running or Completed", stall,
                 tuple(_pod_line(p) for p in bad), tuple(_pod_line(p) for p in bad if _pulling(p)))


def check_platform_cluster(obj: Obj | None, served: bool) -> Check:
    name = "clusters.platform.tkestack.io/global"
    if not served or obj is None:
        return Check(name, False, "not served yet" if not served else "does not exist",
                     stalls.CLUSTERMODULE_UNHEALTHY)
    phase = str((obj.get("status") or {}).get("phase") or "")
    return Check(name, phase == PLATFORM_CLUSTER_OK, f"phase {phase or '(none)'}",
                 None if phase == PLATFORM_CLUSTER_OK else stalls.CLUSTERMODULE_UNHEALTHY,
                 () if phase == PLATFORM_CLUSTER_OK else (f"platform Cluster global: phase {phase or '(none)'}",))


def clustermodule_healthy(obj: Obj) -> bool:
    """Ready=True; without a Ready condition, phase Running and no condition False."""
    ready = _cond(obj, "Ready").get("status")
    if ready is not None:
        return str(ready) == "True"
    conds = (obj.get("status") or {}).get("conditions") or []
    return (str((obj.get("status") or {}).get("phase")) == CLUSTERMODULE_OK
            and not any(str(c.get("status")) == "False" for c in conds if isinstance(c, Mapping)))


def check_clustermodule(obj: Obj | None, served: bool) -> Check:
    name = "ClusterModule/global"
    row = stalls.CLUSTERMODULE_UNHEALTHY
    if not served or obj is None:
        return Check(name, False, "not served yet" if not served else "does not exist", row)
    phase = (obj.get("status") or {}).get("phase") or "(none)"
    if clustermodule_healthy(obj):
        return Check(name, True, f"phase {phase}, Ready")
    failing = [c for c in (obj.get("status") or {}).get("conditions") or []
               if isinstance(c, Mapping) and str(c.get("status")) != "True"]
    observed = tuple(f"ClusterModule global: {c.get('type')}={c.get('status')}"
                     + (f" ({_why(c)})" if _why(c) else "") for c in failing)
    causes = tuple(line for c, line in zip(failing, observed, strict=True)
                   if str(c.get("status")) == "False" and _why(c))
    return Check(name, False, f"phase {phase}", row, observed or (f"ClusterModule global: phase {phase}",),
                 causes)


def verification(kube: KubeClient, *, deadline: Deadline | None = None) -> list[Check]:
    """Every check once, against the new global cluster (read only)."""
    nodes, _ = kube.list("v1", "Node", deadline=deadline)
    system, _ = kube.list("v1", "Pod", "kube-system", deadline=deadline)
    platform, _ = kube.list("v1", "Pod", "cpaas-system", deadline=deadline)
    served_cluster = kube.has_kind(PLATFORM_CLUSTER_API, "Cluster", deadline=deadline)
    cluster = kube.get(PLATFORM_CLUSTER_API, "Cluster", "global", deadline=deadline) if served_cluster else None
    served_module = kube.has_kind(CLUSTERMODULE_API, "ClusterModule", deadline=deadline)
    module = kube.get(CLUSTERMODULE_API, "ClusterModule", "global", deadline=deadline) if served_module else None
    return [
        check_nodes(nodes),
        check_pods("kube-system", system, required=False, otherwise=stalls.PODS_PENDING),
        check_pods("cpaas-system", platform, required=True, otherwise=stalls.CLUSTERMODULE_UNHEALTHY),
        check_platform_cluster(cluster, served_cluster),
        check_clustermodule(module, served_module),
    ]


def symptoms(checks: Iterable[Check]) -> list[stalls.Symptom]:
    """The visible causes among failing checks, for the fail-fast tracker."""
    return [stalls.Symptom(c.stall, f"{c.name}:{line}", line) for c in checks
            if not c.ok and c.stall is not None for line in c.causes]


def all_ok(checks: Iterable[Check]) -> bool:
    return all(c.ok for c in checks)


#: which row speaks first when several checks fail: the lowest layer (nodes, then the images
#: they pull, then the platform on top)
_PRIORITY = (stalls.KCP_NOT_READY, stalls.PODS_PENDING, stalls.CLUSTERMODULE_UNHEALTHY)


def row_of(checks: Sequence[Check]) -> stalls.Stall:
    """The row of the first failing layer."""
    rows = [c.stall for c in checks if not c.ok and c.stall is not None]
    return next((r for r in _PRIORITY if r in rows), rows[0] if rows else stalls.CLUSTERMODULE_UNHEALTHY)


def diagnosis(checks: Sequence[Check], *, what: str, facts: Iterable[str] = (),
              stall: stalls.Stall | None = None) -> str:
    """The message of a failed verification: ``stall`` (default: the row of the first failing
    layer), every failing check's observations under it."""
    failing = [c for c in checks if not c.ok]
    stall = stall or row_of(checks)
    observed = [line for c in failing for line in (c.format(), *(f"  {o}" for o in c.observed))]
    return stalls.report(stall, what=what, observed=observed, facts=facts)
