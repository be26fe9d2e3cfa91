"""The named phases of an install (seed Steps 3-9), each with ``check`` and ``run``.

``check(ctx)`` answers "is this phase's goal already true in the world?" without changing
anything; ``run(ctx)`` makes it true. The engine calls ``check`` before ``run`` for every phase
not finished in the state file, so a phase interrupted halfway is re-examined, never blindly
repeated. Only the installer POST is not idempotent, and its check asks the progress API.

The phases that apply objects (``packages``, ``manifest``, ``extra-resources``) check nothing:
server-side apply is idempotent, and re-applying is the only way a changed spec (``--restart``)
reaches objects that already exist. Their ``run`` compares each live object before and after
the apply and returns ``already-done`` when none changed.

The core names no provider: provider kinds are whatever the plan's objects say; the core kinds
used here (Cluster, KubeadmControlPlane, Machine, ClusterModule) are Cluster API's and the
platform's.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import attrs

from ..errors import AcpInstallError, InstallerError, StallDiagnosed, WaitTimeout
from ..records import Gate, KubeObject
from ..yamlio import resolve_secrets
from . import appreleases, guard, stalls
from .bootstrap import Bootstrap
from .events import EngineWarning, Outcome, PhaseProgress
from .push import Push

if TYPE_CHECKING:
    from ..clients.installer import InstallerClient, Progress
    from ..clients.kube import KubeClient
    from ..clients.retry import Deadline
    from ..plan import InstallPlan
    from ..plugins import Provider
    from .bootstrap import CoreSetup
    from .events import Event
    from .state import StateStore

CRD_API = "apiextensions.k8s.io/v1"
CAPI = "cluster.x-k8s.io/v1beta1"
CLUSTER_NAME_LABEL = "cluster.x-k8s.io/cluster-name"


@attrs.define
class Context:
    """What a phase may use. Built by the :class:`~acp_install.engine.Engine` per run."""

    plan: InstallPlan
    kube: KubeClient
    state: StateStore
    emit: Callable[[Event], None]
    installer_factory: Callable[[Context], InstallerClient]
    provider: Provider | None = None
    poll_interval: float = 1.5
    installer_log: str | None = None
    resync: float = 30.0
    stall_after: float = 900.0
    post_grace: float = 60.0
    resubmit: bool = False
    fail_fast: float = 300.0
    wait_through_failures: bool = False
    #: the new global cluster's kubeconfig file; None: its Cluster API Secret in minialauda
    global_kubeconfig: str | None = None
    #: Step 2 to run (the Core Package), or None when minialauda is given (engine/bootstrap.py)
    bootstrap: CoreSetup | None = None
    phase: str = ""
    #: what the phase waits for now, for the heartbeat line (the engine sets the phase title)
    awaiting: str = ""
    deadline: Deadline | None = None
    _installer: InstallerClient | None = None

    def progress(self, message: str, *, ready: int | None = None, total: int | None = None,
                 unit: str = "", percent: float | None = None) -> None:
        """A progress event; ``ready`` of ``total`` ``unit`` when the phase can count."""
        elapsed = self.deadline.elapsed() if self.deadline is not None else 0.0
        self.emit(PhaseProgress(self.phase, message, elapsed, ready=ready, total=total,
                                percent=percent, unit=unit))

    def warn(self, message: str) -> None:
        self.emit(EngineWarning(message, self.phase))

    def fail_fast_watch(self) -> stalls.FailFast:
        """A fail-fast tracker for one wait of this phase, on the phase deadline's clock."""
        return stalls.FailFast(self.fail_fast, clock=self.dl.elapsed, warn=self.warn,
                               wait_through=self.wait_through_failures)

    @property
    def dl(self) -> Deadline:
        assert self.deadline is not None
        return self.deadline

    @property
    def installer(self) -> InstallerClient:
        if self._installer is None:
            self._installer = self.installer_factory(self)
        return self._installer

    def close(self) -> None:
        if self._installer is not None:
            self._installer.close()

    def sleep(self, seconds: float) -> None:
        """Between polls only (HTTP has no watch). A cancel wakes it: :class:`Interrupted`."""
        self.dl.sleep(seconds)


class Phase(Protocol):
    name: ClassVar[str]
    title: ClassVar[str]

    def check(self, ctx: Context) -> bool: ...

    def run(self, ctx: Context) -> Outcome | None:
        """Make the goal true; may return ``already-done`` when it changed nothing."""


# -- helpers ---------------------------------------------------------------------------------


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta: Mapping[str, Any] = obj.get("metadata") or {}
    return meta


def _ref(obj: Mapping[str, Any]) -> str:
    meta = _meta(obj)
    return f"{obj.get('kind')}/{meta.get('name')}"


#: Metadata that changes without the object changing (a re-apply may only move managedFields).
_BOOKKEEPING = frozenset({"managedFields", "resourceVersion", "generation", "creationTimestamp",
                          "uid", "selfLink"})


def _content(obj: Mapping[str, Any] | None) -> Any:
    if obj is None:
        return None
    meta = {k: v for k, v in _meta(obj).items() if k not in _BOOKKEEPING}
    return {**{k: v for k, v in obj.items() if k != "status"}, "metadata": meta}


def _apply_all(ctx: Context, objects: Iterable[KubeObject]) -> int:
    """Server-side apply each object; the number of objects created or changed.

    Changed means the live object differs before and after the apply, bookkeeping metadata
    and status aside (a re-apply may only share ownership of a field with a controller).
    """
    objects = list(objects)
    changed = 0
    for ns in sorted({str(_meta(o)["namespace"]) for o in objects if _meta(o).get("namespace")}):
        if ctx.kube.ensure_namespace(ns, deadline=ctx.deadline):
            ctx.progress(f"created namespace {ns}")
            changed += 1
    for done, obj in enumerate(objects, start=1):
        meta = _meta(obj)
        before = _content(ctx.kube.get(str(obj["apiVersion"]), str(obj["kind"]),
                                       str(meta["name"]), meta.get("namespace"),
                                       deadline=ctx.deadline))
        # Secrets are revealed here, for this one call, and the plain copy is dropped after
        # (the live copies compared here are dropped when this iteration ends).
        revealed = resolve_secrets(obj, reveal=True)
        try:
            after = _content(ctx.kube.apply(revealed, deadline=ctx.deadline))
        finally:
            del revealed
        if before is None:
            ctx.progress(f"created {_ref(obj)}", ready=done, total=len(objects),
                         unit="objects")
        elif before != after:
            ctx.progress(f"updated {_ref(obj)}", ready=done, total=len(objects),
                         unit="objects")
        else:
            ctx.progress(f"unchanged {_ref(obj)}", ready=done, total=len(objects),
                         unit="objects")
            continue
        changed += 1
    return changed


def _summary(ctx: Context, applied: int, changed: int) -> Outcome:
    ctx.progress(f"{applied} objects applied, {changed} created or changed")
    return "done" if changed else "already-done"


def condition(obj: Mapping[str, Any] | None, type_: str) -> str | None:
    """``status`` of condition ``type_`` ("True"/"False"/"Unknown"), None if absent."""
    if not obj:
        return None
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_:
            return str(cond.get("status"))
    return None


def _one(plan: InstallPlan, kind: str) -> KubeObject:
    found = [o for o in plan.manifest if o.get("kind") == kind]
    if len(found) != 1:
        raise InstallerError(f"the plan has {len(found)} {kind} objects, expected one")
    return found[0]


# -- phases ----------------------------------------------------------------------------------


class Packages:
    """Step 3: the provider packages' AppReleases are applied and their CRDs exist."""

    name: ClassVar[str] = "packages"
    title: ClassVar[str] = "install provider packages (AppReleases) and wait for their CRDs"

    def _objects(self, ctx: Context) -> list[KubeObject]:
        return [*ctx.plan.package_objects, *ctx.plan.appreleases]

    def check(self, ctx: Context) -> bool:
        return False  # re-applied every time (see the module docstring)

    def run(self, ctx: Context) -> Outcome:
        changed = _apply_all(ctx, ctx.plan.package_objects)
        if ctx.plan.package_objects:
            wait_gate(ctx, "packages")
        changed += _apply_all(ctx, ctx.plan.appreleases)
        appreleases.wait_settled(ctx, ctx.plan.appreleases, ctx.plan.packages)
        for established, crd in enumerate(ctx.plan.wait_crds, start=1):
            ctx.awaiting = f"CRD {crd} established"
            ok, _ = ctx.kube.wait_for(CRD_API, "CustomResourceDefinition", crd, None,
                                      _crd_established, deadline=ctx.dl, resync=ctx.resync)
            if not ok:
                names = ", ".join(_meta(a)["name"] for a in ctx.plan.appreleases)
                raise WaitTimeout(stalls.report(
                    stalls.PACKAGES_PENDING,
                    what=f"CRD {crd} did not appear within {ctx.dl.seconds:.0f}s",
                    observed=[f"AppReleases applied: {names}", *_apprelease_states(ctx)]))
            ctx.progress(f"CRD {crd} established", ready=established,
                         total=len(ctx.plan.wait_crds), unit="crds")
        return _summary(ctx, len(self._objects(ctx)), changed)


def _apprelease_states(ctx: Context) -> list[str]:
    """What each AppRelease says about itself: the reason a chart did not install, when given."""
    lines = []
    for ar in ctx.plan.appreleases:
        meta = _meta(ar)
        try:
            live = ctx.kube.get(ar["apiVersion"], ar["kind"], meta["name"], meta.get("namespace"),
                                deadline=ctx.dl.within(10))
        except AcpInstallError:
            continue  # the report is best effort; the timeout itself is the error
        status = (live or {}).get("status") or {}
        ready: dict[str, Any] = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})
        if status.get("phase") or ready:
            detail = ": ".join(str(x) for x in (ready.get("reason"), ready.get("message")) if x)
            lines.append(f"AppRelease {meta['name']}: {status.get('phase', '?')}" + (f" ({detail})" if detail else ""))
    return lines


def _crd_established(obj: Mapping[str, Any] | None) -> bool:
    if obj is None:
        return False
    established = condition(obj, "Established")
    # An API server that does not publish conditions serves a CRD as soon as it exists.
    return established is None or established == "True"


class Manifest:
    """Steps 4-5: the global manifest is server-side applied."""

    name: ClassVar[str] = "manifest"
    title: ClassVar[str] = "apply the global manifest"

    def check(self, ctx: Context) -> bool:
        return False  # re-applied every time (see the module docstring)

    def run(self, ctx: Context) -> Outcome:
        return _summary(ctx, len(ctx.plan.manifest), _apply_all(ctx, ctx.plan.manifest))


def kcp_ready(obj: Mapping[str, Any] | None) -> bool:
    if obj is None:
        return False
    ready = condition(obj, "Ready")
    if ready is not None:
        return ready == "True"
    return bool((obj.get("status") or {}).get("ready"))


def cluster_provisioned(obj: Mapping[str, Any] | None) -> bool:
    return obj is not None and (obj.get("status") or {}).get("phase") == "Provisioned"


class ControlPlane:
    """Step 6: KubeadmControlPlane Ready and Cluster Provisioned (watched, not polled)."""

    name: ClassVar[str] = "control-plane"
    title: ClassVar[str] = "wait for the control plane (KCP Ready, Cluster Provisioned)"

    def check(self, ctx: Context) -> bool:
        kcp, cluster = _one(ctx.plan, "KubeadmControlPlane"), _one(ctx.plan, "Cluster")
        return kcp_ready(self._get(ctx, kcp)) and cluster_provisioned(self._get(ctx, cluster))

    @staticmethod
    def _get(ctx: Context, obj: KubeObject) -> KubeObject | None:
        meta = _meta(obj)
        return ctx.kube.get(str(obj["apiVersion"]), str(obj["kind"]), str(meta["name"]),
                            meta.get("namespace"), deadline=ctx.deadline)

    def run(self, ctx: Context) -> None:
        kcp, cluster = _one(ctx.plan, "KubeadmControlPlane"), _one(ctx.plan, "Cluster")
        wait_gate(ctx, "control-plane")
        last_line: list[str] = [""]
        watch = ctx.fail_fast_watch()

        def fail_fast(kcp_now: KubeObject | None, machines: list[KubeObject]) -> None:
            # Checked on every change and resync of the watched object: a cause that is
            # already visible ends the wait after the grace, not after the phase deadline.
            found = watch.observe([*stalls.machine_symptoms(machines),
                                   *stalls.kcp_symptoms(kcp_now)])
            if found is not None:
                symptom, held = found
                raise StallDiagnosed(self._stall_message(
                    ctx, kcp, cluster, stall=symptom.stall,
                    what=stalls.fail_fast_what(symptom, held, watch.grace)),
                    stall=symptom.stall.key, held=held, grace=watch.grace)

        def report_kcp(obj: KubeObject | None) -> None:
            machines = _machines(ctx, cluster)
            line = _kcp_line(obj) + "; " + _machines_summary(machines)
            if line != last_line[0]:
                last_line[0] = line
                ready, total = _kcp_replicas(obj)
                ctx.progress(line, ready=ready, total=total, unit="replicas")
            ctx.awaiting = (f"KubeadmControlPlane {_meta(kcp)['name']} Ready (now "
                            f"{line.split(': ', 1)[-1]})")
            fail_fast(obj, machines)

        def report_cluster(obj: KubeObject | None) -> None:
            phase = (obj or {}).get("status", {}).get("phase") or "unknown"
            line = f"Cluster {_meta(cluster)['name']}: phase {phase}"
            if line != last_line[0]:
                last_line[0] = line
                ctx.progress(line)
            ctx.awaiting = f"Cluster {_meta(cluster)['name']} Provisioned (phase {phase})"
            fail_fast(None, _machines(ctx, cluster))

        for obj, done, report in ((kcp, kcp_ready, report_kcp),
                                  (cluster, cluster_provisioned, report_cluster)):
            if not wait_cached(ctx, obj, done, report, due=watch.due):
                raise WaitTimeout(self._stall_message(ctx, kcp, cluster))

    def _stall_message(self, ctx: Context, kcp: KubeObject, cluster: KubeObject, *,
                       stall: stalls.Stall | None = None, what: str | None = None) -> str:
        snapshot = snapshot_cluster(ctx)
        machines = snapshot.get("Machine", [])
        if stall is None:
            # Machines whose infrastructure is not there yet point at the IaaS; once every
            # machine has its VM (Provisioned/Running), a KCP that is not Ready points at etcd
            # and joins.
            pending = [m for m in machines if (m.get("status") or {}).get("phase")
                       in (None, "", "Pending", "Provisioning")]
            stall = stalls.MACHINES_PENDING if (not machines or pending) else stalls.KCP_NOT_READY
        kcp_now = _first_of(snapshot, "KubeadmControlPlane")
        observed = [_kcp_line(kcp_now)]
        observed.extend(f"  {line}" for line in _failing_conditions(kcp_now))
        cl = _first_of(snapshot, "Cluster")
        observed.append(f"Cluster {_meta(cluster)['name']}: phase "
                        f"{(cl or {}).get('status', {}).get('phase') or 'unknown'}")
        if not machines:
            observed.append("no Machine objects in cpaas-system")
        observed.extend(_machine_detail(m) for m in machines)
        diagnoses = ctx.provider.diagnose(snapshot) if ctx.provider is not None else []
        return stalls.report(stall, what=what or f"the control plane was not ready within "
                                                 f"{ctx.dl.seconds:.0f}s", diagnoses=diagnoses,
                             observed=observed)


def _first_of(snapshot: Mapping[str, list[KubeObject]], kind: str) -> KubeObject | None:
    items = snapshot.get(kind) or []
    return items[0] if items else None


def _kcp_replicas(obj: KubeObject | None) -> tuple[int | None, int | None]:
    """(ready, wanted) control-plane replicas, None where the KCP does not say."""
    if obj is None:
        return None, None
    status, spec = obj.get("status") or {}, obj.get("spec") or {}
    want = spec.get("replicas")
    ready = status.get("readyReplicas", 0)
    return (ready if isinstance(ready, int) else None,
            want if isinstance(want, int) and want > 0 else None)


def _kcp_line(obj: KubeObject | None) -> str:
    if obj is None:
        return "KubeadmControlPlane: not found"
    status = obj.get("status") or {}
    want = (obj.get("spec") or {}).get("replicas", "?")
    return (f"KubeadmControlPlane {_meta(obj).get('name')}: {status.get('readyReplicas', 0)}/"
            f"{want} ready, Ready={condition(obj, 'Ready') or 'unknown'}")


def _machines(ctx: Context, cluster: KubeObject) -> list[KubeObject]:
    """The cluster's Machines, from the shared cache (listed once, then watched)."""
    served = ctx.kube.cache.served({"Machine": CAPI}, ctx.dl, recheck=True)
    if not served:
        return []
    snap, _version = ctx.kube.cache.snapshot(served, [_meta(cluster).get("namespace")], ctx.dl)
    name = _meta(cluster)["name"]
    return [m for m in snap.get("Machine", [])
            if ((_meta(m).get("labels") or {}).get(CLUSTER_NAME_LABEL)) == name]


def wait_cached(ctx: Context, obj: KubeObject, done: Callable[[KubeObject | None], bool],
                on_change: Callable[[KubeObject | None], None],
                due: Callable[[], float | None] | None = None) -> bool:
    """Until ``done`` holds for the live ``obj`` (True) or the deadline (False), from the cache.

    ``on_change`` sees the object on start, whenever the cache changed, and every ``resync``
    seconds while nothing does — the last costs no request: the watch stays open, so a wait of
    an hour makes as many requests as a wait of a minute. ``due`` (a fail-fast watch's
    :meth:`~.stalls.FailFast.due`) brings that call forward to the moment a grace runs out, so
    a visible cause fails fast at its grace, not at the next resync.
    """
    api_version, kind = str(obj["apiVersion"]), str(obj["kind"])
    name, namespace = str(_meta(obj)["name"]), _meta(obj).get("namespace")
    cache = ctx.kube.cache
    while True:
        served = cache.served({kind: api_version}, ctx.dl, recheck=True)
        live: KubeObject | None = None
        version = cache.version
        if served:
            snap, version = cache.snapshot(served, [namespace], ctx.dl)
            live = next((o for o in snap.get(kind, []) if _meta(o).get("name") == name), None)
        on_change(live)
        if done(live):
            return True
        if ctx.dl.expired:
            return False
        quiet = ctx.resync
        grace_left = due() if due is not None else None
        if grace_left is not None:
            quiet = min(quiet, grace_left)
        cache.wait_changed(version, ctx.dl.within(quiet))
        ctx.dl.cancel.check(f"the wait for {kind}/{name}")


def _machines_summary(machines: list[KubeObject]) -> str:
    if not machines:
        return "no machines yet"
    phases: dict[str, int] = {}
    for m in machines:
        phase = (m.get("status") or {}).get("phase") or "Pending"
        phases[phase] = phases.get(phase, 0) + 1
    return "machines: " + ", ".join(f"{n} {p}" for p, n in sorted(phases.items()))


def _failing_conditions(obj: KubeObject | None) -> list[str]:
    out = []
    for c in ((obj or {}).get("status") or {}).get("conditions") or []:
        if c.get("status") == "True":
            continue
        why = ": ".join(str(x) for x in (c.get("reason"), c.get("message")) if x)
        out.append(f"{c.get('type')}={c.get('status')}" + (f" ({why})" if why else ""))
    return out


def _machine_detail(m: KubeObject) -> str:
    status = m.get("status") or {}
    bad = _failing_conditions(m)
    return (f"Machine {_meta(m).get('name')}: phase {status.get('phase') or 'Pending'}"
            + (f"; {'; '.join(bad)}" if bad else ""))


def wait_gate(ctx: Context, gate: Gate) -> None:
    """Until the provider's ``acp_ready_gates`` yields no error for ``gate`` (or the deadline).

    Gates are judged on a snapshot of several kinds, taken from the client's informer-style
    cache (:mod:`acp_install.clients.informer`): each kind is listed once and watched, and the
    gate is judged again only when something changed, so a gate that stays closed for an hour
    costs no more requests than one that opens at once. Without an implementation it returns
    at once and takes no snapshot.
    """
    provider = ctx.provider
    if provider is None or "acp_ready_gates" not in provider.hooks_implemented():
        return
    shown = ""
    quiet, recheck = ctx.resync, False
    while True:
        snapshot, version = _snapshot(ctx, secrets=True, recheck=recheck)
        findings = provider.ready_gates(ctx.plan.spec, gate, snapshot)
        errors = [f for f in findings if f.severity == "error"]
        text = "; ".join(f"{f.path}: {f.message}" for f in findings)
        was_blocked = bool(shown)
        ctx.awaiting = f"gate {gate}" + (f" ({text})" if errors else "")
        if text != shown:
            shown = text
            for f in findings:
                (ctx.progress if f.severity == "error" else ctx.warn)(
                    f"gate {gate}: {f.path}: {f.message}" + (f" (fix: {f.fix})" if f.fix else ""))
        if not errors:
            if findings or was_blocked:
                ctx.progress(f"gate {gate} open")
            return
        if ctx.dl.expired:
            raise WaitTimeout(f"gate {gate!r} still blocked after {ctx.dl.seconds:.0f}s:\n"
                              + "\n".join(f.format() for f in errors))
        # a kind whose CRD is not there yet is not watched: after a quiet period (doubling
        # while nothing changes) discovery is asked about it again
        changed = ctx.kube.cache.wait_changed(version, ctx.dl.within(quiet))
        ctx.dl.cancel.check(f"the {gate} gate")
        recheck = not changed
        quiet = ctx.resync if changed else min(quiet * 2, 600.0)


def _crd_kinds(ctx: Context) -> dict[str, str]:
    """Kinds of the CRDs the packages install (e.g. host inventories no manifest names); each
    CRD is read until found, then never again (it keeps its kind and group)."""
    known = ctx.kube.cache.crd_kinds
    for crd in ctx.plan.wait_crds:
        if crd in known:
            continue
        obj = ctx.kube.get(CRD_API, "CustomResourceDefinition", crd, deadline=ctx.dl.within(10))
        if obj is None:
            continue
        spec = obj.get("spec") or {}
        versions = [v.get("name") for v in spec.get("versions") or [] if v.get("served", True)]
        kind = (spec.get("names") or {}).get("kind")
        if kind and versions:
            known[crd] = (str(kind), f"{spec.get('group')}/{versions[0]}")
    return {kind: api for crd, (kind, api) in known.items() if crd in ctx.plan.wait_crds}


def _snapshot_kinds(ctx: Context, secrets: bool) -> tuple[dict[str, str], set[str]]:
    kinds: dict[str, str] = {"Machine": CAPI}
    if secrets:  # gates check Secrets that controllers create, even when the plan renders none
        kinds["Secret"] = "v1"
    for obj in [*ctx.plan.package_objects, *ctx.plan.manifest]:
        if obj.get("kind") != "Secret" or secrets:
            kinds.setdefault(str(obj["kind"]), str(obj["apiVersion"]))
    for kind, api_version in _crd_kinds(ctx).items():
        kinds.setdefault(kind, api_version)
    # The provider's machine kind is not in the manifest (its controller creates it): derive
    # it from the machine template kinds the manifest does have.
    for kind, api_version in list(kinds.items()):
        if kind.endswith("MachineTemplate"):
            kinds.setdefault(kind[: -len("Template")], api_version)
    namespaces = {str(_meta(o).get("namespace") or "")
                  for o in [*ctx.plan.package_objects, *ctx.plan.manifest]} - {""}
    return kinds, namespaces


def _snapshot(ctx: Context, *, secrets: bool, recheck: bool = True
              ) -> tuple[dict[str, list[KubeObject]], int]:
    """The snapshot from the shared cache, and the cache version it reflects."""
    kinds, namespaces = _snapshot_kinds(ctx, secrets)
    cache = ctx.kube.cache
    served = cache.served(kinds, ctx.dl, recheck=recheck)
    return cache.snapshot(served, sorted(namespaces), ctx.dl)


def snapshot_cluster(ctx: Context, *, secrets: bool = False) -> dict[str, list[KubeObject]]:
    """Kind -> objects in the plan's namespaces: what ``acp_diagnose``/gate hooks look at.

    Secrets are included only for gates (which check keys exist); the snapshot is handed to the
    provider in memory and never written or emitted.
    """
    return _snapshot(ctx, secrets=secrets)[0]


class ExtraResources:
    """Step 7: the import ConfigMap (``ProviderInfo.import_configmap``), when there are entries."""

    name: ClassVar[str] = "extra-resources"
    title: ClassVar[str] = "import provider resources (extra-resources ConfigMap)"

    def check(self, ctx: Context) -> bool:
        # Nothing to import: done. Otherwise re-applied every time (see the module docstring);
        # with live_extra_resources the list also depends on the world.
        return ctx.plan.extra_resources is None and not _live(ctx)

    def run(self, ctx: Context) -> Outcome:
        extra = ctx.plan.extra_resources
        if _live(ctx):
            extra = live_extra_resources(ctx)
            if extra is not None:
                ctx.progress("import list derived again from the live objects")
        if extra is None:
            return "already-done"
        return "done" if _apply_all(ctx, [extra]) else "already-done"


def _live(ctx: Context) -> bool:
    return ctx.provider is not None and ctx.provider.info.live_extra_resources


def live_extra_resources(ctx: Context) -> KubeObject | None:
    """Step 7 from what exists now (rendered objects overlaid by their live versions)."""
    from ..artifacts import extra_resources_configmap

    assert ctx.provider is not None
    objects: dict[tuple[str, str, str], KubeObject] = {}
    for obj in ctx.plan.manifest:
        objects[_key(obj)] = resolve_secrets(obj, reveal=False)
    for items in snapshot_cluster(ctx, secrets=True).values():
        for obj in items:
            objects[_key(obj)] = obj
    entries = ctx.provider.extra_resources(ctx.plan.spec, tuple(objects.values()))
    return extra_resources_configmap(ctx.plan.spec, ctx.plan.provider, entries) if entries else None


def _key(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return str(obj.get("kind")), str(meta.get("namespace") or ""), str(meta.get("name"))


#: the parts of the hint after a failed installer request (a ``--sandbox`` run replaces them:
#: its installer log and state go with the sandbox, ``--resubmit`` has nothing to resubmit to)
READ_INSTALLER_LOG = ("read /var/cpaas/data/installer.log (the most recent phase line and error) and "
                      "fix the cause")
RESUBMIT_HINT = ("a failed request is never sent again on its own: re-run with --resubmit to send it "
                 "again once the cause is fixed")
_FAILED_HINT = f"{READ_INSTALLER_LOG}; {RESUBMIT_HINT}"


class Installer:
    """Step 8: the install request, POSTed at most once per accepted request.

    The state file records the intent before the POST and the answer after it; ``check`` asks
    the progress API whether the installer already has a request, so a re-run after a crash
    between the POST and the state write does not send it twice. A request the installer
    reports ``Failed`` is sent again only with ``resubmit``.
    """

    name: ClassVar[str] = "installer"
    title: ClassVar[str] = "submit the platform installation request"

    def check(self, ctx: Context) -> bool:
        progress = ctx.installer.progress(deadline=ctx.dl)
        note = ctx.state.get_note("installer")
        if progress.failed:
            if ctx.resubmit:
                ctx.warn(f"the installer reports the earlier request failed "
                         f"({progress.summary()}); sending it again (--resubmit)")
                return False
            raise InstallerError(f"the installer reports the install request failed: "
                                 f"{progress.summary()}", hint=_failed_hint(progress.message))
        if not progress.idle:
            if note.get("sending") and not note.get("sent"):
                # killed between the POST and its state write: the installer has it, so it was
                # delivered; recorded as sent (status would say "sending (unconfirmed)" forever)
                ctx.state.note("installer", sent=True, sending=False, confirmed="progress")
                ctx.warn("the request an earlier run was sending reached the installer "
                         f"(confirmed through the progress API: {progress.summary()}); recorded as sent")
            elif not note.get("sent"):
                ctx.warn("the installer already has an install request (sent by an earlier run "
                         "or by hand); not sending another one")
            guard.release(ctx.kube, ctx.state, ctx.dl)  # an earlier run's, left by a crash
            ctx.progress(f"installer already working: {progress.summary()}")
            return True
        if note.get("sent"):
            ctx.warn("the state says the request was sent, but the installer reports none "
                     "(restarted?); sending it again")
        return False

    def run(self, ctx: Context) -> None:
        from ..clients.installer import InstallerUnavailable

        endpoint = ctx.plan.provider.installer_endpoint
        # the cluster-side guard first: a run from another work directory is refused here
        guard.acquire(ctx.kube, ctx.state, str(ctx.state.dir.parent), ctx.dl)
        before = ctx.installer.progress(deadline=ctx.dl)
        if not before.idle and not before.failed:  # run() without check(): still guarded
            guard.release(ctx.kube, ctx.state, ctx.dl)
            ctx.progress(f"installer already working: {before.summary()}")
            return

        def has_ours(progress: Progress) -> bool:
            # Idle before: any request is ours. Failed before (resubmit): a Failed answer may
            # still be the old request, so only a new status counts.
            return not progress.idle and not (before.failed and progress.failed)

        ctx.state.note("installer", sending=True, endpoint=endpoint, address=ctx.installer.address)
        # The payload is revealed here, serialised by httpx, and dropped.
        payload = resolve_secrets(ctx.plan.installer_payload, reveal=True)
        try:
            while True:
                try:
                    ctx.installer.submit(endpoint, payload, deadline=ctx.dl)
                    break
                except InstallerUnavailable as err:
                    if err.maybe_delivered:
                        # The request may be inside the installer: watch for it before any
                        # resend (a 5xx or a timeout after sending says nothing either way).
                        if self._wait_for_request(ctx, has_ours, err):
                            break
                    elif has_ours(ctx.installer.progress(deadline=ctx.dl)):
                        ctx.warn(f"POST got no answer ({err}) but the installer has the request")
                        break
                    if ctx.dl.expired:
                        raise InstallerError(f"cannot submit the install request: {err}",
                                             hint="check the cpaas-installer pod and "
                                                  "/var/cpaas/data/installer.log") from None
                    ctx.warn(f"POST {endpoint} failed ({err}); the installer has no request, "
                             "sending it again")
                    ctx.sleep(min(2.0, ctx.poll_interval))
        except InstallerError:
            # a definite refusal (4xx): nothing is in flight
            ctx.state.note("installer", sending=False, refused=True)
            guard.release(ctx.kube, ctx.state, ctx.dl)
            raise
        finally:
            del payload
        ctx.state.note("installer", sent=True, sending=False)
        guard.release(ctx.kube, ctx.state, ctx.dl)
        ctx.progress(f"install request accepted by {ctx.installer.address}")

    @staticmethod
    def _wait_for_request(ctx: Context, has_ours: Callable[[Progress], bool],
                          err: BaseException) -> bool:
        """Poll progress for ``post_grace`` seconds; True as soon as the request shows up."""
        grace = ctx.dl.within(ctx.post_grace)
        ctx.awaiting = "the install request to show in the progress API"
        ctx.warn(f"POST outcome unknown ({err}); watching the progress API for up to "
                 f"{grace.seconds:.0f}s before sending again")
        while True:
            progress = ctx.installer.progress(deadline=ctx.dl)
            if has_ours(progress):
                ctx.warn(f"the installer has the request although the POST failed ({err}): "
                         f"{progress.summary()}")
                return True
            if grace.expired:
                return False
            ctx.sleep(min(ctx.poll_interval, max(grace.remaining(), 0.01)))


class Monitor:
    """Step 9: follow the progress API until ``status: Success``, ``type: Complete``."""

    name: ClassVar[str] = "monitor"
    title: ClassVar[str] = "monitor the platform installation"

    def check(self, ctx: Context) -> bool:
        return ctx.installer.progress(deadline=ctx.dl).succeeded

    def run(self, ctx: Context) -> None:
        watch = ctx.fail_fast_watch()
        pace = ProgressPace(ctx.poll_interval, ctx.installer_log)
        pods = _NewClusterPods(ctx)
        try:
            self._follow(ctx, watch, pace, pods)
        finally:
            pods.close()

    def _follow(self, ctx: Context, watch: stalls.FailFast, pace: ProgressPace,
                pods: _NewClusterPods) -> None:
        last: Progress | None = None
        changed_at = ctx.dl.elapsed()
        while True:
            progress = ctx.installer.progress(deadline=ctx.dl)
            if last is None or progress.fingerprint() != last.fingerprint() \
                    or progress.message != last.message:
                ctx.progress(f"installer: {progress.summary()}", percent=progress.percent,
                             unit="percent" if progress.percent is not None else "")
                if last is None or progress.fingerprint() != last.fingerprint():
                    changed_at = ctx.dl.elapsed()
                last = progress
                pace.changed()
            if progress.succeeded:
                return
            ctx.awaiting = f"installer Success/Complete (now {progress.summary()})"
            if progress.idle:
                raise InstallerError(
                    "the installer reports no install request although it was sent "
                    f"({progress.summary()}); it was probably restarted",
                    hint="check the cpaas-installer pod, then re-run with --restart: finished "
                         "phases are re-checked and the request is sent again only because "
                         "the installer has none")
            if progress.failed:
                raise InstallerError(f"the installer reports failure: {progress.summary()}",
                                     hint=_failed_hint(progress.message))
            stalled_for = ctx.dl.elapsed() - changed_at
            seen = [*pods.symptoms(stalled_for), *stalls.progress_symptoms(progress.message)]
            found = watch.observe(seen)
            if found is not None:
                symptom, held = found
                raise StallDiagnosed(_progress_report(
                    ctx, progress, symptom.stall,
                    stalls.fail_fast_what(symptom, held, watch.grace),
                    observed=[s.detail for s in seen if s is not symptom]),
                    stall=symptom.stall.key, held=held, grace=watch.grace)
            stalled_for = ctx.dl.elapsed() - changed_at
            if stalled_for >= ctx.stall_after or ctx.dl.expired:
                what = (f"installer progress has not changed for {stalled_for:.0f}s"
                        if stalled_for >= ctx.stall_after else
                        f"the installation did not complete within {ctx.dl.seconds:.0f}s")
                raise WaitTimeout(_progress_report(ctx, progress,
                                                   stalls.progress_stall(progress.message), what))
            pace.wait(ctx.dl)


#: Where cpaas-installer writes its log on the bootstrap host (the seed's Step 9 tails it).
INSTALLER_LOG = "/var/cpaas/data/installer.log"


class ProgressPace:
    """When to poll the installer's progress API next (it cannot be watched).

    Why not a fixed interval: a 5 s poll noticed a change 2.9 s late at the median. After a
    change the next poll comes after ``min(1 s, longest)``; each poll that finds nothing new
    waits half as long again, up to ``longest`` (the poll interval), so a quiet hour costs few
    requests and never more than one a second. When the installer's log is readable on this
    host (``/var/cpaas/data/installer.log`` on minialauda) its size is watched locally, and a
    write to it brings the next poll forward (still at most one a second): the installer
    writes its log as it moves on, so the change is seen within a fraction of a second.
    """

    def __init__(self, longest: float, log: str | None) -> None:
        self.longest = longest
        self.shortest = min(1.0, longest)
        self.interval = self.shortest
        self.log = log
        self._size = self._stat()
        self._last_poll = time.monotonic()

    def _stat(self) -> tuple[int, int] | None:
        if not self.log:
            return None
        try:
            st = os.stat(self.log)
        except OSError:
            return None
        return st.st_size, st.st_mtime_ns

    def changed(self) -> None:
        self.interval = self.shortest

    def wait(self, deadline: Deadline) -> None:
        """Until the next poll is due; :class:`~acp_install.errors.Interrupted` on cancel."""
        wait_for = min(self.interval, deadline.remaining())
        start = time.monotonic()
        if self._size is None and self._stat() is None:
            deadline.sleep(wait_for)
        else:
            earliest = max(self._last_poll + self.shortest, start)
            while time.monotonic() - start < wait_for:
                size = self._stat()
                if size != self._size and time.monotonic() >= earliest:
                    self._size = size
                    break
                deadline.sleep(min(0.05, max(wait_for - (time.monotonic() - start), 0.0)))
        self.interval = min(self.interval * 1.5, self.longest)
        self._last_poll = time.monotonic()


class _NewClusterPods:
    """Image pull errors of the new global cluster's ``kube-system`` Pods, while monitoring.

    The installer may only say that its network stage does not advance; the kubelet's reason is
    on the new cluster (the seed's row: ``describe pod -n kube-system``). Read through the
    cluster's Cluster API kubeconfig Secret (or ``--global-kubeconfig``) only while the
    installer's progress has not changed for a resync interval, and at most once per resync
    interval, so a healthy install makes no extra request. Best effort: a cluster not reachable
    yet is tried again at the next interval and never fails the phase.
    """

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._client: KubeClient | None = None
        self._next = ctx.resync
        self._last: list[stalls.Symptom] = []

    def symptoms(self, stalled_for: float) -> list[stalls.Symptom]:
        ctx = self.ctx
        now = ctx.dl.elapsed()
        if stalled_for < ctx.resync or now < self._next:
            return self._last if stalled_for >= ctx.resync else []
        self._next = now + ctx.resync
        try:
            if self._client is None:
                self._client = Verify()._client(ctx, wait=False)
            if self._client is None:
                return []
            items, _rv = self._client.list("v1", "Pod", "kube-system",
                                           deadline=ctx.dl.within(10))
        except AcpInstallError:
            return self._last  # unreachable for now: what was seen last still stands
        self._last = stalls.pod_symptoms(items, where="new global cluster: ")
        return self._last

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _progress_report(ctx: Context, progress: Progress, stall: stalls.Stall, what: str, *,
                     observed: Iterable[str] = ()) -> str:
    """A stalled installer stage, under the row its message points at (the installer log
    stays the second place to look)."""
    facts = []
    if stall is stalls.PODS_PENDING:
        facts.append(f"the node-facing registry address is {ctx.plan.spec.node_registry_address} "
                     "(spec field nodeRegistryAddress, annotation cpaas.io/registry-address): "
                     "check that the new nodes' subnet reaches it")
    also = () if stall is stalls.INSTALLER_STALLED else (stalls.INSTALLER_STALLED,)
    return stalls.report(stall, what=what,
                         observed=[f"progress: {progress.summary()}", *observed],
                         also=also, facts=facts)


def _failed_hint(message: str) -> str:
    """The failed request's fix; a failure naming a module also points at ClusterModule."""
    if stalls.MODULE.search(message):
        return (f"{_FAILED_HINT}; the module status is in "
                f"{stalls.CLUSTERMODULE_UNHEALTHY.look} (Status.conditions)")
    return _FAILED_HINT


class Verify:
    """Completion: the seed's Verification, on the **new** global cluster (:mod:`.verify`).

    The cluster is reached the way ``clusterctl get kubeconfig`` does: the Cluster API Secret
    ``<cluster>-kubeconfig`` (key ``value``) in minialauda, waited for if the control-plane
    provider has not written it yet; ``Engine(global_kubeconfig=FILE)`` (``install
    --global-kubeconfig``) overrides it. Every check is read each poll until all pass; a
    failure whose cause is visible (a NotReady node with its reason, an image pull error, a
    ClusterModule condition False) ends the wait after the fail-fast grace, anything else at
    the deadline — both with the matching Common Stalls row.
    """

    name: ClassVar[str] = "verify"
    title: ClassVar[str] = "verify the new global cluster (nodes, pods, ClusterModule/global)"

    def _source(self, ctx: Context, *, wait: bool) -> Any:
        from ..clients.kubeconfigs import global_kubeconfig, kubeconfig_secret_name

        if ctx.global_kubeconfig is not None:
            return global_kubeconfig(None, override=ctx.global_kubeconfig)
        cluster = _meta(_one(ctx.plan, "Cluster"))
        ns, name = str(cluster.get("namespace") or ctx.plan.spec.namespace), str(cluster["name"])
        found = global_kubeconfig(ctx.kube, namespace=ns, cluster=name, deadline=ctx.dl)
        if found is None and wait:
            secret = kubeconfig_secret_name(name)
            ctx.progress(f"waiting for Secret {ns}/{secret} (the new cluster's kubeconfig)")
            ctx.awaiting = f"Secret {ns}/{secret} (the new global cluster's kubeconfig)"
            ok, _ = ctx.kube.wait_for("v1", "Secret", secret, ns, lambda o: o is not None,
                                      deadline=ctx.dl, resync=ctx.resync)
            if not ok:
                raise WaitTimeout(
                    f"Secret {ns}/{secret} (the new global cluster's kubeconfig, written by "
                    f"Cluster API) did not appear within {ctx.dl.seconds:.0f}s",
                    hint="check the Cluster and KubeadmControlPlane in minialauda (kubectl "
                         f"describe cluster -n {ns} {name}), or pass --global-kubeconfig FILE")
            found = global_kubeconfig(ctx.kube, namespace=ns, cluster=name, deadline=ctx.dl)
        return found

    def _client(self, ctx: Context, *, wait: bool) -> KubeClient | None:
        found = self._source(ctx, wait=wait)
        if found is None:
            return None
        ctx.progress(f"new global cluster {found.server} (kubeconfig: {found.source})")
        client: KubeClient = found.client(redact=ctx.kube.redact, on_retry=ctx.warn)
        return client

    def check(self, ctx: Context) -> bool:
        """Never "already done": reading the checks *is* this phase's work, so a first run that
        passes them reports ``done`` with what it verified (``already done, nothing changed``
        read as if nothing had been verified). A verify that finished before is skipped by the
        state (resume), like every phase; ``--restart`` verifies again."""
        return False

    def run(self, ctx: Context) -> None:
        from .verify import all_ok, diagnosis, symptoms, verification

        client = self._client(ctx, wait=True)
        assert client is not None
        watch = ctx.fail_fast_watch()
        shown: dict[str, str] = {}
        with client:
            while True:
                checks = verification(client, deadline=ctx.dl)
                for c in checks:
                    if shown.get(c.name) != c.format():
                        shown[c.name] = c.format()
                        ctx.progress(c.format())
                if all_ok(checks):
                    return
                ctx.awaiting = "the seed's Verification on the new cluster (failing: " + ", ".join(
                    c.name for c in checks if not c.ok) + ")"
                found = watch.observe(symptoms(checks))
                if found is not None:
                    symptom, held = found
                    raise StallDiagnosed(diagnosis(
                        checks, what=stalls.fail_fast_what(symptom, held, watch.grace),
                        facts=_verify_facts(ctx, checks), stall=symptom.stall),
                        stall=symptom.stall.key, held=held, grace=watch.grace)
                if ctx.dl.expired:
                    raise WaitTimeout(diagnosis(
                        checks, what=f"the new global cluster did not pass the seed's "
                                     f"Verification within {ctx.dl.seconds:.0f}s",
                        facts=_verify_facts(ctx, checks)))
                ctx.sleep(min(ctx.poll_interval, max(ctx.dl.remaining(), 0.01)))


def _verify_facts(ctx: Context, checks: Iterable[Any]) -> list[str]:
    if any(c.stall is stalls.PODS_PENDING for c in checks if not c.ok):
        return [f"the node-facing registry address is {ctx.plan.spec.node_registry_address} "
                "(spec field nodeRegistryAddress, annotation cpaas.io/registry-address): check "
                "that the new nodes' subnet reaches it"]
    return []


PHASES: tuple[Phase, ...] = (Bootstrap(), Push(), Packages(), Manifest(), ControlPlane(), ExtraResources(),
                             Installer(), Monitor(), Verify())
PHASE_NAMES: tuple[str, ...] = tuple(p.name for p in PHASES)
