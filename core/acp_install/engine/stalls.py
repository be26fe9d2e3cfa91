"""The seed's "Common Stalls and Where to Look" table, as data the engine reports from.

When a wait times out, the engine picks the row matching what it saw and puts its "first place
to look" and "what you are looking for" into the error, followed by the provider's own
diagnosis (``acp_diagnose``) of a snapshot of the bootstrap cluster.

Fail fast: some causes are visible long before a phase deadline (an hour for the control
plane): a Machine condition at severity ``Error`` or a ``failureReason``, a KubeadmControlPlane
condition at severity ``Error`` (``EtcdClusterUnhealthy``), an image pull error in the installer
progress or in a ``kube-system`` Pod. The functions ``*_symptoms`` turn what a wait observes
into :class:`Symptom` values, each tied to its table row; :class:`FailFast` keeps when each was
first seen and reports the one that persisted for the grace period, so the engine can stop
waiting and exit with the diagnosis (:class:`~acp_install.errors.StallDiagnosed`). A symptom
that clears before its grace (a registry that comes up late) resets.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

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
           observed: Iterable[str] = (), also: Iterable[Stall] = (),
           facts: Iterable[str] = ()) -> str:
    """The message of a :class:`~acp_install.errors.WaitTimeout`.

    ``also``: rows worth a look after the first one (their first place to look only);
    ``facts``: values from the spec the row's check needs (e.g. the node-facing registry).
    """
    lines = [what, f"stall: {stall.format()}"]
    lines.extend(f"  {fact}" for fact in facts)
    lines.extend(f"  also look at: {row.look} ({row.symptom[:1].lower()}{row.symptom[1:]})" for row in also)
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


# -- fail fast -------------------------------------------------------------------------------

#: What an image pull failure looks like in a Pod's waiting reason, an Event or an installer
#: message (kubelet's reasons and messages).
IMAGE_PULL = re.compile(r"ImagePullBackOff|ErrImagePull|ErrImageNeverPull|InvalidImageName|"
                        r"Back-off pulling image|Failed to pull image|pulling image",
                        re.IGNORECASE)
#: An installer message naming the platform module it waits for or failed on.
MODULE = re.compile(r"\bmodules?\s+'?\"?([A-Za-z0-9][\w.-]*)'?\"?", re.IGNORECASE)


@attrs.frozen
class Symptom:
    """A visible cause of a stall: which row of the table, and the line that shows it.

    ``key`` identifies the symptom across observations (object, condition type and reason),
    so a condition that stays the same keeps its first-seen time.
    """

    stall: Stall
    key: str
    detail: str


def _meta_name(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name"))


def _error_conditions(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Conditions that are False at severity Error (Cluster API's "something is wrong")."""
    return [c for c in ((obj.get("status") or {}).get("conditions") or [])
            if isinstance(c, Mapping) and str(c.get("status")) == "False"
            and str(c.get("severity") or "").lower() == "error"]


def _why(cond: Mapping[str, Any]) -> str:
    why = ": ".join(str(x) for x in (cond.get("reason"), cond.get("message")) if x)
    return f"{cond.get('type')}=False" + (f" ({why})" if why else "")


def machine_symptoms(machines: Iterable[Mapping[str, Any]]) -> list[Symptom]:
    """Machines with a ``failureReason`` or a condition at severity Error (row 1)."""
    out = []
    for m in machines:
        name = _meta_name(m)
        status = m.get("status") or {}
        conds = _error_conditions(m)
        # Ready mirrors the failing condition: show the cause, not its echo
        causes = [c for c in conds if c.get("type") != "Ready"] or conds
        for c in causes:
            out.append(Symptom(MACHINES_PENDING, f"Machine/{name}:{c.get('type')}:{c.get('reason')}",
                               f"Machine {name}: {_why(c)}"))
        if status.get("failureReason") and not causes:
            why = ": ".join(str(x) for x in (status.get("failureReason"),
                                             status.get("failureMessage")) if x)
            out.append(Symptom(MACHINES_PENDING, f"Machine/{name}:failure:{status['failureReason']}",
                               f"Machine {name}: failure {why}"))
    return out


def kcp_symptoms(kcp: Mapping[str, Any] | None) -> list[Symptom]:
    """KubeadmControlPlane conditions at severity Error, e.g. ``EtcdClusterUnhealthy`` (row 2)."""
    if not kcp:
        return []
    conds = _error_conditions(kcp)
    causes = [c for c in conds if c.get("type") != "Ready"] or conds
    name = _meta_name(kcp)
    return [Symptom(KCP_NOT_READY, f"KubeadmControlPlane/{name}:{c.get('type')}:{c.get('reason')}",
                    f"KubeadmControlPlane {name}: {_why(c)}") for c in causes]


def pod_symptoms(pods: Iterable[Mapping[str, Any]], *, where: str = "") -> list[Symptom]:
    """Pods whose containers wait on an image pull error (row 3, the node-facing registry)."""
    out = []
    for pod in pods:
        meta = pod.get("metadata") or {}
        status = pod.get("status") or {}
        for cs in [*(status.get("initContainerStatuses") or []),
                   *(status.get("containerStatuses") or [])]:
            waiting = ((cs or {}).get("state") or {}).get("waiting") or {}
            text = f"{waiting.get('reason') or ''} {waiting.get('message') or ''}"
            if IMAGE_PULL.search(text):
                ref = f"{meta.get('namespace')}/{meta.get('name')}"
                out.append(Symptom(PODS_PENDING, f"Pod/{ref}:{cs.get('name')}:image-pull",
                                   f"{where}Pod {ref} container {cs.get('name')}: "
                                   f"{waiting.get('reason')}: {waiting.get('message') or ''}"
                                   .rstrip(": ")))
    return out


def progress_stall(message: str) -> Stall:
    """The row a stalled installer stage belongs to, judged by its latest message.

    An image pull error is the node-facing registry row (the installer only relays what the
    kubelet says), a module it waits for is ClusterModule's; anything else is the installer's.
    """
    if IMAGE_PULL.search(message):
        return PODS_PENDING
    if MODULE.search(message):
        return CLUSTERMODULE_UNHEALTHY
    return INSTALLER_STALLED


def progress_symptoms(message: str) -> list[Symptom]:
    """Visible causes in an installer progress message: image pull errors (row 3)."""
    if IMAGE_PULL.search(message):
        return [Symptom(PODS_PENDING, "installer:image-pull", f"installer progress: {message}")]
    return []


class FailFast:
    """Remembers when each symptom was first seen; says which one outlived the grace period.

    Args:
        grace: seconds a symptom must persist (seen at every observation) before it counts.
        clock: seconds on the caller's clock (the phase :class:`~acp_install.clients.retry.
            Deadline`'s ``elapsed``; a fake clock in tests).
        wait_through: ``--wait-through-failures``: never fail, warn once per symptom instead.
        warn: where the one-line notices go (first sighting, and the waived failure).
    """

    def __init__(self, grace: float, *, clock: Callable[[], float], wait_through: bool = False,
                 warn: Callable[[str], None] | None = None) -> None:
        self.grace = grace
        self.clock = clock
        self.wait_through = wait_through
        self.warn = warn or (lambda _m: None)
        self._since: dict[str, float] = {}
        self._waived: set[str] = set()
        self._observed_at = float("-inf")  # the clock at the latest observe()

    def observe(self, symptoms: Iterable[Symptom]) -> tuple[Symptom, float] | None:
        """Record one observation; the symptom (and for how long) once past the grace.

        Symptoms absent from this observation are forgotten (they cleared). With
        ``wait_through`` it returns None and warns once per expired symptom.
        """
        now = self._observed_at = self.clock()
        current = {s.key: s for s in symptoms}
        for key in list(self._since):
            if key not in current:
                del self._since[key]
                self._waived.discard(key)
        expired: tuple[Symptom, float] | None = None
        for key, symptom in current.items():
            if key not in self._since:
                self._since[key] = now
                self.warn(f"{symptom.detail}; "
                          + ("waiting through it (--wait-through-failures)" if self.wait_through
                             else f"failing fast in {_secs(self.grace)} unless it clears"))
            held = now - self._since[key]
            if held >= self.grace and expired is None:
                expired = (symptom, held)
        if expired is None:
            return None
        if self.wait_through:
            symptom = expired[0]
            if symptom.key not in self._waived:
                self._waived.add(symptom.key)
                self.warn(f"{symptom.detail}: persisted {_secs(expired[1])}; waiting on until the "
                          "phase deadline (--wait-through-failures)")
            return None
        return expired

    def due(self) -> float | None:
        """Seconds until a tracked symptom outlives the grace (0: one has since the last
        :meth:`observe`); ``None`` when none is still within its grace at that observation
        (none tracked, or each already judged: failed fast, or waived once).

        Why: a wait that observes only on changes and every resync interval would otherwise
        fail fast at the first resync after the grace, not at the grace (a 10 s
        ``--fail-fast-grace`` under a 30 s resync ended after 30 s). Such a wait sleeps no
        longer than this before it observes again.
        """
        now = self.clock()
        left = [since + self.grace - now for since in self._since.values()
                if since + self.grace > self._observed_at]
        return max(0.0, min(left)) if left else None


def fail_fast_what(symptom: Symptom, held: float, grace: float) -> str:
    """The first line of a :class:`~acp_install.errors.StallDiagnosed` message."""
    return (f"failing fast: {symptom.detail} (seen for {_secs(held)}, grace {_secs(grace)}; "
            "--wait-through-failures waits out the phase deadline instead)")


def _secs(seconds: float) -> str:
    """``300s``, ``12s``, ``0.5s``: whole seconds unless that would round a short grace away."""
    return f"{seconds:.0f}s" if seconds >= 10 else f"{seconds:.1f}s"
