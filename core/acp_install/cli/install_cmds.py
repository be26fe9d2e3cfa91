"""``acp-install install`` and ``acp-install status``: the engine, rendered for a terminal.

``kubernetes`` and ``httpx`` are imported by the engine only when a run starts, never when this
module is imported, so ``acp-install --help`` stays fast.

With ``-o json`` every line is a JSON object whose ``event`` says what it is: the engine's
events, and this module's own lines (:data:`CLI_LINES`: spec findings first, ``result`` or
``error`` last). :func:`stream_schema` is their JSON Schema (``acp-install schema --events``).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import attrs
import click

from ..errors import AcpInstallError, SpecError, UsageError
from . import conventions, sandboxing, view
from .view import view_options, view_verbosity

if TYPE_CHECKING:
    from ..engine import Engine, Event, InstallResult
    from ..plan import InstallPlan

#: Timeout scale used with ``--sandbox`` unless given: the sandbox runs ~20x faster than life.
SANDBOX_TIMEOUT_SCALE = 0.02


def sandbox_poll_interval(speed: float) -> float:
    """The longest wait between installer progress polls against a sandbox running ``speed``
    times faster than life: 0.2 s at the default speed 20 (4 simulated seconds), shorter as the
    sandbox gets faster, never under 0.02 s. A fixed 0.2 s left a run at speed 1000 waiting
    on polls for most of its monitor phase (each installer stage waits for a poll to see it)."""
    return min(0.2, max(0.02, 4.0 / speed))


@attrs.frozen
class FindingLine:
    """A warning found in the spec while loading it (before any phase)."""

    severity: str
    path: str
    line: int | None
    source: str
    message: str
    fix: str


@attrs.frozen
class SandboxCounts:
    """What the sandbox recorded of the run (``--sandbox`` only)."""

    objects_applied: int
    installer_requests: int
    #: every request the sandbox answered during the run: flat in the run's length, because the
    #: engine watches instead of polling (bench/request_counts.py)
    api_requests_served: int = 0
    installer_requests_served: int = 0


@attrs.frozen
class ResultLine:
    """The last line of a run that did not fail: the summary the text output prints."""

    complete: bool
    elapsed: float
    installer: str | None
    phases: dict[str, str]
    sandbox: SandboxCounts | None = None


@attrs.frozen
class ErrorLine:
    """The last line of a failed command, with its exit code (``docs/exit-codes.md``)."""

    error: str
    exit_code: int
    message: str


#: The lines ``install -o json`` writes besides the engine's events.
CLI_LINES: dict[str, type] = {"finding": FindingLine, "result": ResultLine, "error": ErrorLine}


def stream_schema() -> dict[str, Any]:
    """The JSON Schema of one line of ``install -o json``: an engine event or a CLI line."""
    from ..engine import event_schema

    return event_schema(CLI_LINES)


def _line(record: Any) -> str:
    name = next(n for n, cls in CLI_LINES.items() if isinstance(record, cls))
    return json.dumps({"event": name, **attrs.asdict(record)}, sort_keys=True)


class JsonRenderer:
    """Events as JSON lines (``-o json``), for pipelines."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def __call__(self, event: Event) -> None:
        from ..engine import to_dict

        self.emit(to_dict(event))

    def emit(self, data: dict[str, Any]) -> None:
        self.out.write(json.dumps(data, sort_keys=True) + "\n")
        self.out.flush()

    def line(self, record: Any) -> None:
        """One of :data:`CLI_LINES`."""
        self.out.write(_line(record) + "\n")
        self.out.flush()


def _parse_timeouts(values: tuple[str, ...]) -> dict[str, float]:
    from ..engine.core import positive_seconds

    out: dict[str, float] = {}
    for item in values:
        phase, sep, seconds = item.partition("=")
        try:
            if not sep:
                raise ValueError
            value = float(seconds)
        except ValueError:
            raise UsageError(f"--timeout {item!r}: expected PHASE=SECONDS",
                             hint="e.g. --timeout control-plane=5400") from None
        out[phase.strip()] = positive_seconds(f"--timeout {item!r}", value)
    return out


def _check_options(until: str | None, timeout_scale: float | None, poll_interval: float | None,
                   speed: float, installer_address: str | None,
                   fail_fast_grace: float | None = None, heartbeat: float | None = None) -> None:
    """Every option that needs no file or cluster, before anything is loaded (exit 2)."""
    from ..engine import PHASE_NAMES
    from ..engine.core import positive_seconds

    if until is not None and until not in PHASE_NAMES:
        raise UsageError(f"--until {until!r}: unknown phase",
                         hint=f"phases: {', '.join(PHASE_NAMES)}")
    for name, value in (("--timeout-scale", timeout_scale), ("--poll-interval", poll_interval),
                        ("--speed", speed), ("--fail-fast-grace", fail_fast_grace),
                        ("--heartbeat", heartbeat)):
        if value is not None:
            positive_seconds(name, value)
    if installer_address is not None:
        host, sep, port = installer_address.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536 \
                or any(c in host for c in "/?#@ "):
            raise UsageError(f"--installer-address {installer_address!r}: expected HOST:PORT",
                             hint="the cpaas-installer pod IP and port, e.g. 10.0.0.5:8080 "
                                  "(or leave it out: it is discovered from the pod)")


def _check_sandbox_options(use_sandbox: bool, kubeconfig: str | None, global_kubeconfig: str | None,
                           scenario: str) -> None:
    """A flag that would be silently ignored is a usage error (exit 2)."""
    if use_sandbox and (kubeconfig or global_kubeconfig):
        flag = "--kubeconfig" if kubeconfig else "--global-kubeconfig"
        raise UsageError(f"{flag} with --sandbox: the embedded sandbox is its own cluster",
                         hint="drop --sandbox to install into that cluster (a `sandbox up` one "
                              "included), or drop " + flag)
    if not use_sandbox and scenario != "happy":
        raise UsageError(f"--scenario {scenario} without --sandbox: scenarios are the sandbox's",
                         hint="add --sandbox, or start one with `acp-install sandbox up --scenario "
                              f"{scenario}` and pass its --kubeconfig")


def _demo_secrets(spec: Any) -> dict[str, str]:
    """A demo value for every unset ``{env: NAME}`` secret of the spec.

    Handed to the engine in memory (``Engine(secrets=...)``): the environment is not changed.
    """
    from ..secrets import spec_refs

    return {ref.env: f"demo-{ref.env.lower().replace('_', '-')}" for ref in spec_refs(spec)
            if ref.env and not os.environ.get(ref.env)}


def _demo_provider(provider_id: str | None) -> Any:
    """The provider of the demo spec: the one asked for, else the first installed one by id."""
    from ..plugins import installed, load_provider

    if provider_id is not None:
        return load_provider(provider_id)
    names = sorted(installed())
    if not names:
        raise UsageError("no provider installed", hint="pip install an acp-install-<provider>")
    return load_provider(names[0])


@contextmanager
def _sandbox(crds: str | None, scenario: str, speed: float, tmp: Path) -> Iterator[Any]:
    sb = sandboxing.create(crds_dir=crds, scenario=sandboxing.scenario(scenario), speed=speed,
                           installer_port=0, state_dir=tmp / "sandbox")
    with sb:
        yield sb


@click.command()
@click.option("-f", "--file", "spec_file", type=click.Path(dir_okay=False),
              help="Install spec (with --sandbox: default is the `init` example of --provider).")
@click.option("--kubeconfig", type=click.Path(dir_okay=False),
              help="Kubeconfig of minialauda (default: $KUBECONFIG, then ~/.kube/config).")
@click.option("--global-kubeconfig", type=click.Path(dir_okay=False),
              help="Kubeconfig of the NEW global cluster, for phase verify (default: its "
                   "Cluster API Secret global-kubeconfig in minialauda).")
@click.option("--core-package", type=click.Path(dir_okay=False), metavar="TGZ",
              help="The Core Package: without --kubeconfig/$KUBECONFIG, phase bootstrap unpacks "
                   "it and runs its setup.sh (Step 2); over the spec's corePackage.path.")
@click.option("--workdir", type=click.Path(file_okay=False),
              help="Work directory holding .acp-install/state.json (default: current directory; "
                   "with --sandbox: a temporary one, since the sandbox is gone afterwards).")
@click.option("--installer-address", metavar="HOST:PORT",
              help="cpaas-installer address (default: podIP of the cpaas-installer pod, port 8080).")
@click.option("-o", "--output", "fmt", type=click.Choice(["text", "json"]), default="text",
              help="text: progress lines; json: one JSON event per line.")
@click.option("--timeout-scale", type=float, default=None,
              help="Multiply every phase timeout (2 on a slow IaaS).")
@click.option("--timeout", "timeouts", multiple=True, metavar="PHASE=SECONDS",
              help="Deadline of one phase, e.g. control-plane=5400 (repeatable).")
@click.option("--until", "until", metavar="PHASE", help="Stop after this phase.")
@click.option("--dry-run", is_flag=True,
              help="Change nothing: server-side dry run of every object the next phases would "
                   "apply, shown as a diff against the live objects, with the installer request "
                   "(secrets masked) and the phases that would run (same as `diff`).")
@click.option("--fail-fast-grace", type=float, default=None, metavar="SECONDS",
              help="How long a visible cause of a stall (a Machine condition at severity Error, "
                   "an image pull error...) may persist before the wait stops with the "
                   "diagnosis (default 300, scaled like the timeouts; a value given here is "
                   "not scaled; exit 16).")
@click.option("--heartbeat", type=float, default=30.0, show_default=True, metavar="SECONDS",
              help="While a phase waits and nothing else happens, say what it waits for and "
                   "since when at least this often.")
@click.option("--wait-through-failures", is_flag=True,
              help="Never fail fast: report a visible cause once and wait out the phase "
                   "deadline (for causes you are fixing while the install waits).")
@click.option("--restart", is_flag=True,
              help="Forget finished phases and re-check all (the installer POST stays guarded).")
@click.option("--resubmit", is_flag=True,
              help="Send the installer request again if, and only if, the installer reports "
                   "the earlier one Failed (after fixing the cause).")
@click.option("--poll-interval", type=float, default=None,
              help="Longest wait between installer progress polls (default 1.5; with --sandbox "
                   "4 simulated seconds, 0.02-0.2 s).")
@click.option("--sandbox", "use_sandbox", is_flag=True,
              help="Run against an embedded sandbox (emulated minialauda) started for this run.")
@click.option("--crds", type=click.Path(file_okay=False),
              help="With --sandbox: CRD YAML directory overriding the schemas the installed "
                   "distributions ship.")
@click.option("--scenario", default="happy", show_default=True,
              help="With --sandbox: " + sandboxing.scenario_help)
@click.option("--speed", type=float, default=20.0, show_default=True, envvar="ACP_SANDBOX_SPEED",
              help="With --sandbox: how much faster than life the sandbox runs "
                   "($ACP_SANDBOX_SPEED when set).")
@click.option("--provider", "provider_id", metavar="ID",
              help="With --sandbox and no -f: provider of the example spec (default: the first "
                   "installed one, by id).")
@click.option("--skip-preflight", "skip_preflight", multiple=True, metavar="NAME",
              help="Skip the named preflight check (repeatable; see `acp-install preflight`).")
@click.option("--accept-example-values", is_flag=True, envvar="ACP_INSTALL_ACCEPT_EXAMPLE_VALUES",
              help="Start although fields still hold the `acp-install init` example values "
                   "(only if they really are your site's; env ACP_INSTALL_ACCEPT_EXAMPLE_VALUES=1).")
@click.option("--allow-short-secrets", is_flag=True,
              help="Accept secrets shorter than 8 characters (redacted from messages only where "
                   "they stand alone).")
@view_options
def install(spec_file: str | None, kubeconfig: str | None, workdir: str | None,
            installer_address: str | None, fmt: str, timeout_scale: float | None,
            timeouts: tuple[str, ...], until: str | None, restart: bool, resubmit: bool,
            poll_interval: float | None, use_sandbox: bool, crds: str | None, scenario: str,
            speed: float, provider_id: str | None, no_color: bool = False, verbose: int = 0,
            quiet: bool = False, fail_fast_grace: float | None = None,
            wait_through_failures: bool = False, heartbeat: float = 30.0,
            accept_example_values: bool = False,
            allow_short_secrets: bool = False, global_kubeconfig: str | None = None,
            core_package: str | None = None, dry_run: bool = False, skip_preflight: tuple[str, ...] = ()) -> int:
    """Run the install: packages, manifest, control plane, installer request, monitor, verify.

    Resumable: a re-run in the same --workdir skips finished phases and never sends the
    installer request twice. With --sandbox, everything runs against an emulated minialauda.
    """
    from ..engine import Timeouts

    out = sys.stdout
    json_out = JsonRenderer(out) if fmt == "json" else None
    renderer = json_out or view.make_view(out, no_color=no_color, verbosity=view_verbosity(verbose, quiet))
    if dry_run:
        if use_sandbox or spec_file is None:
            raise UsageError("--dry-run compares with a cluster: give -f SPEC and --kubeconfig",
                             hint="not with --sandbox, which starts an empty cluster each time")
        from .dryrun_cmds import show_dry_run

        return show_dry_run(spec_file, kubeconfig, workdir or ".", fmt, verbose,
                            accept_example_values)
    try:
        _check_options(until, timeout_scale, poll_interval, speed, installer_address,
                       fail_fast_grace, heartbeat)
        _check_sandbox_options(use_sandbox, kubeconfig, global_kubeconfig, scenario)
        scale = timeout_scale if timeout_scale is not None else (
            SANDBOX_TIMEOUT_SCALE if use_sandbox else 1.0)
        base = Timeouts(scale=scale, fail_fast=fail_fast_grace)  # an explicit grace is not scaled
        overrides = _parse_timeouts(timeouts)
        timeouts_obj = base.with_overrides(**overrides) if overrides else base
        if use_sandbox:
            result = _install_sandbox(spec_file, workdir, renderer, timeouts_obj, until, restart,
                                      poll_interval if poll_interval is not None
                                      else sandbox_poll_interval(speed),
                                      crds, scenario, speed, fmt, out,
                                      provider_id, resubmit, wait_through_failures,
                                      verbosity=view_verbosity(verbose, quiet),
                                      heartbeat=heartbeat, allow_short_secrets=allow_short_secrets,
                                      skip_preflight=skip_preflight)
        else:
            if spec_file is None:
                raise UsageError("missing -f SPEC", hint="write one with `acp-install init`")
            from ..clients.kubeconfigs import resolve_kubeconfig

            loaded, plan = _load(spec_file, fmt=fmt, verbosity=view_verbosity(verbose, quiet),
                                 refuse_examples=not accept_example_values)
            # A named Core Package and no kubeconfig given: bootstrap brings minialauda up and
            # the run uses the kubeconfig setup.sh writes (~/.kube/config is not a "given" one).
            bootstrap = (core_package is not None or loaded.spec.corePackage is not None) \
                and not kubeconfig and not os.environ.get("KUBECONFIG", "").strip(os.pathsep)
            kubeconfig = None if bootstrap else resolve_kubeconfig(kubeconfig)
            result = _run(plan, loaded.provider, kubeconfig, workdir or ".", renderer,
                          timeouts_obj, until, restart,
                          poll_interval if poll_interval is not None else 1.5, installer_address,
                          resubmit=resubmit, wait_through_failures=wait_through_failures,
                          heartbeat=heartbeat, allow_short_secrets=allow_short_secrets,
                          global_kubeconfig=global_kubeconfig, core_package=core_package,
                          skip_preflight=skip_preflight,
                          spec_file=spec_file)
            _summary(result, None, fmt, out, renderer)
            dr = plan.spec.dr
            if result.complete and dr is not None and dr.role == "standby" and fmt != "json":
                click.echo("DR is NOT active yet: the standby follows the primary only after the "
                           "join (global-etcd-sync, Pod restarts). Finish it with:\n  acp-install dr "
                           f"join -f PRIMARY.yaml -f {spec_file} --primary-global-kubeconfig "
                           "PRIMARY.kubeconfig --standby-kubeconfig "
                           + (kubeconfig or (plan.spec.corePackage.kubeconfig if plan.spec.corePackage
                                             else "/var/cpaas/data/alauda.kubeconfig")), file=out)
    except AcpInstallError as err:
        if json_out is not None:
            json_out.line(ErrorLine(type(err).__name__, err.exit_code, str(err)))
        raise
    return 0


def _load(spec_file: str, *, label: str | None = None, fmt: str = "text",
          verbosity: int = 0, refuse_examples: bool = False) -> tuple[Any, InstallPlan]:
    """Load, show the spec's warnings (``label`` names a spec the user did not write).

    With ``-o json`` they are JSON lines on stdout like every other event. ``refuse_examples``
    (a real install) turns the fields still holding ``init`` example values into errors before
    anything runs: an example endpoint or node IP names a machine that is not the site's.
    (``--sandbox`` runs are excepted: the sandbox serves every address itself.)
    """
    from ..plan import build_plan
    from ..spec.example import RULE
    from ..spec.load import load_spec

    loaded = load_spec(spec_file)
    examples = [f for f in loaded.warnings if f.rule == RULE]
    if refuse_examples and examples:
        raise SpecError([attrs.evolve(f, severity="error", message=f"{f.message}: install "
                                      "refuses to start", fix=f"{f.fix.split(' (')[0]}, or pass "
                                      "--accept-example-values if it really is your site's")
                         for f in examples], source=loaded.source)
    if fmt == "json":  # a program reads every finding, every time
        for f in loaded.warnings:
            click.echo(_line(FindingLine(f.severity, f.path, f.line, label or loaded.source,
                                         f.message, f.fix)))
    else:
        view.show_spec_warnings(loaded.warnings, loaded.source, label=label,
                                always=verbosity >= view.VERBOSE)
    return loaded, build_plan(loaded)


def _run(plan: InstallPlan, provider: Any, kubeconfig: str | None, workdir: str, renderer: Any,
         timeouts: Any, until: str | None, restart: bool, poll_interval: float,
         installer_address: str | None, resync: float = 30.0,
         resubmit: bool = False, secrets: dict[str, str] | None = None,
         wait_through_failures: bool = False, heartbeat: float = 30.0,
         allow_short_secrets: bool = False,
         global_kubeconfig: str | None = None,
         installer_log: str | None = None, core_package: str | None = None,
         skip_preflight: tuple[str, ...] = (),
         spec_file: str | None = None,
         resolver: Callable[[str], Sequence[str]] | None = None) -> InstallResult:
    from ..engine import Engine
    from ..engine.phases import INSTALLER_LOG

    engine = Engine(plan, kubeconfig=kubeconfig, workdir=workdir, provider=provider,
                    secrets=secrets, installer_address=installer_address, timeouts=timeouts,
                    poll_interval=poll_interval, installer_log=installer_log or INSTALLER_LOG,
                    resync=resync, restart=restart,
                    resubmit=resubmit, wait_through_failures=wait_through_failures,
                    heartbeat=heartbeat, allow_short_secrets=allow_short_secrets,
                    global_kubeconfig=global_kubeconfig, core_package=core_package,
                    skip_preflight=skip_preflight,
                    spec_file=spec_file, resolver=resolver)
    engine.subscribe(renderer)
    try:
        with _cancel_on_signals(engine):
            return engine.run(until=until)
    finally:  # the live view stops redrawing before the summary or the error is printed
        close = getattr(renderer, "close", None)
        if close is not None:
            close()


@contextmanager
def _cancel_on_signals(engine: Engine) -> Iterator[None]:
    """SIGTERM (a service manager, CI, ``kill``) and SIGINT (Ctrl-C) cancel the run.

    Both end it the same way: the phase under way is recorded ``interrupted``, the state stays
    resumable, the exit code is 130 (``Interrupted``). A second signal stops at once (it raises
    ``KeyboardInterrupt``, which the engine records the same way). Signals can only be handled
    in the main thread; elsewhere (an embedder calling ``main``) nothing is installed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def on_signal(signum: int, _frame: Any) -> None:
        if received:
            raise KeyboardInterrupt
        received.append(signum)
        # Not in the handler itself: it may interrupt the main thread inside a lock cancel()
        # takes (threading.Event is not re-entrant), so the cancel runs in a thread of its own.
        threading.Thread(target=engine.cancel, name="acp-install-cancel", daemon=True).start()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _install_sandbox(spec_file: str | None, workdir: str | None, renderer: Any, timeouts: Any,
                     until: str | None, restart: bool, poll_interval: float, crds: str | None,
                     scenario: str, speed: float, fmt: str, out: TextIO,
                     provider_id: str | None = None, resubmit: bool = False,
                     wait_through_failures: bool = False, verbosity: int = 0,
                     heartbeat: float = 30.0, allow_short_secrets: bool = False,
                     skip_preflight: tuple[str, ...] = ()) -> InstallResult:
    with tempfile.TemporaryDirectory(prefix="acp-install-demo-") as tmp_name:
        tmp = Path(tmp_name)
        label = None
        if spec_file is None:
            from ..spec.example import example_spec

            provider = _demo_provider(provider_id)
            spec_file = str(tmp / "spec.yaml")
            Path(spec_file).write_text(example_spec(provider))
            label = f"the built-in example (acp-install init --provider {provider.id})"
        from ..spec.load import load_spec

        demo = _demo_secrets(load_spec(spec_file).spec)
        if demo and fmt == "text" and verbosity > view.QUIET:
            click.echo(f"demo secrets for this run: {', '.join(demo)} (in memory, values "
                       "not shown)", file=out)
        loaded, plan = _load(spec_file, label=label, fmt=fmt, verbosity=verbosity)
        with _sandbox(crds, scenario, speed, tmp) as sb:
            if fmt == "text" and verbosity > view.QUIET:
                click.echo(f"sandbox: {sb.server_url} (scenario {scenario}, speed {speed:g}x, "
                           f"CRDs {crds or 'shipped schemas'})", file=out)
            try:
                result = _run(plan, loaded.provider, str(sb.kubeconfig_path),
                              workdir or str(tmp / "work"), renderer, timeouts, until, restart,
                              poll_interval, None, resync=5.0, resubmit=resubmit, secrets=demo,
                              wait_through_failures=wait_through_failures, heartbeat=heartbeat,
                              allow_short_secrets=allow_short_secrets,
                              installer_log=str(sb.installer_log_path), skip_preflight=skip_preflight)
            except AcpInstallError as err:
                err.hint = _sandbox_hint(err.hint, sb.installer_log_path, workdir)
                raise
            _summary(result, sb, fmt, out, renderer)
        return result


SANDBOX_INSTALLER_LOG = "sandbox-installer.log"


def _sandbox_hint(hint: str | None, installer_log: Path, workdir: str | None) -> str:
    """What applies after a failed ``install --sandbox``: the sandbox (its installer log, its
    cluster) ends with the command, so the real installer's log path and ``--resubmit`` do not.
    With ``--workdir`` the sandbox's installer log is kept there; without, the temporary work
    directory goes too, so say how to keep things next time."""
    from ..engine.phases import INSTALLER_LOG, READ_INSTALLER_LOG, RESUBMIT_HINT

    kept: Path | None = None
    if workdir is not None and installer_log.is_file():
        kept = Path(workdir) / SANDBOX_INSTALLER_LOG
        try:
            kept.write_bytes(installer_log.read_bytes())
        except OSError:
            kept = None
    log = (f"the sandbox's installer log, kept as {kept}" if kept is not None
           else f"the sandbox's installer log (it was {installer_log}, removed with the sandbox)")
    text = (hint or "").replace(READ_INSTALLER_LOG, f"read {log} and fix the cause").replace(
        "; " + RESUBMIT_HINT, "").replace(RESUBMIT_HINT, "").replace(INSTALLER_LOG, log)
    after = ("a --sandbox run starts a new sandbox each time, so --resubmit and resuming do not "
             "apply: re-run the same `acp-install install --sandbox` command"
             + (f" with --restart (the state, the report and the installer log stay in {workdir})"
                if workdir is not None else
                " with --workdir DIR to keep the state, the report and the installer log")
             + ", or start a persistent sandbox with `acp-install sandbox up` and install against "
               "its kubeconfig")
    return f"{text.strip('; ')}; {after}" if text.strip("; ") else after


def _summary(result: InstallResult, sb: Any, fmt: str, out: TextIO, renderer: Any = None) -> None:
    counts = None
    if sb is not None:
        counts = SandboxCounts(
            objects_applied=len({(w.kind, w.namespace, w.name) for w in sb.recorder.writes
                                 if w.manager == "acp-install"}),
            installer_requests=len(sb.recorder.installer_payloads),
            api_requests_served=sb.recorder.api_requests_served,
            installer_requests_served=sb.recorder.installer_requests_served)
    line = ResultLine(complete=result.complete, elapsed=round(result.elapsed, 2),
                      installer=result.installer_address,
                      phases={p.name: p.outcome for p in result.phases}, sandbox=counts)
    if fmt == "json":
        out.write(_line(line) + "\n")
        return
    state = "complete" if result.complete else "stopped (re-run to continue)"
    click.echo(f"install {state} in {result.elapsed:.1f}s"
               + (f"; installer {result.installer_address}" if result.installer_address else ""),
               file=out)
    if counts is not None:
        click.echo(f"sandbox served {counts.api_requests_served} API requests and "
                   f"{counts.installer_requests_served} installer requests "
                   f"({counts.objects_applied} objects applied by acp-install, "
                   f"{counts.installer_requests} install request(s) sent); sandbox stopped",
                   file=out)
    warned = renderer.closing() if hasattr(renderer, "closing") else ""
    if warned:
        click.echo(warned, file=out)


@click.command()
@click.option("--workdir", type=click.Path(file_okay=False), default=".",
              help="Work directory of the install (default: current directory).")
@click.option("--kubeconfig", type=click.Path(dir_okay=False),
              help="Kubeconfig of minialauda, to read the live objects (default: $KUBECONFIG, "
                   "then ~/.kube/config; without one only the state file is read).")
@click.option("--global-kubeconfig", type=click.Path(dir_okay=False),
              help="Kubeconfig of the new global cluster, for its nodes (default: the Cluster "
                   "API Secret global-kubeconfig in minialauda).")
@click.option("--no-cluster", is_flag=True,
              help="Read only the state file: contact neither the cluster nor the installer.")
@click.option("--timeout", type=float, default=10.0, show_default=True,
              help="Seconds to wait for the cluster and for the installer each.")
@conventions.format_option()
def status(workdir: str, kubeconfig: str | None, global_kubeconfig: str | None, no_cluster: bool,
           timeout: float, fmt: str) -> int:
    """Show the install: phases, installer stage, and the live objects as a tree.

    \b
    The exit code says where the install is (docs/exit-codes.md):
      0 complete, 20 not started, 21 running, 22 stopped before the end, 23 failed.
    """
    from ..clients.kubeconfigs import default_kubeconfig
    from ..engine.core import positive_seconds
    from ..engine.status import error_words, installer_stage, read_cluster, run_state

    positive_seconds("--timeout", timeout)
    if not os.path.isdir(workdir):
        raise UsageError(f"--workdir {workdir}: no such directory",
                         hint="pass the --workdir the install ran in")
    kubeconfig = kubeconfig or default_kubeconfig()
    state = run_state(workdir)
    stage, stage_error = "", ""
    address = str(state.installer.get("address") or "")
    if address and not no_cluster and (state.installer.get("sent") or state.installer.get("sending")):
        stage, stage_error = installer_stage(address, timeout)
    cluster = None
    if (kubeconfig or global_kubeconfig) and not no_cluster and state.state != "not-started":
        cluster = read_cluster(kubeconfig, timeout, global_kubeconfig=global_kubeconfig)
    from ..engine.state import events_path

    last = view.last_fact(events_path(workdir)) if state.state != "not-started" else None
    if fmt != "text":
        conventions.emit({"workdir": str(workdir), "state": state.state, "detail": state.detail,
                          "last_event": attrs.asdict(last) if last else None,
                          "exit_code": state.exit_code, "provider": state.provider,
                          "phases": state.phases,
                          "installer": {**state.installer, "stage": stage, "error": stage_error},
                          "tls": state.tls,
                          "cluster": cluster.as_dict() if cluster else None}, fmt)
        return state.exit_code
    if state.state == "not-started":
        click.echo(f"not started: no install state in {workdir} ({state_file(workdir)} missing); "
                   "run `acp-install install` there, or pass --workdir")
        return state.exit_code
    click.echo(f"work directory {workdir} (provider {state.provider or '?'}): {state.state}, "
               f"{state.detail}")
    for name, entry in state.phases.items():
        st = entry.get("status", "pending")
        extra = ""
        if st == "finished":
            extra = f" ({entry.get('outcome')}, {_ago(entry.get('finished'))})"
        elif st == "running":
            extra = f" (since {_ago(entry.get('started'))})"
        elif st in ("failed", "interrupted"):
            extra = f": {error_words(str(entry.get('error')))}"
        click.echo(f"  {name:<16} {st}{extra}")
    inst = state.installer
    if last is not None:
        click.echo(f"last event: {view.iso_time(last.time)} {last.phase + ': ' if last.phase else ''}{last.text}")
    if inst:
        sent = ("sent" if inst.get("sent") else "sending (unconfirmed)" if inst.get("sending")
                else "refused by the installer" if inst.get("refused") else "not sent")
        click.echo(f"installer request: {sent} to {inst.get('address', '?')}")
    if state.tls.get("verify") is False:
        click.echo(f"TLS verification: OFF for {state.tls.get('server', '?')} "
                   "(the kubeconfig sets insecure-skip-tls-verify: true)")
    if stage:
        click.echo(f"installer stage: {stage}")
    elif stage_error:
        click.echo(f"installer stage: not read ({stage_error})")
    if cluster is not None:
        for line in _tree_lines(cluster):
            click.echo(line)
    elif not kubeconfig and not no_cluster:
        click.echo("cluster: not read (no --kubeconfig, $KUBECONFIG is not set and "
                   "~/.kube/config does not exist)")
    if state.state == "complete":
        click.echo("install complete")
    elif state.state == "running":
        click.echo("install running: `acp-install status` again to follow it")
    else:
        click.echo("install not complete: re-run `acp-install install` with the same --workdir "
                   "to resume")
    return state.exit_code


def state_file(workdir: str) -> str:
    from ..engine import state_path

    return str(state_path(workdir))


def _tree_lines(cluster: Any) -> list[str]:
    """The tree as ``clusterctl describe cluster`` draws it: object, state, Ready, reason; then
    the new global cluster's nodes."""
    if not cluster.reachable:
        return [f"cluster: not reachable ({cluster.error})", *_node_lines(cluster)]
    if cluster.tree is None:
        return [f"cluster {cluster.server}: no Cluster object yet"]
    rows: list[tuple[str, Any]] = []

    def walk(node: Any, prefix: str, last: bool, top: bool) -> None:
        branch = "" if top else ("└─ " if last else "├─ ")
        rows.append((prefix + branch + f"{node.kind}/{node.name}", node))
        child_prefix = prefix + ("" if top else ("   " if last else "│  "))
        for i, child in enumerate(node.children):
            walk(child, child_prefix, i == len(node.children) - 1, False)

    walk(cluster.tree, "  ", True, True)
    width = max(len(label) for label, _ in rows)
    state_width = max(len(n.state) for _, n in rows)
    lines = [f"cluster {cluster.server}:",
             f"  {'OBJECT':<{width - 2}}  {'STATE':<{state_width}}  READY  REASON"]
    for label, node in rows:
        why = ": ".join(p for p in (node.reason, node.message) if p)
        if node.node:
            why = f"node {node.node}" + (f"; {why}" if why else "")
        lines.append(f"{label:<{width}}  {node.state:<{state_width}}  {node.ready or '-':<5}  {why}".rstrip())
    return lines + _node_lines(cluster)


def _node_lines(cluster: Any) -> list[str]:
    """The new global cluster's nodes (Step 6's `kubectl get nodes` on it), or why not."""
    if cluster.nodes_error:
        return [f"new global cluster: nodes not read ({cluster.nodes_error})"]
    if not cluster.nodes_server:
        return []
    width = max([len(n.name) for n in cluster.nodes] + [4])
    state_width = max([len(n.state) for n in cluster.nodes] + [5])
    lines = [f"new global cluster {cluster.nodes_server}: {len(cluster.nodes)} node(s)",
             f"  {'NODE':<{width}}  {'ROLES':<{state_width}}  READY  REASON"]
    for n in cluster.nodes:
        why = ": ".join(p for p in (n.reason, n.message) if p)
        lines.append(f"  {n.name:<{width}}  {n.state:<{state_width}}  {n.ready or '-':<5}  {why}".rstrip())
    return lines


def _ago(ts: Any) -> str:
    if not isinstance(ts, int | float):
        return "?"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


@click.command()
@click.option("-f", "--file", "spec_file", type=click.Path(dir_okay=False),
              help="Install spec (default: the `init` example of --provider).")
@click.option("--provider", "provider_id", metavar="ID",
              help="Provider of the example spec (default: the first installed one, "
                   "by id).")
@click.option("--crds", type=click.Path(file_okay=False),
              help="CRD YAML directory overriding the schemas the installed distributions ship.")
@click.option("--scenario", default="happy", show_default=True,
              help=sandboxing.scenario_help)
@click.option("--speed", type=float, default=20.0, show_default=True, envvar="ACP_SANDBOX_SPEED",
              help="How much faster than life the sandbox runs ($ACP_SANDBOX_SPEED when set).")
@click.option("-o", "--output", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--timeout-scale", type=float, default=None,
              help=f"Multiply every phase timeout (default {SANDBOX_TIMEOUT_SCALE}).")
@click.option("--timeout", "timeouts", multiple=True, metavar="PHASE=SECONDS")
@view_options
@click.pass_context
def demo(ctx: click.Context, **options: Any) -> int:
    """Start the sandbox, install a spec end to end against it, print a summary, stop.

    The same as ``acp-install install --sandbox``. Secrets the spec reads from unset environment
    variables get demo values, in this process only.
    """
    rc: int = ctx.invoke(install, use_sandbox=True, **options)
    return rc
