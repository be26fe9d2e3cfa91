"""Cluster API, simulated: Machines walk Pending -> Provisioning -> Provisioned -> Running.

For every ``Cluster`` whose control plane is a KubeadmControlPlane, the simulator plays the
KCP controller (one Machine per replica, staggered like KCP's one-at-a-time scale-up), the
MachineDeployment controller (worker Machines once the control plane is initialized), the
infrastructure provider (infra cluster ``status.ready``; the infra machine cloned from its template;
Machine addresses and providerID) and
the Cluster controller (phase, conditions). Scenario faults surface where the seed's "Common
Stalls" table tells users to look: Machine conditions, KCP conditions, Events (the new
cluster's Nodes and kube-system Pods are :mod:`.globalcluster`'s). Machine phase changes are
written to the log of the controller's Pod (:data:`CONTROLLER_POD`).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from ..api import Api
from ..data import clone
from ..errors import ApiError
from ..kinds import ResourceType
from ..scenarios import Scenario
from ..store import now_ts
from .base import Clock, Controller, condition, set_condition, short_hash

if TYPE_CHECKING:
    from ..provider import ProvisioningGate

__all__ = ["ClusterApiController"]

CAPI = "cluster.x-k8s.io/v1beta1"
BOOTSTRAP = "bootstrap.cluster.x-k8s.io/v1beta1"
CLUSTER_LABEL = "cluster.x-k8s.io/cluster-name"
CP_LABEL = "cluster.x-k8s.io/control-plane"
CP_NAME_LABEL = "cluster.x-k8s.io/control-plane-name"
MD_LABEL = "cluster.x-k8s.io/deployment-name"
MANAGER = "capi-controller-manager"
#: the controller's Pod in minialauda (its log records what the simulation does)
CONTROLLER_POD = ("cpaas-system", "capi-controller-manager-0")
PROVIDER_LABEL = "cluster.x-k8s.io/provider"
PHASES = ("Pending", "Provisioning", "Provisioned", "Running")


def _merge_conditions(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = list(old)
    for c in new:
        out = set_condition(out, c)
    return out


def _status(obj: dict[str, Any]) -> dict[str, Any]:
    return dict(obj.get("status") or {})


class ClusterApiController(Controller):
    def __init__(self, api: Api, clock: Clock, scenario: Scenario,
                 gates: dict[str, ProvisioningGate] | None = None) -> None:
        super().__init__(api, clock, scenario)
        self._gates = dict(gates or {})  # infra cluster kind -> provisioning gate (declared)
        self._born: dict[str, float] = {}  # machine uid -> sandbox time its clock starts
        self._gate_open: dict[str, float] = {}  # cluster uid -> inventory gate opened

    # -- entry ------------------------------------------------------------------------------

    def reconcile(self) -> None:
        cluster_rt = self.rt(CAPI, "Cluster")
        machine_rt = self.rt(CAPI, "Machine")
        if cluster_rt is None or machine_rt is None:
            return
        clusters, _ = self.api.store.list(cluster_rt)
        for cluster in clusters:
            if cluster["metadata"].get("deletionTimestamp"):
                continue
            try:
                self._cluster(cluster_rt, machine_rt, cluster)
            except ApiError:
                continue  # raced with a user edit; the next tick retries

    def _held(self, obj: dict[str, Any]) -> bool:
        """A hold on this object binds its status too (Clusters, control planes, machine
        deployments and infrastructure objects; Machines are asked where they move on)."""
        meta = obj["metadata"]
        return self.held(str(obj.get("kind", "")), meta.get("namespace"), meta["name"], obj)

    def _get_ref(self, ref: dict[str, Any], ns: str) -> tuple[ResourceType | None, Any]:
        rt = self.rt(str(ref.get("apiVersion", "")), str(ref.get("kind", "")))
        if rt is None or not ref.get("name"):
            return rt, None
        return rt, self.api.store.try_get(rt, ns, str(ref["name"]))

    def _cluster(self, cluster_rt: ResourceType, machine_rt: ResourceType, cluster: dict[str, Any]) -> None:
        meta = cluster["metadata"]
        ns, name = meta["namespace"], meta["name"]
        spec = cluster.get("spec") or {}
        now = self.clock.now()
        infra_ref = spec.get("infrastructureRef") or {}
        infra_rt, infra = self._get_ref(infra_ref, ns)
        if infra_rt is not None and infra is not None:
            self._infra_ready(infra_rt, infra)
        kcp_rt, kcp = self._get_ref(spec.get("controlPlaneRef") or {}, ns)

        gate_msg = ""
        gate = self._gates.get(str(infra_ref.get("kind", "")))
        if gate is not None and cluster["metadata"]["uid"] not in self._gate_open:
            wanted = int(((kcp or {}).get("spec") or {}).get("replicas") or 1)
            gate_msg = gate(self.api, ns, wanted) or ""
            if not gate_msg:
                self._gate_open[meta["uid"]] = now
        gate_at = self._gate_open.get(meta["uid"], 0.0)

        machines, _ = self.api.store.list(
            machine_rt, ns, lambda o: (o["metadata"].get("labels") or {}).get(CLUSTER_LABEL) == name
        )
        cp_machines: list[dict[str, Any]] = []
        if kcp_rt is not None and kcp is not None:
            cp_machines = self._ensure_machines(
                machine_rt,
                machines,
                cluster,
                owner=kcp,
                replicas=int(kcp["spec"].get("replicas") or 1),
                template_ref=((kcp["spec"].get("machineTemplate") or {}).get("infrastructureRef") or {}),
                version=str(kcp["spec"].get("version", "")),
                labels={CP_LABEL: "", CP_NAME_LABEL: kcp["metadata"]["name"]},
            )
        running_cp = 0
        for i, m in enumerate(cp_machines):
            phase = self._advance(machine_rt, m, i, gate_at, gate_msg, control_plane=True)
            running_cp += phase == "Running"
        initialized = running_cp > 0

        worker_machines: list[dict[str, Any]] = []
        md_rt = self.rt(CAPI, "MachineDeployment")
        if md_rt is not None:
            mds, _ = self.api.store.list(md_rt, ns, lambda o: (o.get("spec") or {}).get("clusterName") == name)
            for md in mds:
                if md["metadata"].get("deletionTimestamp"):
                    continue
                tmpl = (md.get("spec") or {}).get("template") or {}
                tspec = tmpl.get("spec") or {}
                ms = self._ensure_machines(
                    machine_rt,
                    machines,
                    cluster,
                    owner=md,
                    replicas=int(md["spec"].get("replicas", 1)) if initialized else 0,
                    template_ref=tspec.get("infrastructureRef") or {},
                    version=str(tspec.get("version", "")),
                    labels={MD_LABEL: md["metadata"]["name"]},
                    bootstrap_kind="KubeadmConfig",
                )
                ready = sum(
                    self._advance(machine_rt, m, 0, gate_at, gate_msg, control_plane=False) == "Running" for m in ms
                )
                self._md_status(md_rt, md, len(ms), ready)
                worker_machines += ms

        if kcp_rt is not None and kcp is not None:
            self._kcp_status(kcp_rt, kcp, cp_machines, running_cp)
        self._cluster_status(cluster_rt, cluster, infra is not None, initialized, kcp, running_cp, len(cp_machines))

    # -- objects ----------------------------------------------------------------------------

    def _infra_ready(self, rt: ResourceType, infra: dict[str, Any]) -> None:
        status = _status(infra)
        if status.get("ready") is True or self._held(infra):
            return
        status["ready"] = True
        # reason and message too: provider CRDs using metav1.Condition require them
        ready = condition("Ready", True, "InfrastructureReady", "infrastructure is ready")
        status["conditions"] = _merge_conditions(status.get("conditions") or [], [ready])
        self.api.set_status(rt, infra["metadata"].get("namespace"), infra["metadata"]["name"], status, manager=MANAGER)

    def _ensure_machines(
        self,
        machine_rt: ResourceType,
        machines: list[dict[str, Any]],
        cluster: dict[str, Any],
        *,
        owner: dict[str, Any],
        replicas: int,
        template_ref: dict[str, Any],
        version: str,
        labels: dict[str, str],
        bootstrap_kind: str = "KubeadmConfig",
    ) -> list[dict[str, Any]]:
        ns = cluster["metadata"]["namespace"]
        cname = cluster["metadata"]["name"]
        owner_meta = owner["metadata"]
        owned = [
            m
            for m in machines
            if any(o.get("uid") == owner_meta["uid"] for o in m["metadata"].get("ownerReferences") or [])
        ]
        names = [f"{owner_meta['name']}-{short_hash(owner_meta['uid'], str(i))}" for i in range(max(replicas, 0))]
        by_name = {m["metadata"]["name"]: m for m in owned}
        for m in owned:
            if m["metadata"]["name"] not in names:
                with contextlib.suppress(ApiError):
                    self.api.delete(machine_rt, ns, m["metadata"]["name"])
        infra_kind = str(template_ref.get("kind", "")).removesuffix("Template") or "Machine"
        out = []
        for mname in names:
            if mname in by_name:
                out.append(by_name[mname])
                continue
            body: dict[str, Any] = {
                "apiVersion": CAPI,
                "kind": "Machine",
                "metadata": {
                    "name": mname,
                    "namespace": ns,
                    "labels": {CLUSTER_LABEL: cname, **labels},
                    "ownerReferences": [
                        {
                            "apiVersion": owner["apiVersion"],
                            "kind": owner["kind"],
                            "name": owner_meta["name"],
                            "uid": owner_meta["uid"],
                            "controller": True,
                            "blockOwnerDeletion": True,
                        }
                    ],
                },
                "spec": {
                    "clusterName": cname,
                    "version": version or None,
                    "bootstrap": {
                        "configRef": {"apiVersion": BOOTSTRAP, "kind": bootstrap_kind, "name": mname, "namespace": ns}
                    },
                    "infrastructureRef": {
                        "apiVersion": template_ref.get("apiVersion", "infrastructure.cluster.x-k8s.io/v1beta1"),
                        "kind": infra_kind,
                        "name": mname,
                        "namespace": ns,
                    },
                },
                "status": {"phase": "Pending"},
            }
            if not version:
                del body["spec"]["version"]
            created, _ = self.api.create(machine_rt, body, ns, manager=MANAGER)
            self._born[created["metadata"]["uid"]] = self.clock.now()
            out.append(created)
        for m in out:
            self._ensure_infra_machine(m, template_ref)
        return out

    def _ensure_infra_machine(self, machine: dict[str, Any], template_ref: dict[str, Any]) -> None:
        """The infrastructure machine a Machine's ``infrastructureRef`` names, cloned from the
        machine template (its ``spec.template.spec``, named like the Machine, owned by it) as
        Cluster API does; admitted against the provider CRD like any write. Without the template
        (not applied yet) the next pass retries; without the kind nothing can be made."""
        ref = machine["spec"].get("infrastructureRef") or {}
        meta = machine["metadata"]
        ns = meta["namespace"]
        rt, infra = self._get_ref(ref, ns)
        if rt is None or infra is not None:
            return
        _, template = self._get_ref(template_ref, ns)
        if template is None:
            return
        tmpl = ((template.get("spec") or {}).get("template") or {})
        tmeta = tmpl.get("metadata") or {}
        body: dict[str, Any] = {
            "apiVersion": ref.get("apiVersion") or template.get("apiVersion"),
            "kind": ref["kind"],
            "metadata": {
                "name": ref["name"],
                "namespace": ns,
                "labels": {**(tmeta.get("labels") or {}), **(meta.get("labels") or {})},
                "annotations": {**(tmeta.get("annotations") or {}),
                                "cluster.x-k8s.io/cloned-from-name": template["metadata"]["name"],
                                "cluster.x-k8s.io/cloned-from-groupkind":
                                    f"{str(template_ref.get('apiVersion', '')).split('/')[0]}/{template['kind']}"},
                "ownerReferences": [{"apiVersion": CAPI, "kind": "Machine", "name": meta["name"],
                                     "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True}],
            },
            "spec": clone(tmpl.get("spec") or {}),
        }
        with contextlib.suppress(ApiError):  # raced with another pass: it exists now
            self.api.create(rt, body, ns, manager=MANAGER)

    def _advance(
        self,
        rt: ResourceType,
        machine: dict[str, Any],
        index: int,
        gate_at: float,
        gate_msg: str,
        *,
        control_plane: bool,
    ) -> str:
        meta = machine["metadata"]
        current = str(_status(machine).get("phase") or "Pending")
        if self.held("Machine", meta["namespace"], meta["name"], machine):
            return current
        now = self.clock.now()
        t = self.scenario.timing
        born = max(self._born.setdefault(meta["uid"], now), gate_at)
        start = born + (t.machine_stagger * index if control_plane else 0.0)
        step = max(int((now - start) // t.machine_step), 0) if not gate_msg else 0
        # one phase per pass at most: every phase is written (and can be held) on a loaded host
        done = PHASES.index(current) if current in PHASES else 0
        phase = PHASES[min(step, 3, done + 1)]
        infra_kind = (machine["spec"].get("infrastructureRef") or {}).get("kind", "Machine")
        reason = ""
        if self.scenario.machines_stuck:
            phase = "Pending"
            reason = (
                f"{infra_kind} {meta['name']}: failed to create virtual machine: "
                "insufficient quota in the target resource pool "
                "(sandbox scenario machines-pending)"
            )
        elif gate_msg:
            phase = "Pending"
        elif self.scenario.kcp_never_ready and control_plane and index > 0 and step >= 2:
            phase = "Provisioned"  # joined VMs whose etcd member never becomes healthy
        self._machine_status(rt, machine, phase, reason or gate_msg, bool(reason))
        if phase in ("Provisioned", "Running"):  # the provider has its VM: the infra machine is ready
            infra_rt, infra = self._get_ref(machine["spec"].get("infrastructureRef") or {}, meta["namespace"])
            if infra_rt is not None and infra is not None:
                self._infra_ready(infra_rt, infra)
        return phase

    def _machine_status(self, rt: ResourceType, m: dict[str, Any], phase: str, why: str, failed: bool) -> None:
        meta = m["metadata"]
        ns, name = meta["namespace"], meta["name"]
        n = PHASES.index(phase)
        status = _status(m)
        status["phase"] = phase
        status["bootstrapReady"] = n >= 1
        status["infrastructureReady"] = n >= 2
        status["observedGeneration"] = meta.get("generation", 1)
        conds: list[dict[str, Any]] = [
            condition("BootstrapReady", n >= 1, "" if n >= 1 else "WaitingForControlPlaneAvailable", severity="Info"),
        ]
        if failed:
            conds.append(condition("InfrastructureReady", False, "InstanceProvisionFailed", why, severity="Error"))
        elif n >= 2:
            conds.append(condition("InfrastructureReady", True))
        else:
            conds.append(
                condition(
                    "InfrastructureReady",
                    False,
                    "WaitingForInfrastructure" if why else "Provisioning",
                    why or "provisioning the virtual machine",
                    severity="Info",
                )
            )
        conds.append(condition("NodeHealthy", n >= 3, "" if n >= 3 else "WaitingForNodeRef", severity="Info"))
        conds.append(
            condition(
                "Ready",
                n >= 3,
                "" if n >= 3 else ("InstanceProvisionFailed" if failed else "WaitingForInfrastructure"),
                why if failed else "",
                severity="Error" if failed else "Info",
            )
        )
        status["conditions"] = _merge_conditions(status.get("conditions") or [], conds)
        if n >= 1:
            status["bootstrap"] = None
            status.pop("bootstrap")
        if n >= 2:
            octet = int(short_hash(meta["uid"], n=2).encode().hex(), 16) % 200 + 20
            status["addresses"] = [
                {"type": "InternalIP", "address": f"192.0.2.{octet}"},
                {"type": "Hostname", "address": name},
            ]
        if n >= 3:
            status["nodeRef"] = {"apiVersion": "v1", "kind": "Node", "name": name, "uid": meta["uid"]}
            status.setdefault("lastUpdated", now_ts())
        if (m.get("status") or {}).get("phase") != phase:
            self.api.log(*CONTROLLER_POD, f'"Machine phase changed" machine="{ns}/{name}" phase="{phase}"'
                         + (f' reason="{why}"' if why else ""))
        if failed:
            status["failureReason"] = "CreateError"
            status["failureMessage"] = why
            self.event(m, "Warning", "InstanceProvisionFailed", why, MANAGER)
        self.api.set_status(rt, ns, name, status, manager=MANAGER)
        if n >= 2 and not (m.get("spec") or {}).get("providerID"):
            live = self.api.store.try_get(rt, ns, name)
            if live is not None:
                live["spec"]["providerID"] = f"sandbox://{ns}/{name}"
                self.api.replace(rt, ns, name, live, manager=MANAGER, check_rv=False)

    def _kcp_status(self, rt: ResourceType, kcp: dict[str, Any], machines: list[dict[str, Any]], running: int) -> None:
        meta = kcp["metadata"]
        if self._held(kcp):
            return
        cluster_name = machines[0]["metadata"]["labels"][CLUSTER_LABEL] if machines else ""
        if cluster_name and (meta.get("labels") or {}).get(CLUSTER_LABEL) != cluster_name:
            # the real KCP controller labels its KCP; kubectl's CLUSTER column reads it
            live = self.api.store.try_get(rt, meta["namespace"], meta["name"])
            if live is not None:
                live["metadata"].setdefault("labels", {})[CLUSTER_LABEL] = cluster_name
                kcp, _ = self.api.replace(rt, meta["namespace"], meta["name"], live, manager=MANAGER, check_rv=False)
                meta = kcp["metadata"]
        replicas = len(machines)
        want = int(kcp["spec"].get("replicas") or 1)
        ready = running >= want and not self.scenario.kcp_never_ready
        status = _status(kcp)
        cluster = (meta.get("labels") or {}).get(CLUSTER_LABEL) or ""
        status.update(
            replicas=replicas,
            updatedReplicas=replicas,
            readyReplicas=running,
            unavailableReplicas=max(replicas - running, 0),
            initialized=running > 0,
            ready=running > 0,
            version=kcp["spec"].get("version"),
            observedGeneration=meta.get("generation", 1),
            selector=f"{CLUSTER_LABEL}{'=' + cluster if cluster else ''},{CP_LABEL}",
        )
        if self.scenario.kcp_never_ready and running > 0:
            first = machines[0]["metadata"]["name"] if machines else "?"
            why = (
                f"etcd member {first} reports the cluster unhealthy: "
                f"{max(replicas - 1, 0)} member(s) failed to join: context deadline exceeded "
                "(sandbox scenario kcp-not-ready)"
            )
            conds = [
                condition("Available", True),
                condition("EtcdClusterHealthy", False, "EtcdClusterUnhealthy", why, "Error"),
                condition("Ready", False, "EtcdClusterUnhealthy", why, "Error"),
            ]
            if "EtcdClusterUnhealthy" not in str((kcp.get("status") or {}).get("conditions")):
                self.api.log(*CONTROLLER_POD, f'"KubeadmControlPlane not ready" kcp="{meta["namespace"]}/'
                             f'{meta["name"]}" reason="EtcdClusterUnhealthy" message="{why}"')
            self.event(kcp, "Warning", "EtcdClusterUnhealthy", why, MANAGER)
        else:
            msg = "" if ready else f"{running} of {want} control plane machines ready"
            conds = [
                condition("Available", running > 0, "" if running else "WaitingForKubeadmInit", severity="Info"),
                condition("EtcdClusterHealthy", ready, "" if ready else "EtcdClusterInitializing", severity="Info"),
                condition("MachinesReady", ready, "" if ready else "WaitingForMachines", msg, severity="Info"),
                condition("Ready", ready, "" if ready else "ScalingUp", msg, severity="Info"),
            ]
        status["conditions"] = _merge_conditions(status.get("conditions") or [], conds)
        self.api.set_status(rt, meta["namespace"], meta["name"], status, manager=MANAGER)

    def _md_status(self, rt: ResourceType, md: dict[str, Any], replicas: int, ready: int) -> None:
        meta = md["metadata"]
        if self._held(md):
            return
        want = int((md.get("spec") or {}).get("replicas", 1))
        done = ready >= want
        status = _status(md)
        status.update(
            replicas=replicas,
            updatedReplicas=replicas,
            readyReplicas=ready,
            availableReplicas=ready,
            unavailableReplicas=max(want - ready, 0),
            observedGeneration=meta.get("generation", 1),
            phase="Running" if done else ("ScalingUp" if replicas < want or ready < want else "Running"),
        )
        status["conditions"] = _merge_conditions(
            status.get("conditions") or [],
            [
                condition("Available", done, "" if done else "WaitingForAvailableMachines", severity="Warning"),
                condition("Ready", done, "" if done else "WaitingForAvailableMachines", severity="Warning"),
            ],
        )
        self.api.set_status(rt, meta["namespace"], meta["name"], status, manager=MANAGER)

    def _cluster_status(
        self,
        rt: ResourceType,
        cluster: dict[str, Any],
        infra: bool,
        initialized: bool,
        kcp: dict[str, Any] | None,
        running: int,
        total: int,
    ) -> None:
        meta = cluster["metadata"]
        if self._held(cluster):
            return
        kcp_ready = False
        if kcp is not None:
            kcp_rt = self.rt(kcp["apiVersion"], kcp["kind"])
            live = self.api.store.try_get(kcp_rt, meta["namespace"], kcp["metadata"]["name"]) if kcp_rt else None
            conds = ((live or {}).get("status") or {}).get("conditions") or []
            kcp_ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds)
        phase = "Provisioned" if infra and initialized else ("Provisioning" if infra or total else "Pending")
        status = _status(cluster)
        status.update(
            phase=phase,
            infrastructureReady=infra,
            controlPlaneReady=kcp_ready,
            observedGeneration=meta.get("generation", 1),
        )
        status["conditions"] = _merge_conditions(
            status.get("conditions") or [],
            [
                condition("InfrastructureReady", infra, "" if infra else "WaitingForInfrastructure", severity="Info"),
                condition(
                    "ControlPlaneInitialized",
                    initialized,
                    "" if initialized else "WaitingForControlPlaneProviderInitialized",
                    severity="Info",
                ),
                condition(
                    "ControlPlaneReady",
                    kcp_ready,
                    "" if kcp_ready else "ScalingUp",
                    f"{running} of {total} control plane machines running" if not kcp_ready else "",
                    severity="Warning",
                ),
                condition("Ready", kcp_ready and infra, "" if kcp_ready else "ScalingUp", severity="Warning"),
            ],
        )
        self.api.set_status(rt, meta["namespace"], meta["name"], status, manager=MANAGER)
