"""What a person sees of a run: the live view on a terminal, plain timestamped lines otherwise.

The terminal cases run the real CLI under a pseudo-terminal against a sandbox and
assert on the captured screen (the phase list, colour codes); the piped cases on the lines.
Nothing here measures time: timestamps are checked for their shape, not their value.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from acp_install.cli import view
from acp_install.clients.installer import Progress
from acp_install.engine import EngineWarning, PhaseFinished, PhaseProgress, PhaseStarted, RunFinished
from acp_install_sandbox import Sandbox

from specs import example, write

ESC = "\x1b["
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: ``2026-12-03T10:01:02+00:00 [    1.2s] ``: ISO 8601 wall clock with offset, then elapsed
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d \[ *\d+\.\ds\] ")
PHASES = ("bootstrap", "push", "packages", "manifest", "control-plane", "extra-resources", "installer", "monitor",
          "verify")


def _env(**extra: str) -> dict[str, str]:
    # the spec's secrets unset: the sandbox run supplies demo values in memory
    env = {k: v for k, v in os.environ.items()
           if k not in ("NO_COLOR", "FORCE_COLOR", "TERM", "COLUMNS", "ACP_ADMIN_PASSWORD", "DCS_AUTH_KEY")}
    env.update(**extra)
    return env


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "acp_install.cli.main", *args]


def run_in_pty(argv: list[str], env: dict[str, str], cwd: Path,
               on_screen: Callable[[str], None] | None = None) -> tuple[int, str]:
    """Run ``argv`` with a pseudo-terminal as stdout/stderr; everything it wrote, and its code.
    ``on_screen`` sees the latest few kilobytes written, without escape codes, after each read."""
    import pty

    master, slave = pty.openpty()
    os.set_blocking(master, True)
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env,
                            cwd=cwd, close_fds=True)
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed its side (it exited)
            break
        if not data:
            break
        chunks.append(data)
        if on_screen is not None:
            on_screen(ANSI.sub("", b"".join(chunks[-8:]).decode("utf-8", "replace")))
    os.close(master)
    return proc.wait(timeout=120), b"".join(chunks).decode("utf-8", "replace")


def test_terminal_shows_the_live_phase_list_in_colour(tmp_path: Path, sandbox_factory: Callable[..., Sandbox],
                                                      canaries: dict[str, str]) -> None:
    # The Machines stop at Provisioned, so the control plane is not Ready when its phase starts
    # and the phase waits whatever the machine's load (at the suite's sandbox speed a busy
    # machine found it "already done"); they move on once the screen shows that wait.
    sb = sandbox_factory()
    hold = sb.hold("Machine", None, "cpaas-system", at=("status.phase", "Provisioned"))
    drawn = threading.Event()

    def on_screen(text: str) -> None:
        if not drawn.is_set() and "KubeadmControlPlane global-kcp" in text:
            drawn.set()
            sb.release(hold)

    # a view that never draws the wait must fail the asserts below, not hang the suite
    unstick = threading.Timer(60, sb.release, args=(hold,))
    unstick.start()
    spec = write(tmp_path / "spec.yaml", example("dcs"))
    try:
        rc, screen = run_in_pty(_cli("install", "-f", str(spec), "--kubeconfig", str(sb.kubeconfig_path),
                                     "--workdir", str(tmp_path / "w"), "--poll-interval", "0.2"),
                                _env(TERM="xterm-256color", COLUMNS="120", **canaries), tmp_path, on_screen)
    finally:
        unstick.cancel()
    assert rc == 0, screen
    assert drawn.is_set(), "the control-plane wait was never drawn"
    assert ESC in screen  # colour and cursor codes: a live view, not plain lines
    # the final drawing follows the last line erase: every phase, done, with its time
    last = ANSI.sub("", screen.rsplit("\x1b[2K", 1)[-1]).replace("\r", "")
    for phase in PHASES:
        assert re.search(rf"^✓ +{re.escape(phase)} +(already )?done.* \d+\.\ds$", last, re.M), (phase, last)
    assert "install complete" in last
    assert re.search(r"^✓ +control-plane +done", last, re.M), last  # it waited (the hold)
    # while it ran, the current wait was drawn under the running phase
    assert "KubeadmControlPlane global-kcp" in ANSI.sub("", screen)
    assert not STAMP.search(screen.replace("\r", "")), "plain lines on a terminal"


def test_no_color_on_a_terminal_gives_plain_lines(tmp_path: Path) -> None:
    rc, screen = run_in_pty(_cli("install", "--sandbox", "--provider", "dcs", "--until", "manifest",
                                 "--workdir", str(tmp_path / "w")),
                            _env(TERM="xterm-256color", NO_COLOR="1"), tmp_path)
    assert rc == 0, screen
    assert ESC not in screen
    lines = [ln for ln in screen.replace("\r", "").splitlines() if STAMP.match(ln)]
    assert any("==> bootstrap (1/" in ln for ln in lines)
    assert any("==> packages (3/" in ln for ln in lines)
    assert any("ok  manifest: done" in ln for ln in lines)


def test_no_color_flag_on_a_terminal_gives_plain_lines(tmp_path: Path) -> None:
    rc, screen = run_in_pty(_cli("install", "--sandbox", "--provider", "dcs", "--until", "packages",
                                 "--no-color", "--workdir", str(tmp_path / "w")),
                            _env(TERM="xterm-256color"), tmp_path)
    assert rc == 0, screen
    assert ESC not in screen and "ok  packages: done" in screen


def test_piped_output_is_plain_timestamped_lines(tmp_path: Path) -> None:
    proc = subprocess.run(_cli("install", "--sandbox", "--provider", "dcs", "--workdir", str(tmp_path / "w")),
                          env=_env(TERM="xterm-256color"), cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert ESC not in proc.stdout + proc.stderr
    events = [ln for ln in proc.stdout.splitlines() if STAMP.match(ln)]
    for phase in PHASES:
        assert any(f"==> {phase} (" in ln for ln in events), phase
        assert any(f"ok  {phase}: " in ln for ln in events), phase
    installer = [ln for ln in events if "installer: Running" in ln]
    assert installer
    for ln in installer:  # each fact once: the stage is not repeated as type, phase and message
        stage = ln.split("%: ", 1)[1].removesuffix(" in progress")
        assert ln.count(stage) == 1, ln
        assert "type=" not in ln and "phase=" not in ln


def test_quiet_prints_only_the_summary(tmp_path: Path) -> None:
    proc = subprocess.run(_cli("install", "--sandbox", "--provider", "dcs", "--until", "manifest", "-q",
                               "--workdir", str(tmp_path / "w")),
                          env=_env(), cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert not [ln for ln in proc.stdout.splitlines() if STAMP.match(ln)]
    assert proc.stdout.startswith("install stopped")  # nor the sandbox's address, nor the demo secrets


# -- the view layer, event by event -----------------------------------------------------------


def test_installer_summary_says_each_fact_once() -> None:
    p = Progress("Running", "Infrastructure", "Infrastructure provisioning",
                 "Infrastructure provisioning in progress", 0.0)
    assert p.summary() == "Running 0%: Infrastructure provisioning in progress"
    failed = Progress("Failed", "Infrastructure", "Infrastructure provisioning", "quota exceeded", 10.0)
    assert failed.summary() == "Failed 10%: Infrastructure provisioning: quota exceeded"
    assert Progress("Running", "ControlPlane").summary() == "Running: ControlPlane"
    assert Progress("NotStarted").summary() == "NotStarted"


def test_plain_view_lines_and_verbosity() -> None:
    t0 = 1_800_000_000.0
    events = [PhaseStarted("manifest", 2, 7, time=t0 + 1),
              PhaseProgress("manifest", "created Cluster/global", ready=1, total=2, unit="objects", time=t0 + 2),
              PhaseProgress("manifest", "unchanged Secret/global-secret", ready=2, total=2, unit="objects",
                            time=t0 + 2),
              EngineWarning("API server busy, retrying", "manifest", time=t0 + 3),
              EngineWarning("API server busy, retrying", "manifest", time=t0 + 4),
              PhaseFinished("manifest", "done", 3.0, time=t0 + 4),
              RunFinished("stopped", time=t0 + 5)]

    def shown(verbosity: int) -> tuple[list[str], view.PlainView]:
        out = io.StringIO()
        v = view.PlainView(out, verbosity, start=t0)
        for e in events:
            v(e)
        return out.getvalue().splitlines(), v

    lines, normal = shown(view.NORMAL)
    assert all(STAMP.match(ln) for ln in lines)
    assert lines[0].endswith("[    1.0s] ==> manifest (2/7): apply the global manifest")
    assert lines[1].endswith("    manifest: created Cluster/global (1/2 objects)")
    assert not any("unchanged" in ln for ln in lines)  # a detail: -v only
    assert sum("retrying" in ln for ln in lines) == 1  # the same warning once
    assert lines[-1].endswith("ok  manifest: done in 3.0s")
    assert normal.closing() == "1 warning(s) during the run (1 repeat(s) not shown; -v shows them)"
    verbose, _ = shown(view.VERBOSE)
    assert any("unchanged Secret/global-secret" in ln for ln in verbose)
    assert sum("retrying" in ln for ln in verbose) == 2
    once = view.PlainView(io.StringIO(), start=t0).format(
        view.Fact("info", "installer", "installer found at 127.0.0.1:8080 (cpaas-installer pod)", t0))
    assert once.endswith("]     installer found at 127.0.0.1:8080 (cpaas-installer pod)")  # the phase said once
    quiet, _ = shown(view.QUIET)
    assert [ln.split("] ", 1)[1] for ln in quiet] == ["!!  manifest: API server busy, retrying"]


def test_an_event_type_added_later_is_shown_by_its_message() -> None:
    import attrs

    @attrs.frozen
    class Heartbeat:
        message: str
        phase: str = "monitor"
        time: float = 1_800_000_000.0

    fact = view.describe(Heartbeat("still waiting for the installer (5 min)"))  # type: ignore[arg-type]
    assert fact == view.Fact("info", "monitor", "still waiting for the installer (5 min)", 1_800_000_000.0)


def test_events_read_back_from_json_render_the_same() -> None:
    """A report built later from the ``-o json`` lines words them like the live run."""
    from acp_install.engine import to_dict

    event = PhaseProgress("monitor", "installer: Running 50%: Network add-ons", percent=50.0, unit="percent")
    back = view.event_from_dict(to_dict(event))
    assert back == event
    assert view.describe(back) == view.describe(event)
    assert view.event_from_dict({"event": "result"}) is None


def test_plain_is_chosen_when_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert view.plain_wanted(io.StringIO())

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert not view.plain_wanted(Tty())
    assert view.plain_wanted(Tty(), no_color=True)
    monkeypatch.setenv("NO_COLOR", "1")
    assert view.plain_wanted(Tty())
    monkeypatch.setenv("NO_COLOR", "")  # https://no-color.org: set and non-empty
    assert not view.plain_wanted(Tty())


# -- spec warnings: once across commands --------------------------------------------------------


def test_a_spec_warning_is_shown_once_across_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      canaries: dict[str, str]) -> None:
    from acp_install.cli.main import main

    from specs import example, write

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    spec = write(tmp_path / "s.yaml", example("dcs"))
    assert main(["validate", "-f", str(spec)]) == 0
    first = capsys.readouterr().err
    shown = [ln for ln in first.splitlines() if ln.startswith("  warning: ")]
    assert shown, "the example spec has warnings to show"
    assert main(["render", "-f", str(spec), "--output-dir", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert "  warning: " not in err
    assert f"{len(shown)} warning(s) already shown for {spec}" in err and f"validate -f {spec}" in err
    assert main(["validate", "-f", str(spec)]) == 0  # validate always shows every one
    assert capsys.readouterr().err == first
    (tmp_path / "state" / "acp-install" / "shown-warnings.json").write_text("{not json")
    assert main(["render", "-f", str(spec), "--output-dir", str(tmp_path / "o2")]) == 0
    assert capsys.readouterr().err.count("  warning: ") == len(shown)  # a damaged memory: shown again
    for value in canaries.values():
        assert value not in (tmp_path / "state" / "acp-install" / "shown-warnings.json").read_text()


def test_the_built_in_example_says_so_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    proc = subprocess.run(_cli("install", "--sandbox", "--provider", "dcs", "--until", "packages",
                               "--workdir", str(tmp_path / "w")),
                          env=_env(XDG_STATE_HOME=str(tmp_path / "state")), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("built-in example") == 1
    warnings = [ln for ln in proc.stderr.splitlines() if ln.startswith("  warning: ")]
    assert warnings and not any("built-in example" in ln for ln in warnings)


def test_live_view_rows_current_wait_heartbeat_and_warnings() -> None:
    """The live region, drawn from events alone (no terminal timing involved)."""
    from rich.console import Console

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    live = view.LiveView(Tty(), phases=["manifest", "control-plane", "installer"])
    t0 = 1_800_000_000.0
    for event in (PhaseStarted("manifest", 1, 3, time=t0), PhaseFinished("manifest", "done", 2.0, time=t0 + 2),
                  PhaseStarted("control-plane", 2, 3, time=t0 + 2),
                  PhaseProgress("control-plane", "KubeadmControlPlane global-kcp: 1/3 ready; machines: 2 "
                                "Provisioned, 1 Running", ready=1, total=3, unit="replicas", time=t0 + 3),
                  PhaseProgress("control-plane", "waiting 4m30s: KubeadmControlPlane global-kcp Ready",
                                270.0, time=t0 + 270),
                  EngineWarning("API server busy, retrying", "control-plane", time=t0 + 271),
                  EngineWarning("API server busy, retrying", "control-plane", time=t0 + 272)):
        live(event)
    screen = io.StringIO()
    Console(file=screen, width=120, color_system=None).print(live.__rich__())
    live.close()
    text = screen.getvalue()
    assert re.search(r"✓ +manifest +done +2\.0s", text)
    assert re.search(r"▶ +control-plane +wait", text)
    assert re.search(r"· +installer", text)
    # the heartbeat does not replace the wait's numbers: machines by phase and the bar stay
    assert "machines: 2 Provisioned, 1 Running" in text and "━" in text
    assert "waiting 4m30s" in text
    assert "1 warning(s) during the run (1 repeat(s) not shown" in text
    assert live.shown_warnings == [view.Fact("warning", "control-plane", "API server busy, retrying", t0 + 271)]
