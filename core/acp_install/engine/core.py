"""The engine: runs an :class:`~acp_install.plan.InstallPlan` phase by phase, resumably."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from ..clients.redact import Redactor
from ..clients.retry import Cancel, Deadline
from ..errors import AcpInstallError, Interrupted, StateError, UsageError
from ..plan import InstallPlan
from ..secrets import SecretRef, SecretResolver, SecretValue, resolving
from .events import (
    EngineWarning,
    Event,
    PhaseFinished,
    PhaseProgress,
    PhaseStarted,
    RunFinished,
    RunOutcome,
    Subscriber,
    to_dict,
)
from .heartbeat import Heartbeat, format_elapsed
from .phases import INSTALLER_LOG, PHASE_NAMES, PHASES, Context, Phase
from .preflight import check_secrets
from .state import EventLog, StateStore

if TYPE_CHECKING:
    from ..clients.kube import KubeClient
    from ..plugins import Provider
    from ..spec.load import LoadedSpec

#: What an embedder may pass as ``secrets=``: values by reference name, or a resolver.
Secrets = Mapping[str, "str | SecretValue"] | SecretResolver

log = logging.getLogger(__name__)

#: Default deadline of each phase, in seconds (seed: a typical install takes 30-60 minutes).
DEFAULT_TIMEOUTS: Mapping[str, float] = {
    "bootstrap": 3600.0,  # setup.sh brings up KIND, the registry and the installer payload
    "push": 1800.0,  # packtool pushes every image of a package, not only its chart
    "packages": 600.0,
    "manifest": 300.0,
    "control-plane": 3600.0,
    "extra-resources": 300.0,
    "installer": 300.0,
    "monitor": 5400.0,
    "verify": 600.0,
}


class ProviderMismatch(UsageError, ValueError):
    """The provider given to the engine is not the one the plan was built for (exit 2)."""


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


#: The fail-fast grace when none is given, in seconds before ``Timeouts.scale``.
DEFAULT_FAIL_FAST_GRACE = 300.0


@attrs.frozen
class Timeouts:
    """Per-phase deadlines, the installer stall threshold and the POST grace, in seconds.

    ``scale`` multiplies every value (``--timeout-scale``: 2 on a slow IaaS, 0.01 in tests).
    ``post_grace``: after a POST whose fate is unknown (timeout after sending, 5xx), how long
    the progress API is watched for the request before it is sent again.
    ``fail_fast``: how long a visible cause of a stall (a Machine condition at severity Error,
    an image pull error...) must persist before the wait stops with the diagnosis
    (:class:`~acp_install.errors.StallDiagnosed`) instead of running out the phase deadline.
    ``None`` (the default) means 300 s times ``scale``; an explicit value is taken as given,
    not scaled (someone who typed ``--fail-fast-grace 10`` means ten seconds).
    Every value must be a finite positive number (:class:`InvalidTiming`, a ``ValueError``).
    """

    phases: Mapping[str, float] = attrs.field(factory=lambda: dict(DEFAULT_TIMEOUTS))
    installer_stall: float = 900.0
    scale: float = 1.0
    post_grace: float = 60.0
    fail_fast: float | None = None

    def __attrs_post_init__(self) -> None:
        unknown = sorted(set(self.phases) - set(PHASE_NAMES))
        if unknown:
            raise UsageError(f"unknown phase(s) in timeouts: {', '.join(unknown)}",
                             hint=f"phases are: {', '.join(PHASE_NAMES)}")
        positive_seconds("the timeout scale", self.scale)
        positive_seconds("the installer stall threshold", self.installer_stall)
        positive_seconds("the POST grace period", self.post_grace)
        if self.fail_fast is not None:
            positive_seconds("the fail-fast grace period", self.fail_fast)
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

    @property
    def fail_fast_grace(self) -> float:
        if self.fail_fast is not None:
            return float(self.fail_fast)
        return DEFAULT_FAIL_FAST_GRACE * self.scale

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

    Most embedders start from a spec with :meth:`from_spec`, which takes the provider from the
    spec itself. The constructor is for a plan built already.

    Args:
        plan: from :func:`acp_install.plan.build_plan`.
        provider: the loaded provider the plan was built with (``LoadedSpec.provider``):
            required, and checked against the plan (:class:`ProviderMismatch` otherwise); its
            hooks diagnose stalls and judge ready gates mid-install.
        kubeconfig: the minialauda kubeconfig; ``None`` when the ``bootstrap`` phase brings
            minialauda up from the Core Package (``spec.corePackage`` or ``core_package``) and
            the run then uses the kubeconfig ``setup.sh`` writes.
        core_package: the Core Package ``.tgz`` (``--core-package``), over
            ``spec.corePackage.path``; used only when ``kubeconfig`` is ``None``.
        workdir: where ``.acp-install/state.json`` lives (one install per work directory).
        secrets: secret values held in memory, for embedders that can use neither environment
            variables nor files: a mapping from reference name (the variable of an
            ``{env: NAME}``, the path of a ``{file: PATH}``) to value, or a resolver
            ``SecretRef -> str | None``. References it does not know (``None``) are read from
            their own variable or file. The values are redacted from every event and error.
        installer_address: ``host:port`` of the installer; default is discovered from the
            cpaas-installer pod (its podIP; port ``installer_port``, else the pod's declared
            container port, else 8080).
        timeouts: per-phase deadlines (:class:`Timeouts`).
        poll_interval: the longest wait between installer progress polls (after a change the
            next poll comes within a second, then backs off to this while nothing changes).
        installer_log: the installer's log on this host; while it is readable, a write to it
            brings the next progress poll forward (None: do not look).
        resync: seconds between watch resyncs (a fresh list).
        restart: forget finished phases (the world is re-checked; the POST stays guarded).
        resubmit: when the installer reports the request ``Failed``, send it again (only
            then: a running or finished request is never sent twice).
        heartbeat: seconds of silence after which a waiting phase says what it awaits and for
            how long (a ``PhaseProgress`` ``waiting 4m30s: ...``), so a terminal never looks
            hung; every other event resets it.
        allow_short_secrets: accept secrets shorter than 8 characters (refused otherwise, with
            :class:`SecretError`): each is warned about once and redacted only where it stands
            alone, never inside names or words that contain it.
        global_kubeconfig: the new global cluster's kubeconfig file for phase ``verify``;
            default: its Cluster API Secret ``<cluster>-kubeconfig`` (key ``value``) in
            minialauda, as ``clusterctl get kubeconfig`` reads it.
        wait_through_failures: never fail fast; a visible cause of a stall is reported once
            as a warning and the wait goes on until the phase deadline (``Timeouts.fail_fast``
            is the grace otherwise).
        spec_file: the spec file the plan came from, recorded in the state (a path, never its
            content) so that the install report (``<workdir>/report.html``, written at the end
            of every run) can print the exact commands to resume, gather or hand off.

    Raises :class:`InvalidTiming` (a ``ValueError``) for a ``poll_interval`` or ``resync``
    that is not a finite positive number.

    Example::

        engine = Engine.from_spec("global.yaml", kubeconfig="alauda.kubeconfig", workdir="work")
        engine.subscribe(print)
        result = engine.run()
    """

    def __init__(self, plan: InstallPlan, *, provider: Provider,
                 kubeconfig: str | os.PathLike[str] | None, workdir: str | os.PathLike[str] = ".",
                 secrets: Secrets | None = None,
                 installer_address: str | None = None, installer_port: int | None = None,
                 timeouts: Timeouts | None = None, poll_interval: float = 1.5,
                 installer_log: str | os.PathLike[str] | None = INSTALLER_LOG,
                 resync: float = 30.0, restart: bool = False, resubmit: bool = False,
                 wait_through_failures: bool = False, heartbeat: float = 30.0,
                 allow_short_secrets: bool = False,
                 global_kubeconfig: str | os.PathLike[str] | None = None,
                 core_package: str | os.PathLike[str] | None = None,
                 preflight: bool = True, skip_preflight: Iterable[str] = (),
                 spec_file: str | os.PathLike[str] | None = None,
                 resolver: Callable[[str], Sequence[str]] | None = None) -> None:
        self.spec_file = None if spec_file is None else os.path.abspath(spec_file)
        self.poll_interval = positive_seconds("the poll interval", poll_interval)
        self.installer_log = str(installer_log) if installer_log else None
        self.heartbeat = positive_seconds("the heartbeat interval", heartbeat)
        self._emit_lock = threading.RLock()
        self._beat: Heartbeat | None = None
        self.resync = positive_seconds("the resync interval", resync)
        _check_provider(plan, provider)
        self.plan = plan
        from .bootstrap import CoreSetup

        self.core_setup = None if kubeconfig is not None else CoreSetup.of(
            plan.spec, None if core_package is None else str(core_package))
        if kubeconfig is None and self.core_setup is None:
            raise UsageError("no minialauda kubeconfig and no Core Package to bring it up",
                             hint="pass the kubeconfig (--kubeconfig), or name the Core Package "
                                  "(spec corePackage.path or --core-package) to run setup.sh")
        self.kubeconfig = str(kubeconfig) if kubeconfig is not None else \
            self.core_setup.kubeconfig  # type: ignore[union-attr]
        self.workdir = Path(workdir)
        self.provider = provider
        self.installer_address = installer_address
        self.installer_port = installer_port
        self.timeouts = timeouts or Timeouts()
        self.restart = restart
        self.resubmit = resubmit
        self.wait_through_failures = wait_through_failures
        self.allow_short_secrets = allow_short_secrets
        self.global_kubeconfig = None if global_kubeconfig is None else str(global_kubeconfig)
        self.preflight = preflight
        self.skip_preflight = tuple(skip_preflight)
        self.resolver = resolver
        self._resolver, self._known = _resolver_of(secrets)
        # Redacts the in-memory values from the first event on (a failure before the secret
        # check must not show them either); the run adds every value the plan reads.
        self._redact: Redactor = Redactor(v.get() for v in self._known)
        self._subscribers: list[Subscriber] = []
        self._log = EventLog(self.workdir)
        self._cancel = Cancel()

    @classmethod
    def from_spec(cls, spec: str | os.PathLike[str] | LoadedSpec, *,
                  kubeconfig: str | os.PathLike[str] | None, workdir: str | os.PathLike[str] = ".",
                  secrets: Secrets | None = None, **options: Any) -> Engine:
        """An engine for a spec file (or a :class:`~acp_install.LoadedSpec`), with its provider.

        The plan is built here and the provider is the one the spec names, so a plan can never
        run with another provider's hooks. ``options`` are the constructor's (``timeouts``,
        ``poll_interval``, ``installer_address``, ``restart``...). Raises
        :class:`~acp_install.errors.SpecError` for an invalid spec, before anything is touched.
        """
        from ..plan import build_plan
        from ..spec.load import LoadedSpec, load_spec

        loaded = spec if isinstance(spec, LoadedSpec) else load_spec(spec)
        if "spec_file" not in options and os.path.isfile(loaded.source):
            options["spec_file"] = loaded.source
        return cls(build_plan(loaded), provider=loaded.provider, kubeconfig=kubeconfig,
                   workdir=workdir, secrets=secrets, **options)

    # -- cancelling -------------------------------------------------------------------------------

    def cancel(self) -> None:
        """Stop the run from any thread (or a signal handler); :meth:`run` raises
        :class:`~acp_install.errors.Interrupted` within a second, in any wait.

        The phase under way is recorded ``interrupted`` and the next run re-checks it. An
        engine once cancelled stays cancelled: resume with a new one.
        """
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    # -- events ---------------------------------------------------------------------------------

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Deliver every event to ``subscriber``; returns a function that unsubscribes."""
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def _emit(self, event: Event) -> None:
        if self._redact and isinstance(event, PhaseProgress | EngineWarning | RunFinished):
            event = attrs.evolve(event, message=self._redact(event.message))
        # the heartbeat thread emits too: one event at a time reaches the subscribers
        with self._emit_lock:
            self._log.write(to_dict(event))
            for sub in list(self._subscribers):
                try:
                    sub(event)
                except Exception:  # a broken UI must not break an install half-way
                    log.exception("event subscriber %r failed", sub)
            if self._beat is not None:
                self._beat.touch()

    def _heartbeat(self, ctx: Context) -> bool:
        """The heartbeat line of the phase under way (none between phases)."""
        phase, deadline = ctx.phase, ctx.deadline
        if not phase or deadline is None:
            return False
        elapsed = deadline.elapsed()
        self._emit(PhaseProgress(phase, f"waiting {format_elapsed(elapsed)}: "
                                        f"{ctx.awaiting or phase}", elapsed))
        return True

    # -- running -----------------------------------------------------------------------------

    def run(self, *, until: str | None = None) -> InstallResult:
        """Run every unfinished phase (up to and including ``until``).

        Always ends with one :class:`RunFinished` event, then returns or raises: the error of a
        failed run, :class:`~acp_install.errors.Interrupted` after :meth:`cancel`.
        """
        if until is not None and until not in PHASE_NAMES:
            raise UsageError(f"unknown phase {until!r}", hint=f"phases: {', '.join(PHASE_NAMES)}")
        start = time.monotonic()
        results: list[PhaseResult] = []
        current: list[str] = [""]
        try:
            with resolving(self._resolver):
                result = self._run(until, start, results, current)
        except BaseException as err:
            self._finish_failed(err, results, current[0], time.monotonic() - start)
            self._write_report()
            if isinstance(err, KeyboardInterrupt):  # outside a phase: the same documented error
                raise Interrupted("interrupted", hint="re-run the same command to resume") from None
            raise
        self._emit(RunFinished("complete" if result.complete else "stopped",
                               complete=result.complete, phases=_outcomes(results),
                               installer=result.installer_address or "",
                               elapsed=result.elapsed))
        self._write_report()
        return result

    def _write_report(self) -> None:
        """``<workdir>/report.html`` after every run, best effort: a report that cannot be
        written (read-only work directory, a bug in the page) must not fail the install."""
        from ..report import write_report
        from .state import STATE_DIR

        if not (self.workdir / STATE_DIR).is_dir():  # the run stopped before it had a state
            return
        try:
            write_report(self.workdir)
        except Exception:
            log.debug("install report not written in %s", self.workdir, exc_info=True)

    def _finish_failed(self, err: BaseException, results: list[PhaseResult], phase: str,
                       elapsed: float) -> None:
        outcome: RunOutcome = "interrupted" if isinstance(err, Interrupted | KeyboardInterrupt) \
            else "failed"
        if isinstance(err, AcpInstallError):
            self._scrub(err)
            code, name, text = err.exit_code, type(err).__name__, str(err)
        elif isinstance(err, KeyboardInterrupt):
            code, name, text = Interrupted.exit_code, "Interrupted", "interrupted"
        else:  # a bug: its text may hold anything, so it passes the redactor too
            code, name, text = AcpInstallError.exit_code, type(err).__name__, str(err)
        self._emit(RunFinished(outcome, phase=phase, exit_code=code, error=name, message=text,
                               phases=_outcomes(results), elapsed=elapsed))

    def _run(self, until: str | None, start: float, results: list[PhaseResult],
             current: list[str]) -> InstallResult:
        from ..clients.kube import KubeClient

        digest = plan_digest(self.plan)
        with StateStore(self.workdir) as state:
            # the site is checked before the first side effect only: not on a resume, nor on a
            # --restart of a run that applied something (the VIP answers then: it is ours)
            fresh = not any(name != "bootstrap" for name in state.data.get("phases") or {}) \
                and not state.get_note("installer")
            self._check_digest(state, digest)
            if self.resubmit:
                # Re-examine the request: Installer.check sends again only on Failed.
                for name in ("installer", "monitor", "verify"):
                    state.phases.pop(name, None)
                state.save()
            # Every secret the remaining phases send, before the first side effect.
            todo = [p for p in PHASE_NAMES[:PHASE_NAMES.index(until) + 1 if until else None]
                    if not state.finished(p)]
            found = check_secrets(self.plan, todo, on_short=self._short_secret
                                  if self.allow_short_secrets else None)
            for value in self._known:  # also those the plan does not reference
                found.add(value.get())
            self._redact = found
            clients: list[KubeClient] = []

            def connect() -> None:
                """To minialauda, before the first phase that needs it (after bootstrap)."""
                kube = KubeClient(self.kubeconfig,
                                  on_retry=lambda m: self._emit(EngineWarning(m)),
                                  redact=self._redact, scratch=state.scratch())
                clients.append(kube)
                self._note_tls(state, kube)
                self._check_cluster(state, kube)
                if self.preflight and fresh:
                    self._check_site(kube)
                ctx.kube = kube

            ctx = Context(plan=self.plan, kube=_NOT_CONNECTED, state=state, emit=self._emit,
                          installer_factory=self._installer_client, provider=self.provider,
                          poll_interval=self.poll_interval, installer_log=self.installer_log,
                          resync=self.resync,
                          stall_after=self.timeouts.stall, post_grace=self.timeouts.grace,
                          resubmit=self.resubmit, fail_fast=self.timeouts.fail_fast_grace,
                          wait_through_failures=self.wait_through_failures,
                          global_kubeconfig=self.global_kubeconfig, bootstrap=self.core_setup)
            self._beat = Heartbeat(self.heartbeat, lambda: self._heartbeat(ctx))
            self._beat.start()
            try:
                for index, phase in enumerate(PHASES):
                    # with minialauda given, connect first: a bad kubeconfig fails before
                    # any phase is recorded; only a bootstrap to run goes before the cluster
                    if not clients and (self.core_setup is None
                                        or getattr(phase, "needs_cluster", True)):
                        connect()
                    current[0] = phase.name
                    results.append(self._run_phase(ctx, state, phase, index))
                    current[0] = ""
                    if phase.name == until:
                        break
            finally:
                self._beat.stop()
                self._beat = None
                ctx.close()
                for kube in clients:
                    kube.close()
            address = state.get_note("installer").get("address")
        complete = all(state.finished(p) for p in PHASE_NAMES)
        return InstallResult(tuple(results), time.monotonic() - start, address, complete)

    def _check_site(self, kube: KubeClient) -> None:
        """The infrastructure preflight (:mod:`.infra`): one line per check, then refuse to
        start on a failure. Only on a fresh run: once the VIP is ours, ``vip-free`` is moot."""
        from .infra import raise_on_failure, run_preflight

        results = run_preflight(self.plan, self.provider, kube, skip=self.skip_preflight,
                                resolver=self.resolver)
        for r in results:
            self._emit(PhaseProgress("preflight", f"preflight {r.status}: {r.name}: {r.detail}"))
            if r.status == "warn":
                self._emit(EngineWarning(f"preflight {r.name}: {r.detail}"))
        raise_on_failure(results)

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
        # paths only (for the report's resume/gather commands), never what the files hold
        state.data["run"] = {"spec": self.spec_file, "kubeconfig": self.kubeconfig}
        state.save()

    def _note_tls(self, state: StateStore, kube: Any) -> None:
        """Say once, loudly, that the kubeconfig turns TLS verification off, and record it.

        The library would warn on every request instead (dozens of identical lines); the
        client silences those, so this is the one place it is said.
        """
        state.note("tls", server=kube.server, verify=not kube.insecure)
        if kube.insecure:
            self._emit(EngineWarning(
                f"TLS VERIFICATION IS OFF for {kube.server}: the kubeconfig sets "
                "insecure-skip-tls-verify: true, so anything on the network path can pose as "
                "the bootstrap cluster and receive the secrets this install applies. Put the "
                "cluster's CA in certificate-authority-data instead (minialauda's kubeconfig "
                "/var/cpaas/data/alauda.kubeconfig has it)"))

    def _check_cluster(self, state: StateStore, kube: Any) -> None:
        """Refuse to resume against another cluster (e.g. minialauda re-created by setup.sh):
        finished phases would be skipped although nothing of them exists there."""
        identity = f"server:{kube.server}"
        for ns in ("kube-system", "default"):
            obj = kube.get("v1", "Namespace", ns, None,
                           deadline=Deadline(60 * self.timeouts.scale, cancel=self._cancel))
            if obj is not None:
                identity = f"{ns}:{obj['metadata'].get('uid', '')}"
                break
        old = state.data.get("cluster")
        # bootstrap made (or found) minialauda: it is no work done inside one cluster
        in_cluster = [p.name for p in PHASES if getattr(p, "needs_cluster", True)]
        if old and old != identity and any(state.finished(p) for p in in_cluster):
            raise StateError(
                f"{state.path} belongs to an install into another cluster (bootstrap cluster "
                "re-created, or another --kubeconfig)",
                hint="re-run with --restart to apply every phase to this cluster, or use the "
                     "kubeconfig of the original one")
        state.data["cluster"] = identity
        state.save()

    def _run_phase(self, ctx: Context, state: StateStore, phase: Phase,
                   index: int) -> PhaseResult:
        if state.finished(phase.name):
            self._emit(PhaseFinished(phase.name, "skipped", 0.0))
            return PhaseResult(phase.name, "skipped", 0.0)
        if self._cancel.is_set():
            raise Interrupted(f"cancelled before phase {phase.name}",
                              hint="re-run the same command to resume")
        self._emit(PhaseStarted(phase.name, index + 1, len(PHASES)))
        ctx.deadline = Deadline(self.timeouts.of(phase.name), cancel=self._cancel)
        ctx.awaiting = phase.title
        ctx.phase = phase.name
        state.started(phase.name)
        try:
            outcome: str = "already-done" if phase.check(ctx) else (phase.run(ctx) or "done")
        except (KeyboardInterrupt, Interrupted):
            state.interrupted(phase.name)
            raise Interrupted(f"interrupted during phase {phase.name}",
                              hint="re-run the same command to resume") from None
        except AcpInstallError as err:
            self._scrub(err)
            state.fail(phase.name, f"{type(err).__name__}: {err.message.splitlines()[0]}")
            raise
        except Exception as err:  # a bug: the phase is failed (resumable), its text is not kept
            state.fail(phase.name, f"{type(err).__name__} (an internal error; --debug shows the traceback)")
            raise
        elapsed = ctx.dl.elapsed()
        state.finish(phase.name, outcome)
        self._emit(PhaseFinished(phase.name, outcome, elapsed))  # type: ignore[arg-type]
        return PhaseResult(phase.name, outcome, elapsed)

    def _short_secret(self, source: str) -> None:
        self._emit(EngineWarning(f"secret {source} is shorter than 8 characters: it is redacted from "
                                 "messages only where it stands alone (use a longer one)"))

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


class _NotConnected:
    """``Context.kube`` until the engine connects: a phase that needs no cluster (bootstrap)
    touching it is a bug, said plainly."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"KubeClient.{name} used before the engine connected to minialauda")


_NOT_CONNECTED: Any = _NotConnected()


def _outcomes(results: list[PhaseResult]) -> dict[str, str]:
    return {r.name: r.outcome for r in results}


def _check_provider(plan: InstallPlan, provider: Any) -> None:
    """The engine calls the provider's hooks mid-install: they must be the plan's provider's."""
    info = getattr(provider, "info", None)
    if info is None:
        raise ProviderMismatch(
            f"Engine needs the loaded provider of the plan, not {type(provider).__name__}",
            hint="pass provider=loaded.provider (load_spec(...).provider), or use "
                 "Engine.from_spec(spec, ...), which takes it from the spec")
    if info.id != plan.provider.id:
        raise ProviderMismatch(
            f"the plan was built for provider {plan.provider.id!r}, the engine was given "
            f"provider {info.id!r}",
            hint="pass the provider the plan was built with (loaded.provider), or use "
                 "Engine.from_spec(spec, ...)")


def _resolver_of(secrets: Secrets | None) -> tuple[SecretResolver | None, list[SecretValue]]:
    """``secrets=`` as a resolver, and the values known up front (for the redactor)."""
    if secrets is None:
        return None, []
    if callable(secrets):
        return secrets, []
    held: dict[str, SecretValue] = {}
    for name, value in secrets.items():
        if not isinstance(name, str) or not isinstance(value, str | SecretValue):
            raise UsageError(f"secrets[{name!r}]: expected a str (or SecretValue) by reference "
                             f"name, got {type(value).__name__}",
                             hint="secrets={'ACP_ADMIN_PASSWORD': '...'}: the env variable of "
                                  "an {env: NAME} reference, or the path of a {file: PATH} one")
        # held as SecretValue so that neither repr(engine) nor vars(engine) shows them
        held[name] = value if isinstance(value, SecretValue) else SecretValue(value,
                                                                              source="memory")

    def resolve(ref: SecretRef) -> str | None:
        found = held.get(ref.env if ref.env is not None else str(ref.file))
        return None if found is None else found.get()

    return resolve, list(held.values())
