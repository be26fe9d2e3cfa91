"""The handoff gate: may the bootstrap host (minialauda) be decommissioned?

Run against the **final** global cluster after the installer reports success, reached like
phase ``verify`` reaches it: its Cluster API kubeconfig Secret in minialauda, or a kubeconfig
file given explicitly. The procedure's
rule for every provider: delete only the KIND cluster, never the ``Cluster``/KCP/provider objects
(they own the live VMs), and only once everything Step 7 imported is present in the new cluster.
The core checks that generic part (every imported object by name exists); the provider adds its
own gate through ``acp_ready_gates(gate="handoff")``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from ..clients.kube import KubeClient
from ..clients.kubeconfigs import MINIALAUDA_HINT
from ..clients.retry import Deadline
from ..errors import ClusterError, UsageError
from ..plan import InstallPlan
from ..plugins import Provider
from ..records import Finding
from ..yamlio import load_all

#: Kinds every snapshot includes besides the plan's: what handoff jobs and imports produce.
CORE_KINDS = {"ConfigMap": "v1", "Secret": "v1", "ServiceAccount": "v1", "Job": "batch/v1"}
#: Cluster-scoped kinds, listed cluster-wide (imported CRDs must be there too).
CLUSTER_KINDS = {"CustomResourceDefinition": "apiextensions.k8s.io/v1"}


def _imported(plan: InstallPlan) -> Iterator[tuple[str, str]]:
    """(resource, name) of every named entry of the Step 7 ConfigMap."""
    if plan.extra_resources is None:
        return
    body = load_all(plan.extra_resources["data"]["resources.yaml"])[0][0] or {}
    for entry in body.get("resources") or []:
        for name in entry.get("names") or []:
            yield str(entry["resource"]), str(name)


def snapshot(kube: KubeClient, plan: InstallPlan, deadline: Deadline) -> dict[str, list[Any]]:
    """Kind -> objects of the final cluster, for the kinds the plan and the gate look at."""
    kinds = dict(CORE_KINDS)
    for obj in [*plan.package_objects, *plan.manifest]:
        kinds.setdefault(str(obj["kind"]), str(obj["apiVersion"]))
    out: dict[str, list[Any]] = {}
    for kind, api_version in sorted(kinds.items()):
        if kube.has_kind(api_version, kind, deadline=deadline):
            out[kind], _rv = kube.list(api_version, kind, plan.spec.namespace, deadline=deadline)
    for kind, api_version in CLUSTER_KINDS.items():
        out[kind], _rv = kube.list(api_version, kind, None, deadline=deadline)
    return out


def _plural_of(kind: str) -> str:
    return kind.lower() + "s"


def generic_findings(plan: InstallPlan, snap: dict[str, list[Any]]) -> list[Finding]:
    """Every object Step 7 imported by name must exist in the final cluster."""
    present = {(_plural_of(k), str((o.get("metadata") or {}).get("name"))) for k, objs in snap.items()
               for o in objs}
    findings = []
    for resource, name in _imported(plan):
        plural = resource.split(".")[0]
        if (plural, name) not in present:
            findings.append(Finding(
                "error", f"{resource}/{name}", f"imported by {plan.provider.import_configmap} but "
                "missing in the final global cluster", fix="check the installer log; do not delete the "
                "bootstrap host until it is there", rule="handoff-import"))
    return findings


#: The bootstrap cluster runs the installer Pod (seed Step 8); the final global cluster does not.
INSTALLER_SELECTOR = "service_name=cpaas-installer"


def is_bootstrap_cluster(kube: KubeClient, plan: InstallPlan, deadline: Deadline) -> bool:
    pods, _rv = kube.list("v1", "Pod", plan.spec.namespace, label_selector=INSTALLER_SELECTOR,
                          deadline=deadline)
    return bool(pods)


def final_cluster(plan: InstallPlan, kubeconfig: str | os.PathLike[str] | None, *,
                  global_kubeconfig: str | os.PathLike[str] | None, deadline: Deadline) -> KubeClient:
    """A client of the final global cluster: ``global_kubeconfig`` if given, else the Cluster
    API kubeconfig Secret read from minialauda (``kubeconfig``), as phase ``verify`` does."""
    from ..clients.kubeconfigs import global_kubeconfig as find
    from ..clients.kubeconfigs import kubeconfig_secret_name

    cluster = next((o for o in plan.manifest if o.get("kind") == "Cluster"), None)
    name = str(((cluster or {}).get("metadata") or {}).get("name") or "global")
    if global_kubeconfig is not None:
        found = find(None, override=global_kubeconfig)
    else:
        if kubeconfig is None:
            raise UsageError("handoff-check needs minialauda's kubeconfig (to read the new "
                             "cluster's) or --global-kubeconfig", hint=MINIALAUDA_HINT)
        with KubeClient(kubeconfig) as boot:
            found = find(boot, namespace=plan.spec.namespace, cluster=name, deadline=deadline)
        if found is None:
            raise ClusterError(
                f"Secret {plan.spec.namespace}/{kubeconfig_secret_name(name)} (the new global "
                "cluster's kubeconfig) does not exist in minialauda",
                hint="the control plane is not provisioned: finish the install first, or pass "
                     "--global-kubeconfig FILE")
    assert found is not None
    return found.client()


def handoff_check(plan: InstallPlan, provider: Provider,
                  kubeconfig: str | os.PathLike[str] | None = None, *,
                  global_kubeconfig: str | os.PathLike[str] | None = None,
                  timeout: float = 120.0) -> list[Finding]:
    """Findings that block decommissioning the bootstrap host (errors) or deserve a look.

    The final global cluster is found through minialauda (``kubeconfig``: its Cluster API
    kubeconfig Secret) unless ``global_kubeconfig`` names its kubeconfig file.
    """
    deadline = Deadline(timeout)
    with final_cluster(plan, kubeconfig, global_kubeconfig=global_kubeconfig,
                       deadline=deadline) as kube:
        if is_bootstrap_cluster(kube, plan, deadline):
            return [Finding("error", "--global-kubeconfig", "this is the bootstrap cluster "
                            "(minialauda): it runs the cpaas-installer Pod",
                            fix="pass the kubeconfig of the NEW global cluster (or leave "
                                "--global-kubeconfig out: it is read from minialauda); the check "
                                "must look at where the objects were imported",
                            rule="handoff-target")]
        snap = snapshot(kube, plan, deadline)
    gate = provider.ready_gates(plan.spec, "handoff", snap)
    # one finding per missing object: the provider's gate may already name it
    named = {f.path.split("/", 1)[-1] for f in gate}
    generic = [f for f in generic_findings(plan, snap) if f.path.split("/", 1)[-1] not in named]
    return [*generic, *gate]
