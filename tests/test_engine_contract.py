"""The engine's contract for embedders (issue 8), against the sandbox over loopback.

``Engine.from_spec`` and the required provider; ``cancel()`` honoured in every wait (a watch,
an installer poll, a backoff sleep); in-memory secrets; numbered progress; one terminal
``RunFinished``; the event JSON Schema. Nothing here measures time: a cancel is "honoured" when
a run whose wait would last an hour returns before a 30 s hang guard, and retries are counted.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from test_engine import Recorded, assert_no_canaries, fast, posts

from acp_install import Engine, RunFinished, build_plan, event_schema, load_spec
from acp_install.clients.retry import Cancel, Deadline, retry_call
from acp_install.engine import PhaseProgress, ProviderMismatch, read_state, state_path, to_dict
from acp_install.errors import InstallerError, Interrupted, SecretError, StateError, WaitTimeout
from acp_install.plugins import load_provider
from acp_install.secrets import SecretRef
from acp_install_sandbox import Sandbox

from specs import example, write
from support import CANARIES, b64

#: A wait this long never ends by itself within the test: only a cancel can end it.
HOUR = 3600.0
#: Hang guard for a cancelled run (generous: the machine is loaded). Failing it means the cancel
#: was ignored, since the wait would otherwise last HOUR.
GUARD = 30.0


@pytest.fixture
def spec_path(tmp_path: Path, canaries: dict[str, str]) -> Path:
    return write(tmp_path / "spec.yaml", example("dcs"))


@pytest.fixture
def start(sandbox_factory: Callable[..., Sandbox]) -> Callable[..., Sandbox]:
    def make(scenario: str = "happy") -> Sandbox:
        return sandbox_factory(scenario=scenario)

    return make


def from_spec(spec: Any, sb: Sandbox, workdir: Path, **options: Any) -> tuple[Engine, Recorded]:
    options = {"timeouts": fast(), "poll_interval": 0.02, "resync": 2.0, **options}
    eng = Engine.from_spec(spec, kubeconfig=sb.kubeconfig_path, workdir=workdir, **options)
    rec = Recorded()
    eng.subscribe(rec)
    return eng, rec


class Background:
    """``engine.run()`` in a thread, so this one can cancel it."""

    def __init__(self, eng: Engine) -> None:
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(eng,), daemon=True)
        self.thread.start()

    def _run(self, eng: Engine) -> None:
        try:
            eng.run()
        except BaseException as err:  # handed to the test thread
            self.error = err

    def join(self) -> None:
        self.thread.join(GUARD)
        assert not self.thread.is_alive(), "cancel ignored: the run is still waiting"


def when(eng: Engine, predicate: Callable[[Any], bool]) -> threading.Event:
    """Set once the engine emitted an event matching ``predicate`` (no sleep-and-hope)."""
    seen = threading.Event()
    eng.subscribe(lambda event: seen.set() if predicate(event) else None)
    return seen


def assert_interrupted_in(phase: str, run: Background, rec: Recorded, workdir: Path) -> None:
    assert isinstance(run.error, Interrupted), run.error
    assert run.error.exit_code == 130 and phase in str(run.error)
    state = read_state(workdir)
    assert state is not None and state["phases"][phase]["status"] == "interrupted"
    last = rec.events[-1]
    assert isinstance(last, RunFinished)
    assert (last.outcome, last.phase, last.exit_code) == ("interrupted", phase, 130)
    assert len(rec.of(RunFinished)) == 1


# -- the provider comes with the plan -----------------------------------------------------


def test_from_spec_takes_the_provider_from_the_spec(start: Callable[..., Sandbox], spec_path: Path,
                                                    tmp_path: Path) -> None:
    sb = start()
    eng, rec = from_spec(spec_path, sb, tmp_path / "w")
    assert eng.provider.id == "dcs" and eng.plan.provider.id == "dcs"
    result = eng.run()
    assert result.complete and len(posts(sb)) == 1
    last = rec.events[-1]
    assert isinstance(last, RunFinished) and last.outcome == "complete" and last.complete
    assert last.exit_code == 0 and last.phases["installer"] == "done"


def test_a_plan_cannot_run_with_another_providers_hooks(spec_path: Path, tmp_path: Path) -> None:
    plan = build_plan(load_spec(spec_path))
    with pytest.raises(ProviderMismatch, match="built for provider 'dcs'") as err:
        Engine(plan, provider=load_provider("vsphere"), kubeconfig=tmp_path / "k",
               workdir=tmp_path)
    assert err.value.exit_code == 2 and "from_spec" in (err.value.hint or "")
    with pytest.raises(TypeError, match="provider"):
        Engine(plan, kubeconfig=tmp_path / "k", workdir=tmp_path)  # type: ignore[call-arg]
    assert not (tmp_path / ".acp-install").exists()


# -- cancel, in every wait ---------------------------------------------------------------------


def test_cancel_wakes_a_kubernetes_watch(start: Callable[..., Sandbox], spec_path: Path,
                                         tmp_path: Path) -> None:
    """Machines never provision; the watch's server timeout (resync) is an hour.

    The cancel comes once the engine reported the state the scenario then holds (KCP not
    Ready, every machine Pending): no watch event follows, so only the cancel shutting the
    watch's socket down can end the wait.
    """
    sb = start("machines-pending")
    eng, rec = from_spec(spec_path, sb, tmp_path, resync=HOUR,
                         timeouts=fast(control_plane=HOUR))
    replicas = next(o for o in eng.plan.manifest
                    if o["kind"] == "KubeadmControlPlane")["spec"]["replicas"]
    watching = when(eng, lambda e: isinstance(e, PhaseProgress) and e.phase == "control-plane"
                    and e.message.endswith(f"Ready=False; machines: {replicas} Pending"))
    run = Background(eng)
    assert watching.wait(GUARD * 4), "the engine never reported the control-plane wait"
    eng.cancel()
    run.join()
    assert_interrupted_in("control-plane", run, rec, tmp_path)
    # resumable: the next run skips what finished and re-checks the interrupted phase
    eng2, rec2 = from_spec(spec_path, sb, tmp_path, timeouts=fast(control_plane=1))
    with pytest.raises(WaitTimeout, match="Machines stay in Pending"):
        eng2.run()
    assert rec2.outcomes()["manifest"] == "skipped"


def test_cancel_wakes_an_installer_poll(start: Callable[..., Sandbox], spec_path: Path,
                                        tmp_path: Path) -> None:
    """The installer stalls; the next poll, and the stall threshold, are an hour away."""
    sb = start("installer-stall")
    eng, rec = from_spec(spec_path, sb, tmp_path, poll_interval=HOUR,
                         timeouts=fast(installer_stall=HOUR, monitor=HOUR))
    polling = when(eng, lambda e: isinstance(e, PhaseProgress) and e.phase == "monitor")
    run = Background(eng)
    assert polling.wait(GUARD * 4), "the engine never reported the installer progress"
    eng.cancel()
    run.join()
    assert_interrupted_in("monitor", run, rec, tmp_path)
    assert len(posts(sb)) == 1


def test_cancel_wakes_a_backoff_sleep() -> None:
    """Counted: after the cancel, the failing call is not made again."""
    cancel = Cancel()
    calls: list[int] = []

    def flaky() -> None:
        calls.append(1)
        raise ConnectionError("refused")

    def on_retry(err: BaseException, sleep: float) -> None:
        cancel.set()  # cancelled just as the backoff sleep begins

    with pytest.raises(Interrupted):
        retry_call(flaky, transient=lambda e: True, deadline=Deadline(HOUR, cancel=cancel),
                   on_retry=on_retry, max_wait=HOUR)
    assert calls == [1]


def test_cancel_token_runs_callbacks_once_and_at_once_when_already_set() -> None:
    cancel = Cancel()
    woken: list[str] = []
    with cancel.on_cancel(lambda: woken.append("a")):
        cancel.set()
        cancel.set()
    with cancel.on_cancel(lambda: woken.append("b")):
        pass
    assert woken == ["a", "b"]
    deadline = Deadline(HOUR, cancel=cancel)
    with pytest.raises(Interrupted):
        deadline.within(HOUR).sleep(HOUR)  # the child deadline shares the token


def test_a_cancel_before_the_run_is_honoured(start: Callable[..., Sandbox], spec_path: Path,
                                             tmp_path: Path) -> None:
    sb = start()
    eng, rec = from_spec(spec_path, sb, tmp_path)
    eng.cancel()
    with pytest.raises(Interrupted):
        eng.run()
    assert not posts(sb)
    last = rec.events[-1]
    assert isinstance(last, RunFinished) and last.outcome == "interrupted"


# -- a terminal event, always ------------------------------------------------------------------


def test_every_run_ends_with_one_run_finished(start: Callable[..., Sandbox], spec_path: Path,
                                              tmp_path: Path) -> None:
    sb = start("installer-fail")
    eng, rec = from_spec(spec_path, sb, tmp_path)
    assert not eng.run(until="manifest").complete
    stopped = rec.events[-1]
    assert isinstance(stopped, RunFinished) and stopped.outcome == "stopped"
    assert list(stopped.phases) == ["bootstrap", "push", "packages", "manifest"]

    eng, rec = from_spec(spec_path, sb, tmp_path)
    with pytest.raises(InstallerError):
        eng.run()
    failed = rec.events[-1]
    assert isinstance(failed, RunFinished) and len(rec.of(RunFinished)) == 1
    assert (failed.outcome, failed.phase, failed.exit_code, failed.error) == (
        "failed", "monitor", 11, "InstallerError")
    assert "installer.log" in failed.message

    # a failure before any phase (the work directory is locked) ends the same way
    from acp_install.engine.state import StateStore

    eng, rec = from_spec(spec_path, sb, tmp_path)
    with StateStore(tmp_path), pytest.raises(StateError):
        eng.run()
    (locked,) = rec.events
    assert isinstance(locked, RunFinished)
    assert (locked.outcome, locked.phase, locked.exit_code) == ("failed", "", 7)


# -- progress numbers ------------------------------------------------------------------------


def test_progress_events_carry_numbers(start: Callable[..., Sandbox], spec_path: Path,
                                       tmp_path: Path) -> None:
    sb = start()
    eng, rec = from_spec(spec_path, sb, tmp_path)
    assert eng.run().complete
    progress = rec.of(PhaseProgress)

    def counted(phase: str, unit: str) -> list[PhaseProgress]:
        return [e for e in progress if e.phase == phase and e.unit == unit]

    applied = counted("manifest", "objects")
    assert [e.ready for e in applied] == list(range(1, len(eng.plan.manifest) + 1))
    assert {e.total for e in applied} == {len(eng.plan.manifest)}
    assert applied[-1].percent == 100.0
    crds = counted("packages", "crds")
    assert crds and crds[-1].ready == crds[-1].total == len(eng.plan.wait_crds)
    replicas = counted("control-plane", "replicas")
    (kcp,) = [o for o in eng.plan.manifest if o["kind"] == "KubeadmControlPlane"]
    assert replicas[-1].ready == replicas[-1].total == kcp["spec"]["replicas"]
    installer = counted("monitor", "percent")
    percents = [e.percent for e in installer]
    assert percents == sorted(percents) and percents[-1] == 100  # type: ignore[type-var]
    for e in progress:
        assert e.percent is None or 0 <= e.percent <= 100


# -- secrets held in memory ------------------------------------------------------------------


def test_in_memory_secrets_are_used_and_never_shown(
        start: Callable[..., Sandbox], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CANARIES:
        monkeypatch.delenv(name, raising=False)  # neither env nor files: memory only
    spec = load_spec(write(tmp_path / "spec.yaml", example("dcs")))
    sb = start()
    eng, rec = from_spec(spec, sb, tmp_path / "w", secrets=dict(CANARIES))
    assert eng.run().complete
    (post,) = posts(sb)
    assert post.body["basic"]["password"] == b64(CANARIES["ACP_ADMIN_PASSWORD"])
    assert_no_canaries(rec.text(), CANARIES)
    assert_no_canaries(state_path(tmp_path / "w").read_text(), CANARIES)
    assert_no_canaries(repr(vars(eng)), CANARIES)


def test_a_resolver_callable_and_its_failures(start: Callable[..., Sandbox], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CANARIES:
        monkeypatch.delenv(name, raising=False)
    spec = load_spec(write(tmp_path / "spec.yaml", example("dcs")))
    sb = start()
    asked: list[str] = []

    def vault(ref: SecretRef) -> str | None:
        asked.append(str(ref.env))
        return CANARIES.get(str(ref.env))

    result = from_spec(spec, sb, tmp_path / "ok", secrets=vault)[0].run(until="manifest")
    assert [(p.name, p.outcome) for p in result.phases] == [
        ("bootstrap", "already-done"), ("push", "already-done"), ("packages", "done"),
        ("manifest", "done")]
    assert "DCS_AUTH_KEY" in asked

    def broken(ref: SecretRef) -> str | None:
        raise RuntimeError(f"vault sealed, last value {CANARIES['DCS_AUTH_KEY']}")

    eng, rec = from_spec(spec, sb, tmp_path / "bad", secrets=broken)
    with pytest.raises(SecretError, match="resolver failed for env") as err:
        eng.run()
    assert err.value.exit_code == 6
    assert_no_canaries(str(err.value) + rec.text(), CANARIES)
    assert not (state_path(tmp_path / "bad").exists()
                and read_state(tmp_path / "bad")["phases"])  # type: ignore[index]

    eng, rec = from_spec(spec, sb, tmp_path / "none", secrets={"DCS_AUTH_KEY": "x"})
    with pytest.raises(SecretError, match="ACP_ADMIN_PASSWORD") as err:
        eng.run()  # names it does not know are read from env: unset here
    final = rec.events[-1]
    assert isinstance(final, RunFinished) and final.exit_code == 6


def test_bad_secrets_argument_is_a_usage_error(spec_path: Path, tmp_path: Path) -> None:
    with pytest.raises(Exception, match=r"secrets\['X'\]") as err:
        Engine.from_spec(spec_path, kubeconfig=tmp_path / "k", secrets={"X": 42})  # type: ignore[dict-item]
    assert getattr(err.value, "exit_code", None) == 2


# -- the event schema --------------------------------------------------------------------------


def test_every_engine_event_validates_against_the_schema(start: Callable[..., Sandbox],
                                                         spec_path: Path, tmp_path: Path) -> None:
    validator = jsonschema.Draft202012Validator(event_schema())
    validator.check_schema(event_schema())
    sb = start("installer-5xx")  # warnings too
    eng, rec = from_spec(spec_path, sb, tmp_path)
    assert eng.run().complete
    lines = [json.loads(json.dumps(to_dict(e))) for e in rec.events]
    assert {line["event"] for line in lines} == {"phase-started", "phase-progress",
                                                 "phase-finished", "warning", "run-finished"}
    for line in lines:
        validator.validate(line)
    # and it is strict: a wrong type or an unknown event does not pass
    assert not validator.is_valid({**lines[0], "index": "1"})
    assert not validator.is_valid({"event": "phase-exploded"})


def test_every_line_of_the_cli_json_stream_validates(capsys: pytest.CaptureFixture[str],
                                                     canaries: dict[str, str]) -> None:
    from acp_install.cli.install_cmds import stream_schema
    from acp_install.cli.main import main

    assert main(["schema", "--events"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == stream_schema()
    validator = jsonschema.Draft202012Validator(printed)
    seen: set[str] = set()
    for scenario, code in (("happy", 0), ("installer-fail", 11)):
        assert main(["install", "--sandbox", "--scenario", scenario, "-o", "json"]) == code
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        for line in lines:
            validator.validate(line)
        seen |= {line["event"] for line in lines}
        assert lines[-1]["event"] == ("result" if code == 0 else "error")
        assert lines[-2]["event"] == "run-finished"
    assert seen == {"finding", "phase-started", "phase-progress", "phase-finished",
                    "run-finished", "result", "error"}


# -- SIGTERM ends a CLI run like SIGINT ------------------------------------------------------


def _cli(spec: Path, sb: Sandbox, workdir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "acp_install.cli.main", "install", "-f", str(spec),
            "--kubeconfig", str(sb.kubeconfig_path), "--workdir", str(workdir), "-o", "json",
            "--timeout-scale", "1", "--poll-interval", "0.05", *extra]


def test_sigterm_interrupts_a_cli_run_and_the_next_run_resumes(
        start: Callable[..., Sandbox], spec_path: Path, tmp_path: Path,
        canaries: dict[str, str]) -> None:
    """Default deadlines (an hour and more): only the signal can end the stalled monitor."""
    sb = start("installer-stall")
    env = {**os.environ, **canaries}
    proc = subprocess.Popen(_cli(spec_path, sb, tmp_path / "w"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(ln) for ln in proc.stdout or ()],
                              daemon=True)
    reader.start()
    seen: list[dict[str, Any]] = []
    try:
        while not (seen and seen[-1]["event"] == "phase-progress"
                   and seen[-1]["phase"] == "monitor"):
            seen.append(json.loads(lines.get(timeout=GUARD * 4)))
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=GUARD)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(GUARD)
    stderr = proc.stderr.read() if proc.stderr else ""
    while not lines.empty():
        seen.append(json.loads(lines.get()))
    assert rc == 130, stderr
    finished = next(e for e in seen if e["event"] == "run-finished")
    assert (finished["outcome"], finished["phase"], finished["exit_code"]) == (
        "interrupted", "monitor", 130)
    assert seen[-1]["event"] == "error" and seen[-1]["exit_code"] == 130
    state = read_state(tmp_path / "w")
    assert state is not None and state["phases"]["monitor"]["status"] == "interrupted"
    assert state["phases"]["installer"]["status"] == "finished"
    assert_no_canaries(json.dumps(seen) + stderr, canaries)

    # the next run resumes: finished phases skipped, the request not sent again, the
    # interrupted phase re-checked (and, the installer still stalled, it stalls)
    again = subprocess.run(_cli(spec_path, sb, tmp_path / "w", "--timeout", "monitor=1"),
                           capture_output=True, text=True, env=env, timeout=GUARD * 4)
    assert again.returncode == 12, again.stderr
    events = [json.loads(line) for line in again.stdout.splitlines()]
    outcomes = {e["phase"]: e["outcome"] for e in events if e["event"] == "phase-finished"}
    assert outcomes == {p: "skipped" for p in ("bootstrap", "push", "packages", "manifest", "control-plane",
                                               "extra-resources", "installer")}
    assert any(e["event"] == "phase-started" and e["phase"] == "monitor" for e in events)
    assert len(posts(sb)) == 1
