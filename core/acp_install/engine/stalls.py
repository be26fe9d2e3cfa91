"""The seed's "Common Stalls and Where to Look" table, as data the engine reports from.

When a wait times out, the engine picks the row matching what it saw and puts its "first place
to look" and "what you are looking for" into the error, followed by the provider's own
diagnosis (``acp_diagnose``) of a snapshot of the bootstrap cluster.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from ..records import Diagnosis


@attrs.frozen
class Stall:
    """One row of the table."""

    key: str
    symptom: str
    look: str
    looking_for: str

    def format(self) -> str:
        return (f"{self.symptom}.\n  first place to look: {self.look}\n"
                f"  what you are looking for: {self.looking_for}")


MACHINES_PENDING = Stall(
    "machines-pending",
    "Machines stay in Pending or do not appear",
    "kubectl describe machine -n cpaas-system <machine>",
    "the provider-specific failure reason on the machine Bootstrap and Infrastructure "
    "conditions; IaaS quota, network and credential issues surface here")
KCP_NOT_READY = Stall(
    "kcp-not-ready",
    "KubeadmControlPlane does not reach Ready",
    "kubectl get nodes with the new cluster kubeconfig and "
    "kubectl describe kubeadmcontrolplane -n cpaas-system",
    "etcd health on the first control plane node and join progress for the remaining nodes")
PODS_PENDING = Stall(
    "kube-system-pending",
    "Pods in kube-system stay Pending or fail to pull images",
    "kubectl --kubeconfig <global-kubeconfig> describe pod -n kube-system <pod>",
    "image pull errors usually mean the node-facing registry address is not reachable from "
    "the new cluster's subnet")
INSTALLER_STALLED = Stall(
    "installer-stalled",
    "Installer progress API shows a stalled stage",
    "/var/cpaas/data/installer.log",
    "the most recent phase line and the most recent error message; retried errors repeat on "
    "a short interval, persistent errors do not advance")
CLUSTERMODULE_UNHEALTHY = Stall(
    "clustermodule-unhealthy",
    "ClusterModule/global does not reach a healthy phase",
    "kubectl --kubeconfig <global-kubeconfig> describe clustermodule global",
    "the Status.conditions describe which module is blocking the cluster from completing")
PACKAGES_PENDING = Stall(
    "packages-pending",
    "Provider CRDs do not appear after the AppReleases are applied",
    "kubectl get apprelease -n cpaas-system and kubectl describe apprelease -n cpaas-system "
    "<name>",
    "chart pull errors (was the package pushed with packtool to the local registry?) and the "
    "AppRelease status conditions")

ALL: tuple[Stall, ...] = (MACHINES_PENDING, KCP_NOT_READY, PODS_PENDING, INSTALLER_STALLED,
                          CLUSTERMODULE_UNHEALTHY, PACKAGES_PENDING)


def report(stall: Stall, *, what: str, diagnoses: Iterable[Diagnosis] = (),
           observed: Iterable[str] = ()) -> str:
    """The message of a :class:`~acp_install.errors.WaitTimeout`."""
    lines = [what, f"stall: {stall.format()}"]
    seen = list(observed)
    if seen:
        lines.append("last observed:")
        lines.extend(f"  {s}" for s in seen)
    diags = list(diagnoses)
    if diags:
        lines.append("provider diagnosis:")
        for d in diags:
            head = f"  {d.title}" + (f" ({d.object})" if d.object else "")
            lines.append(f"{head}: {d.detail}")
            if d.hint:
                lines.append(f"    fix: {d.hint}")
    return "\n".join(lines)
