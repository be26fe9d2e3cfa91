"""Step 3's AppReleases: settled (installed, or failed) before the engine waits for CRDs.

Why: an AppRelease whose chart cannot be installed (chart not found, values rejected) never
makes its CRDs appear. Waiting for the CRDs alone turns that into a stall at the phase deadline
(600 s) with the cause buried in the AppRelease status. So ``packages`` watches each AppRelease
first and stops at once with :class:`~acp_install.errors.PackageError` carrying the
AppRelease's own reason.

Alauda's AppRelease status is not published. :func:`failure` and :func:`installed` are the
only two functions that read it (the shape the sandbox emits: ``status.phase``
``Pending|Ready|Failed``, a ``Ready`` condition with ``reason``/``message``, ``status.charts[]``
with a per-chart ``status``); a real operator answering differently means two functions to
change. An AppRelease whose status says neither is settled once the CRDs of its package exist
(checked on every change and at every watch resync), so an unknown status shape falls back to
the CRD wait instead of blocking.

A failure that was already there before this run applied the AppRelease (an earlier run's
status, same ``resourceVersion``) is not trusted on its own: the controller may retry with the
chart pushed since. Only a status written after the apply counts; a stale one falls through to
the CRD wait and its stall message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import PackageError

if TYPE_CHECKING:
    from ..records import KubeObject, ProviderPackage
    from .phases import Context

__all__ = ["failure", "installed", "wait_settled"]

CRD_API = "apiextensions.k8s.io/v1"
_FAILED = frozenset({"failed", "error"})
_INSTALLED = frozenset({"ready", "deployed", "succeeded", "success", "installed"})


def _current(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The status, unless it describes an older generation of the spec."""
    status: Mapping[str, Any] = obj.get("status") or {}
    observed = status.get("observedGeneration")
    generation = (obj.get("metadata") or {}).get("generation")
    if isinstance(observed, int) and isinstance(generation, int) and observed < generation:
        return None
    return status


def _ready_condition(status: Mapping[str, Any]) -> Mapping[str, Any]:
    for cond in status.get("conditions") or []:
        if isinstance(cond, Mapping) and cond.get("type") == "Ready":
            return cond
    return {}


def failure(obj: Mapping[str, Any] | None) -> str | None:
    """The reason an AppRelease reports failure, or ``None`` (not failed, or not yet known)."""
    if not obj:
        return None
    status = _current(obj)
    if status is None:
        return None
    charts = [c for c in status.get("charts") or [] if isinstance(c, Mapping)]
    failed_charts = [c for c in charts if str(c.get("status") or "").lower() in _FAILED]
    if str(status.get("phase") or "").lower() not in _FAILED and not failed_charts:
        return None
    ready = _ready_condition(status)
    words = [str(x) for x in (ready.get("reason"), ready.get("message") or status.get("message"))
             if x]
    words.extend(f"chart {c.get('releaseName') or c.get('name')}: {c.get('message')}"
                 for c in failed_charts if c.get("message"))
    return ": ".join(words) if words else f"status.phase {status.get('phase', 'Failed')}"


def installed(obj: Mapping[str, Any] | None) -> bool:
    """True when the AppRelease says its charts are installed."""
    if not obj:
        return False
    status = _current(obj)
    if status is None:
        return False
    if str(status.get("phase") or "").lower() in _INSTALLED:
        return True
    return _ready_condition(status).get("status") == "True"


def _crds_exist(ctx: Context, crds: Sequence[str]) -> bool:
    return all(ctx.kube.get(CRD_API, "CustomResourceDefinition", crd,
                            deadline=ctx.dl.within(10)) is not None for crd in crds)


def wait_settled(ctx: Context, appreleases: Sequence[KubeObject],
                 packages: Sequence[ProviderPackage]) -> None:
    """Watch each applied AppRelease until it is installed (or its CRDs exist).

    Raises :class:`PackageError` as soon as one reports failure, naming it and its reason.
    Returns at the phase deadline without raising: the CRD wait that follows reports the
    stall with what it saw.
    """
    for ar, pkg in zip(appreleases, packages, strict=True):
        meta = ar["metadata"]
        name, namespace = str(meta["name"]), meta.get("namespace")
        now = ctx.kube.get(str(ar["apiVersion"]), str(ar["kind"]), name, namespace,
                           deadline=ctx.dl)
        stale = (now or {}).get("metadata", {}).get("resourceVersion") \
            if failure(now) else None
        reason: list[str] = []

        def settled(obj: KubeObject | None, pkg: ProviderPackage = pkg,
                    stale: Any = stale, reason: list[str] = reason) -> bool:
            found = failure(obj)
            rv = (obj or {}).get("metadata", {}).get("resourceVersion")
            if found and (stale is None or rv != stale):
                reason.append(found)
                return True
            if installed(obj):
                return True
            return bool(pkg.wait_crds) and _crds_exist(ctx, pkg.wait_crds)

        ctx.awaiting = f"AppRelease {name} installed"
        ok, _last = ctx.kube.wait_for(str(ar["apiVersion"]), str(ar["kind"]), name, namespace,
                                      settled, deadline=ctx.dl, resync=ctx.resync)
        if reason:
            raise PackageError(
                f"AppRelease {name} reports failure: {reason[0]}",
                hint=f"kubectl describe apprelease -n {namespace} {name}; check that chart "
                     f"{pkg.chart} {pkg.version} was pushed to the local registry "
                     "(packtool pack push), fix the cause and re-run")
        if not ok:
            return
        ctx.progress(f"AppRelease {name} installed")
