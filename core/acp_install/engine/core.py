"""The engine: runs an :class:`~acp_install.plan.InstallPlan` phase by phase, resumably."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from ..errors import AcpInstallError, Interrupted, StateError, UsageError
from ..plan import InstallPlan
from .events import EngineWarning, Event, PhaseFinished, PhaseProgress, PhaseStarted, Subscriber
from .phases import PHASE_NAMES, PHASES, Context, Phase
from .preflight import check_secrets
from .state import StateStore

if TYPE_CHECKING:
    from ..clients.redact import Redactor

log = logging.getLogger(__name__)

#: Default deadline of each phase, in seconds (seed: a typical install takes 30-60 minutes).
DEFAULT_TIMEOUTS: Mapping[str, float] = {
    "packages": 600.0,
    "manifest": 300.0,
    "control-plane": 3600.0,
    "extra-resources": 300.0,
    "installer": 300.0,
    "monitor": 5400.0,
    "verify": 600.0,
}


class InvalidTiming(UsageError, ValueError):
    """A timeout, scale or interval that is not a finite positive number of seconds.

    A :class:`~acp_install.errors.UsageError` (exit 2) for the CLI and a :class:`ValueError`
    for Python callers.
    """


def positive_seconds(what: str, value: Any) -> float:
    """``value`` as a finite number > 0, else :class:`InvalidTiming` naming ``what``."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise InvalidTiming(f"{what} must be a number of seconds, not {value!r}") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise InvalidTiming(f"{what} must be a finite positive number, not {value!r}")
    return seconds


@attrs.frozen
class Timeouts:
    """Per-phase deadlines, the installer stall threshold and the POST grace, in seconds.

    ``scale`` multiplies every value (``--timeout-scale``: 2 on a slow IaaS, 0.01 in tests).
    ``post_grace``: after a POST whose fate is unknown (timeout after sending, 5xx), how long
    the progress API is watched for the request before it is sent again.
    Every value must be a finite positive number (:class:`InvalidTiming`, a ``ValueError``).
    """

    phases: Mapping[str, float] = attrs.field(factory=lambda: dict(DEFAULT_TIMEOUTS))
    installer_stall: float = 900.0
    scale: float = 1.0
    post_grace: float = 60.0

    def __attrs_post_init__(self) -> None:
        unknown = sorted(set(self.phases) - set(PHASE_NAMES))
        if unknown:
            raise UsageError(f"unknown phase(s) in timeouts: {', '.join(unknown)}",
                             hint=f"phases are: {', '.join(PHASE_NAMES)}")
        positive_seconds("the timeout scale", self.scale)
        positive_seconds("the installer stall threshold", self.installer_stall)
        positive_seconds("the POST grace period", self.post_grace)
        for phase, seconds in self.phases.items():
            positive_seconds(f"the timeout of phase {phase}", seconds)
        for phase in PHASE_NAMES:  # a scale this small or large must not make 0 or inf
            positive_seconds(f"the scaled timeout of phase {phase}", self.of(phase))

    def of(self, phase: str) -> float:
        return float(self.phases.get(phase, DEFAULT_TIMEOUTS[phase])) * self.scale

    @property
    def stall(self) -> float:
        return self.installer_stall * self.scale

    @property
    def grace(self) -> float:
        return self.post_grace * self.scale

    def with_overrides(self, **seconds: float) -> Timeouts:
        """``with_overrides(control_plane=1800)`` (underscores for dashes)."""
        merged = {**DEFAULT_TIMEOUTS, **self.phases,
                  **{k.replace("_", "-"): v for k, v in seconds.items()}}
        return attrs.evolve(self, phases=merged)


@attrs.frozen
class PhaseResult:
    name: str
    outcome: str
    elapsed: float


@attrs.frozen
class InstallResult:
    """What a run did: each phase's outcome, the installer address, the total time."""

    phases: tuple[PhaseResult, ...]
    elapsed: float
    installer_address: str | None = None
    complete: bool = False


def plan_digest(plan: InstallPlan) -> str:
    """A fingerprint of the plan, over files with secret placeholders (never values)."""
    files = plan.files(include_secrets=False)
    blob = json.dumps({k: v[0] for k, v in sorted(files.items())}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


class Engine:
    """Runs an install plan against minialauda, checkpointing every phase.

    Args:
        plan: from :func:`acp_install.plan.build_plan`.
        kubeconfig: the minialauda kubeconfig.
        workdir: where ``.acp-install/state.json`` lives (one install per work directory).
        provider: the loaded provider, for stall diagnosis (``acp_diagnose``); optional.
        installer_address: ``host:port`` of the installer; default is discovered from the
            cpaas-installer pod (its podIP; port ``installer_port``, else the pod's declared
            container port, else 8080).
        timeouts: per-phase deadlines (:class:`Timeouts`).
        poll_interval: seconds between installer progress polls.
        resync: seconds between watch resyncs (a fresh list).
        restart: forget finished phases (the world is re-checked; the POST stays guarded).
        resubmit: when the installer reports the request ``Failed``, send it again (only
            then: a running or finished request is never sent twice).

    Raises :class:`InvalidTiming` (a ``ValueError``) for a ``poll_interval`` or ``resync``
    that is not a finite positive number.

    Example::

        engine = Engine(plan, kubeconfig="alauda.kubeconfig", workdir="work")
        engine.subscribe(print)
        result = engine.run()
    """

    def __init__(self, plan: InstallPlan, *, kubeconfig: str | os.PathLike[str],
                 workdir: str | os.PathLike[str] = ".", provider: Any = None,
                 installer_address: str | None = None, installer_port: int | None = None,
                 timeouts: Timeouts | None = None, poll_interval: float = 5.0,
                 resync: float = 30.0, restart: bool = False, resubmit: bool = False) -> None:
        self.plan = plan
        self.kubeconfig = str(kubeconfig)
        self.workdir = Path(workdir)
        self.provider = provider
        self.installer_address = installer_address
        self.installer_port = installer_port
        self.timeouts = timeouts or Timeouts()
        self.poll_interval = positive_seconds("the poll interval", poll_interval)
        self.resync = positive_seconds("the resync interval", resync)
        self.restart = restart
        self.resubmit = resubmit
        self._redact: Redactor | None = None
        self._subscribers: list[Subscriber] = []
        self.cancel = threading.Event()

    # -- events ---------------------------------------------------------------------------------

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Deliver every event to ``subscriber``; returns a function that unsubscribes."""
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def _emit(self, event: Event) -> None:
        if self._redact and isinstance(event, PhaseProgress | EngineWarning):
            event = attrs.evolve(event, message=self._redact(event.message))
        for sub in list(self._subscribers):
            try:
                sub(event)
            except Exception:  # a broken UI must not break an install half-way
                log.exception("event subscriber %r failed", sub)

    # -- running -----------------------------------------------------------------------------

    def run(self, *, until: str | None = None) -> InstallResult:
        """Run every unfinished phase (up to and including ``until``)."""
        if until is not None and until not in PHASE_NAMES:
            raise UsageError(f"unknown phase {until!r}", hint=f"phases: {', '.join(PHASE_NAMES)}")
        from ..clients.kube import KubeClient

        start = time.monotonic()
        results: list[PhaseResult] = []
        digest = plan_digest(self.plan)
        with StateStore(self.workdir) as state:
            self._check_digest(state, digest)
            if self.resubmit:
                # Re-examine the request: Installer.check sends again only on Failed.
                for name in ("installer", "monitor", "verify"):
                    state.phases.pop(name, None)
                state.save()
            # Every secret the remaining phases send, before the first side effect.
            todo = [p for p in PHASE_NAMES[:PHASE_NAMES.index(until) + 1 if until else None]
                    if not state.finished(p)]
            self._redact = check_secrets(self.plan, todo)
            kube = KubeClient(self.kubeconfig, on_retry=lambda m: self._emit(EngineWarning(m)),
                              redact=self._redact)
            try:
                self._check_cluster(state, kube)
            except BaseException:
                kube.close()
                raise
            ctx = Context(plan=self.plan, kube=kube, state=state, emit=self._emit,
                          installer_factory=self._installer_client, provider=self.provider,
                          poll_interval=self.poll_interval, resync=self.resync,
                          stall_after=self.timeouts.stall, post_grace=self.timeouts.grace,
                          resubmit=self.resubmit, cancel=self.cancel)
            try:
                for index, phase in enumerate(PHASES):
                    results.append(self._run_phase(ctx, state, phase, index))
                    if phase.name == until:
                        break
            finally:
                ctx.close()
                kube.close()
            address = state.get_note("installer").get("address")
        complete = all(state.finished(p) for p in PHASE_NAMES)
        return InstallResult(tuple(results), time.monotonic() - start, address, complete)

    def _check_digest(self, state: StateStore, digest: str) -> None:
        old = state.data.get("plan")
        if self.restart:
            state.data["phases"] = {}
        elif old and old != digest and any(state.finished(p) for p in PHASE_NAMES):
            raise StateError(
                f"{state.path} belongs to an install of a different spec (the plan changed)",
                hint="re-run with --restart to re-check every phase against the new spec "
                     "(applies are idempotent, the installer request is still sent only once), "
                     "or use another --workdir")
        state.data["plan"] = digest
        state.data["provider"] = self.plan.provider.id
        state.save()

    def _check_cluster(self, state: StateStore, kube: Any) -> None:
        """Refuse to resume against another cluster (e.g. minialauda re-created by setup.sh):
        finished phases would be skipped although nothing of them exists there."""
        from ..clients.retry import Deadline

        identity = f"server:{kube.server}"
        for ns in ("kube-system", "default"):
            obj = kube.get("v1", "Namespace", ns, None, deadline=Deadline(60))
            if obj is not None:
                identity = f"{ns}:{obj['metadata'].get('uid', '')}"
                break
        old = state.data.get("cluster")
        if old and old != identity and any(state.finished(p) for p in PHASE_NAMES):
            raise StateError(
                f"{state.path} belongs to an install into another cluster (bootstrap cluster "
                "re-created, or another --kubeconfig)",
                hint="re-run with --restart to apply every phase to this cluster, or use the "
                     "kubeconfig of the original one")
        state.data["cluster"] = identity
        state.save()

    def _run_phase(self, ctx: Context, state: StateStore, phase: Phase,
                   index: int) -> PhaseResult:
        from ..clients.retry import Deadline

        if state.finished(phase.name):
            self._emit(PhaseFinished(phase.name, "skipped", 0.0))
            return PhaseResult(phase.name, "skipped", 0.0)
        if self.cancel.is_set():
            raise Interrupted(f"cancelled before phase {phase.name}",
                              hint="re-run the same command to resume")
        self._emit(PhaseStarted(phase.name, index + 1, len(PHASES)))
        ctx.phase = phase.name
        ctx.deadline = Deadline(self.timeouts.of(phase.name))
        state.started(phase.name)
        try:
            outcome: str = "already-done" if phase.check(ctx) else (phase.run(ctx) or "done")
        except KeyboardInterrupt:
            state.fail(phase.name, "interrupted")
            raise Interrupted(f"interrupted during phase {phase.name}",
                              hint="re-run the same command to resume") from None
        except AcpInstallError as err:
            self._scrub(err)
            state.fail(phase.name, f"{type(err).__name__}: {err.message.splitlines()[0]}")
            raise
        elapsed = ctx.dl.elapsed()
        state.finish(phase.name, outcome)
        self._emit(PhaseFinished(phase.name, outcome, elapsed))  # type: ignore[arg-type]
        return PhaseResult(phase.name, outcome, elapsed)

    def _scrub(self, err: AcpInstallError) -> None:
        """Last line of defence: no secret value in an error the state or the CLI shows."""
        if self._redact:
            err.message = self._redact(err.message)
            err.hint = self._redact(err.hint) if err.hint else err.hint
            err.args = (err.message, *err.args[1:])

    def _installer_client(self, ctx: Context) -> Any:
        from ..clients.installer import InstallerClient, discover_address

        address = self.installer_address
        if address is None:
            address = discover_address(ctx.kube, port=self.installer_port, deadline=ctx.dl)
            ctx.progress(f"installer found at {address} (cpaas-installer pod)")
        ctx.state.note("installer", address=address)  # the latest one, also for resumed runs
        return InstallerClient(address, on_retry=ctx.warn, redact=self._redact)
