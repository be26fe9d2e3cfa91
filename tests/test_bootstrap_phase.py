"""Step 2 on the sandbox: the bootstrap phase with a fixture Core Package (a test double).

The fixture's ``setup.sh`` prints a few lines and copies a running sandbox's kubeconfig to
where the real one writes minialauda's (here a temporary path: ``corePackage.kubeconfig``),
so the rest of the run reaches the sandbox through the kubeconfig setup.sh wrote.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from acp_install import build_plan, load_spec
from acp_install.engine import Engine, PhaseFinished, PhaseProgress, Timeouts, read_state, state_path
from acp_install.errors import BootstrapError, UsageError
from acp_install_sandbox import Sandbox, make_core_package, make_pack
from acp_install_sandbox.corepackage import RUNS_LOG

from .specs import example, write


def _setup(tmp_path: Path, sb: Sandbox, **core: Any) -> tuple[dict[str, Any], Path]:
    """A spec naming a fixture Core Package; the kubeconfig path setup.sh writes."""
    kubeconfig = tmp_path / "var" / "cpaas" / "data" / "alauda.kubeconfig"
    fail = core.pop("fail", None)
    archs = core.pop("archs", ("amd64", "arm64"))
    tgz = make_core_package(tmp_path / "core-package.tgz", kubeconfig_from=sb.kubeconfig_path,
                            kubeconfig_to=kubeconfig, fail=fail, archs=archs)
    data = example("dcs")
    data["corePackage"] = {"path": str(tgz), "directory": str(tmp_path / "cpaas-install"),
                           "kubeconfig": str(kubeconfig), **core}
    return data, kubeconfig


def _engine(tmp_path: Path, data: dict[str, Any], **kw: Any) -> tuple[Engine, list[Any]]:
    loaded = load_spec(write(tmp_path / "spec.yaml", data))
    eng = Engine(build_plan(loaded), provider=loaded.provider, kubeconfig=kw.pop("kubeconfig", None),
                 workdir=tmp_path / "work", poll_interval=0.1, resync=2.0,
                 timeouts=Timeouts(scale=0.05), **kw)
    events: list[Any] = []
    eng.subscribe(events.append)
    return eng, events


def _outcomes(events: list[Any]) -> dict[str, str]:
    return {e.phase: e.outcome for e in events if isinstance(e, PhaseFinished)}


def _runs(tmp_path: Path) -> int:
    log = tmp_path / "cpaas-install" / RUNS_LOG
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_bootstrap_runs_setup_sh_streams_its_output_and_continues(
        sandbox_factory: Callable[..., Sandbox], tmp_path: Path, canaries: dict[str, str]) -> None:
    sb = sandbox_factory(speed=50)
    data, kubeconfig = _setup(tmp_path, sb)
    eng, events = _engine(tmp_path, data)
    eng.run(until="packages")

    assert _outcomes(events)["bootstrap"] == "done" and _outcomes(events)["packages"] == "done"
    assert _runs(tmp_path) == 1 and kubeconfig.is_file()
    said = [e.message for e in events if isinstance(e, PhaseProgress) and e.phase == "bootstrap"]
    streamed = [m for m in said if m.startswith("setup.sh: ")]
    assert streamed == ["setup.sh: setup: creating the KIND cluster minialauda (fixture)",
                        "setup.sh: setup: starting the embedded registry and the installer (fixture)",
                        f"setup.sh: setup: kubeconfig written to {kubeconfig}"]
    assert any(m.startswith("minialauda answers at https://") for m in said)
    # the rest of the run went to the cluster setup.sh's kubeconfig names
    assert list(sb.recorder.writes_of("AppRelease", "cluster-api-provider-dcs"))

    # resumed: bootstrap finished earlier, skipped; setup.sh is not run again
    eng, events = _engine(tmp_path, data)
    eng.run(until="manifest")
    assert _outcomes(events)["bootstrap"] == "skipped" and _runs(tmp_path) == 1


def test_bootstrap_interrupted_after_setup_is_rechecked_not_rerun(
        sandbox_factory: Callable[..., Sandbox], tmp_path: Path, canaries: dict[str, str]) -> None:
    sb = sandbox_factory(speed=50)
    data, _kubeconfig = _setup(tmp_path, sb)
    _engine(tmp_path, data)[0].run(until="bootstrap")
    path = state_path(tmp_path / "work")
    state = json.loads(path.read_text())
    state["phases"]["bootstrap"]["status"] = "running"  # as if killed before the checkpoint
    path.write_text(json.dumps(state))

    eng, events = _engine(tmp_path, data)
    eng.run(until="push")
    assert _outcomes(events)["bootstrap"] == "already-done"
    assert _runs(tmp_path) == 1
    assert any("minialauda already answers" in e.message for e in events
               if isinstance(e, PhaseProgress))


def test_bootstrap_is_skipped_and_says_so_when_minialauda_answers(
        sandbox_factory: Callable[..., Sandbox], tmp_path: Path, canaries: dict[str, str]) -> None:
    sb = sandbox_factory(speed=50)
    data, kubeconfig = _setup(tmp_path, sb)
    kubeconfig.parent.mkdir(parents=True)
    shutil.copy(sb.kubeconfig_path, kubeconfig)  # minialauda is up already
    eng, events = _engine(tmp_path, data)
    eng.run(until="bootstrap")
    assert _outcomes(events)["bootstrap"] == "already-done"
    assert _runs(tmp_path) == 0 and not (tmp_path / "cpaas-install").exists()
    (line,) = [e.message for e in events if isinstance(e, PhaseProgress) and e.phase == "bootstrap"]
    assert line == (f"minialauda already answers at {sb.server_url} (kubeconfig {kubeconfig}): "
                    "setup.sh is not run again")


def test_a_given_kubeconfig_means_no_bootstrap(
        sandbox_factory: Callable[..., Sandbox], tmp_path: Path, canaries: dict[str, str]) -> None:
    sb = sandbox_factory(speed=50)
    data, kubeconfig = _setup(tmp_path, sb)
    eng, events = _engine(tmp_path, data, kubeconfig=sb.kubeconfig_path)
    eng.run(until="bootstrap")
    assert _outcomes(events)["bootstrap"] == "already-done"
    assert _runs(tmp_path) == 0 and not kubeconfig.exists()


def test_a_failing_setup_sh_fails_bootstrap_in_its_own_words_then_resumes(
        sandbox_factory: Callable[..., Sandbox], tmp_path: Path, canaries: dict[str, str]) -> None:
    sb = sandbox_factory(speed=50)
    data, kubeconfig = _setup(tmp_path, sb, fail=(3, "error: cannot connect to the container engine"))
    eng, events = _engine(tmp_path, data)
    with pytest.raises(BootstrapError) as err:
        eng.run()
    assert err.value.exit_code == 15
    assert "setup.sh failed (exit 3); it said:" in err.value.message
    assert "| error: cannot connect to the container engine" in err.value.message
    state = read_state(tmp_path / "work")
    assert state is not None and state["phases"]["bootstrap"]["status"] == "failed"
    assert "push" not in state["phases"] and not kubeconfig.exists()
    assert not list(sb.recorder.writes_of("AppRelease", "cluster-api-provider-dcs"))

    # a good Core Package in its place: unpacked again (another file), setup.sh runs, on it goes
    data, kubeconfig = _setup(tmp_path, sb)
    eng, events = _engine(tmp_path, data)
    eng.run(until="push")
    assert _outcomes(events)["bootstrap"] == "done" and _runs(tmp_path) == 2


def test_the_core_package_must_carry_this_hosts_architecture(
        sandbox_factory: Callable[..., Sandbox], tmp_path: Path, canaries: dict[str, str]) -> None:
    sb = sandbox_factory(speed=50)
    data, _kubeconfig = _setup(tmp_path, sb, arch="arm64", archs=("amd64",))
    eng, _events = _engine(tmp_path, data)
    with pytest.raises(BootstrapError) as err:
        eng.run(until="bootstrap")
    assert "has no build for this host's architecture arm64" in err.value.message
    assert "holds: amd64" in err.value.message
    assert _runs(tmp_path) == 0


def test_bootstrap_then_push_with_the_core_packages_packtool_then_install(
        sandbox_factory: Callable[..., Sandbox], tmp_path: Path, canaries: dict[str, str]) -> None:
    sb = sandbox_factory(registry="empty", speed=50)
    data, _kubeconfig = _setup(tmp_path, sb, arch="arm64")
    for kind in ("kubeadm", "provider"):
        data["packages"][kind]["path"] = str(tmp_path / "packs" / f"{kind}.tgz")
    eng, events = _engine(tmp_path, data)
    for pkg in eng.plan.packages:
        make_pack(pkg.tarball, [(pkg.chart, pkg.version)])
    assert eng.run().complete
    outcomes = _outcomes(events)
    assert outcomes["bootstrap"] == "done" and outcomes["push"] == "done"
    packtool = tmp_path / "cpaas-install" / "installer" / "res" / "arm64" / "packtool"
    assert any(e.message.startswith(f"packtool pack push -r {sb.registry_address} -c ")
               for e in events if isinstance(e, PhaseProgress))
    assert packtool.is_file()
    assert sorted(sb.registry.pushed) == sorted((p.chart, p.version) for p in eng.plan.packages)


def test_no_kubeconfig_and_no_core_package_is_a_usage_error(tmp_path: Path,
                                                            canaries: dict[str, str]) -> None:
    loaded = load_spec(write(tmp_path / "spec.yaml", example("dcs")))
    with pytest.raises(UsageError, match="no minialauda kubeconfig and no Core Package"):
        Engine(build_plan(loaded), provider=loaded.provider, kubeconfig=None)


def test_cli_core_package_without_kubeconfig_runs_bootstrap(
        sandbox_factory: Callable[..., Sandbox], tmp_path: Path, canaries: dict[str, str],
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from acp_install.cli.main import main

    sb = sandbox_factory(speed=50)
    data, kubeconfig = _setup(tmp_path, sb)
    tgz = data["corePackage"].pop("path")
    spec = write(tmp_path / "spec.yaml", data)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    rc = main(["install", "-f", str(spec), "--core-package", tgz, "--until", "push",
               "--workdir", str(tmp_path / "w"), "--timeout-scale", "0.05", "-o", "json",
               "--accept-example-values"])
    assert rc == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {"event": "phase-finished", "phase": "bootstrap", "outcome": "done"}.items() <= \
        next(e for e in events if e.get("phase") == "bootstrap"
             and e["event"] == "phase-finished").items()
    assert kubeconfig.is_file() and _runs(tmp_path) == 1


def test_a_secret_setup_sh_prints_is_redacted_everywhere(
        sandbox_factory: Callable[..., Sandbox], tmp_path: Path, canaries: dict[str, str]) -> None:
    from acp_install.engine import to_dict

    secret = canaries["ACP_ADMIN_PASSWORD"]
    sb = sandbox_factory(speed=50)
    data, _kubeconfig = _setup(tmp_path, sb, fail=(2, f"error: login admin/{secret} refused"))
    eng, events = _engine(tmp_path, data)
    with pytest.raises(BootstrapError) as err:
        eng.run()
    assert "<redacted>" in str(err.value)
    text = str(err.value) + json.dumps([to_dict(e) for e in events]) \
        + state_path(tmp_path / "work").read_text()
    assert secret not in text


def test_a_cancel_stops_setup_sh_and_its_children(
        sandbox_factory: Callable[..., Sandbox], tmp_path: Path, canaries: dict[str, str]) -> None:
    """setup.sh that would run for an hour: the cancel (sent when its first line arrives) ends
    the run with Interrupted and no process of it is left; the phase stays resumable."""
    import io
    import tarfile
    import threading

    from acp_install.errors import Interrupted

    sb = sandbox_factory(speed=50)
    data, _kubeconfig = _setup(tmp_path, sb)
    pidfile = tmp_path / "setup.pids"
    script = (f'#!/bin/sh\nsleep 3600 &\necho "$$ $!" > {pidfile}\n'
              'echo "setup: waiting for the container engine"\nwait\n').encode()
    with tarfile.open(data["corePackage"]["path"], "w:gz") as tar:
        info = tarfile.TarInfo("installer/setup.sh")
        info.size, info.mode = len(script), 0o755
        tar.addfile(info, io.BytesIO(script))
        info = tarfile.TarInfo("installer/res/amd64/packtool")
        info.size, info.mode = 0, 0o755
        tar.addfile(info, io.BytesIO(b""))
        info = tarfile.TarInfo("installer/res/arm64/packtool")
        info.size, info.mode = 0, 0o755
        tar.addfile(info, io.BytesIO(b""))
    eng, _events = _engine(tmp_path, data)

    def on_event(event: Any) -> None:
        if isinstance(event, PhaseProgress) and event.message.startswith("setup.sh: "):
            threading.Thread(target=eng.cancel, daemon=True).start()

    eng.subscribe(on_event)
    with pytest.raises(Interrupted):
        eng.run()
    def alive(pid: int) -> bool:  # a zombie (killed, awaiting its reaper) is not alive
        try:
            text = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            return False
        return text.rsplit(")", 1)[1].split()[0] not in ("Z", "X")

    pids = [int(p) for p in pidfile.read_text().split()]
    # setup.sh and its sleep: signalled before run() returned; the kernel ends them at once,
    # observed here (the loop is a hang guard, not a timing assertion)
    for _ in range(1000):
        if not any(alive(pid) for pid in pids):
            break
        threading.Event().wait(0.01)
    assert not [pid for pid in pids if alive(pid)], "a process of setup.sh is still running"
    state = read_state(tmp_path / "work")
    assert state is not None and state["phases"]["bootstrap"]["status"] == "interrupted"
