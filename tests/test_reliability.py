"""Reliability: one installer POST whatever happens around it (kills, concurrency, guards).

In-process engines against fast sandboxes; what reached the installer is read back from the
sandbox recorder, never inferred from timing. Every run carries the canary secrets, and every
byte it produced (events, state, errors) is scanned for them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_engine import Recorded, assert_no_canaries, engine, posts

from acp_install.cli.main import main
from acp_install.engine import PHASE_NAMES, read_state, state_path
from acp_install.engine.guard import GUARD_NAME, GUARD_NAMESPACE
from acp_install.errors import StateError
from acp_install.plan import InstallPlan, build_plan
from acp_install.spec.load import LoadedSpec, load_spec
from acp_install_sandbox import Sandbox

from specs import example, write


@pytest.fixture
def dcs_spec(tmp_path: Path, canaries: dict[str, str]) -> LoadedSpec:
    return load_spec(write(tmp_path / "spec.yaml", example("dcs")))


@pytest.fixture
def plan(dcs_spec: LoadedSpec) -> InstallPlan:
    return build_plan(dcs_spec)


@pytest.fixture
def sb(sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    return sandbox_factory(scenario="happy")


def _state_text(work: Path) -> str:
    return state_path(work).read_text()


def _guard(sb: Sandbox) -> Any:
    from acp_install_sandbox.kinds import BUILTIN

    cms = next(rt for rt in BUILTIN if rt.plural == "configmaps")
    return sb.store.try_get(cms, GUARD_NAMESPACE, GUARD_NAME)


def test_a_kill_between_post_and_state_write_is_confirmed_and_recorded_sent(
        sb: Sandbox, plan: InstallPlan, dcs_spec: LoadedSpec, tmp_path: Path,
        canaries: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    """Before: the resumed run skipped the POST (the installer had it) but left
    ``installer: sending``, and ``status`` printed "sending (unconfirmed)" next to "complete"."""
    work = tmp_path / "work"
    first, _ = engine(plan, sb, work, dcs_spec)
    assert first.run(until="installer").complete is False
    assert len(posts(sb)) == 1
    # what a SIGKILL right after the POST leaves behind: the intent, no answer, phase running
    data = json.loads(_state_text(work))
    data["installer"].update(sending=True)
    data["installer"].pop("sent", None)
    data["phases"]["installer"] = {"status": "running", "started": 1.0}
    state_path(work).write_text(json.dumps(data))
    again, rec = engine(plan, sb, work, dcs_spec)
    assert again.run().complete
    assert len(posts(sb)) == 1  # not sent again
    note = read_state(work)["installer"]  # type: ignore[index]
    assert note["sent"] is True and note["sending"] is False and note["confirmed"] == "progress"
    assert "recorded as sent" in rec.text()
    assert main(["status", "--workdir", str(work)]) == 0
    out = capsys.readouterr().out
    assert "installer request: sent" in out and "unconfirmed" not in out and "install complete" in out
    assert_no_canaries(rec.text() + _state_text(work) + out, canaries)


def test_a_guard_held_by_another_work_directory_refuses_the_post(
        sb: Sandbox, plan: InstallPlan, dcs_spec: LoadedSpec, tmp_path: Path,
        canaries: dict[str, str]) -> None:
    from acp_install_sandbox.kinds import BUILTIN

    cms = next(rt for rt in BUILTIN if rt.plural == "configmaps")
    sb.api.create(cms, {"metadata": {"name": GUARD_NAME, "namespace": GUARD_NAMESPACE},
                        "data": {"holder": "someone-else", "workdir": "/srv/other-install",
                                 "host": "jump-2", "pid": "4242", "since": "2026-01-01T00:00:00Z"}})
    eng, rec = engine(plan, sb, tmp_path / "work", dcs_spec)
    with pytest.raises(StateError) as err:
        eng.run()
    text = str(err.value)
    assert "/srv/other-install" in text and "jump-2" in text and "pid 4242" in text
    assert f"delete configmap {GUARD_NAME}" in text
    assert posts(sb) == []
    state = read_state(tmp_path / "work")
    assert state is not None and state["phases"]["installer"]["status"] == "failed"
    # the holder is gone: removing its guard lets this run resume and send, once
    sb.api.delete(cms, GUARD_NAMESPACE, GUARD_NAME)
    again, rec2 = engine(plan, sb, tmp_path / "work", dcs_spec)
    assert again.run().complete
    assert len(posts(sb)) == 1 and _guard(sb) is None  # released when done
    assert_no_canaries(rec.text() + rec2.text() + text, canaries)


def test_a_guard_left_by_a_crash_of_this_work_directory_is_its_own(
        sb: Sandbox, plan: InstallPlan, dcs_spec: LoadedSpec, tmp_path: Path) -> None:
    from acp_install.engine.guard import _guard as guard_object
    from acp_install.engine.guard import holder_id
    from acp_install.engine.state import StateStore
    from acp_install_sandbox.kinds import BUILTIN

    work = tmp_path / "work"
    with StateStore(work) as state:
        ident = holder_id(state)
    cms = next(rt for rt in BUILTIN if rt.plural == "configmaps")
    sb.api.create(cms, guard_object(ident, str(work)))  # as a killed earlier run left it
    eng, _ = engine(plan, sb, work, dcs_spec)
    assert eng.run().complete
    assert len(posts(sb)) == 1 and _guard(sb) is None


def test_two_installs_from_two_work_directories_post_once(
        sb: Sandbox, plan: InstallPlan, dcs_spec: LoadedSpec, tmp_path: Path,
        canaries: dict[str, str]) -> None:
    """Both reach the installer phase with an idle installer; one sends, the other is refused
    by the guard or finds the installer already working — never a second POST."""
    barrier = threading.Barrier(2)
    results: dict[str, Any] = {}
    recs: list[Recorded] = []

    def run(name: str) -> None:
        eng, rec = engine(plan, sb, tmp_path / name, dcs_spec)
        recs.append(rec)
        # both first get everything up to the installer done, then race for the POST
        eng.run(until="extra-resources")
        barrier.wait(timeout=60)
        again, rec2 = engine(plan, sb, tmp_path / name, dcs_spec)
        recs.append(rec2)
        try:
            results[name] = again.run().complete
        except StateError as err:
            results[name] = err

    threads = [threading.Thread(target=run, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(posts(sb)) == 1
    assert any(r is True for r in results.values()), results
    for r in results.values():
        assert r is True or "another acp-install run is sending the installer request" in str(r)
    assert _guard(sb) is None
    assert_no_canaries("\n".join(r.text() for r in recs), canaries)


def test_two_installs_on_one_work_directory_one_refused(
        sb: Sandbox, plan: InstallPlan, dcs_spec: LoadedSpec, tmp_path: Path) -> None:
    """The second run on a work directory in use is refused at once, before any request."""
    from acp_install.engine.state import StateStore

    work = tmp_path / "work"
    with StateStore(work):
        before = sb.recorder.api_requests_served
        eng, _ = engine(plan, sb, work, dcs_spec)
        with pytest.raises(StateError, match="in use by another acp-install run"):
            eng.run()
        assert sb.recorder.api_requests_served == before  # nothing reached the cluster
    assert posts(sb) == []


def test_two_installs_into_two_sandboxes_at_once_do_not_cross(
        sandbox_factory: Callable[..., Sandbox], plan: InstallPlan, dcs_spec: LoadedSpec,
        tmp_path: Path) -> None:
    boxes = [sandbox_factory(scenario="happy") for _ in range(2)]
    done: dict[int, bool] = {}

    def run(i: int) -> None:
        eng, _ = engine(plan, boxes[i], tmp_path / f"w{i}", dcs_spec)
        done[i] = eng.run().complete

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert done == {0: True, 1: True}
    for i, box in enumerate(boxes):
        assert len(posts(box)) == 1
        state = read_state(tmp_path / f"w{i}")
        assert state is not None and all(state["phases"][p]["status"] == "finished" for p in PHASE_NAMES)
        assert box.address in (state["installer"].get("address") or "")


# --- SIGKILL: nothing left in $TMPDIR, the next run resumes -------------------------------------


def _kubeconfig_with_client_cert(sb: Sandbox, path: Path) -> tuple[Path, bytes]:
    """The sandbox kubeconfig plus a client certificate and key given as data (the case whose
    decoded private key the library wrote to $TMPDIR)."""
    import base64

    import yaml

    from acp_install_sandbox.tls import issue_certificate

    client = issue_certificate(common_name="acp-install-test", usages=("digital signature", "client auth"))
    data = yaml.safe_load(sb.kubeconfig_path.read_text())
    user = data["users"][0]["user"]
    user["client-certificate-data"] = base64.b64encode(client.cert_pem).decode()
    user["client-key-data"] = base64.b64encode(client.key_pem).decode()
    path.write_text(yaml.safe_dump(data))
    return path, client.key_pem


def test_sigkill_leaves_nothing_in_tmpdir_and_the_next_run_cleans_up(
        sb: Sandbox, tmp_path: Path, canaries: dict[str, str]) -> None:
    import os
    import signal
    import subprocess
    import sys

    spec = write(tmp_path / "spec.yaml", example("dcs"))
    kc, key_pem = _kubeconfig_with_client_cert(sb, tmp_path / "kubeconfig")
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    work = tmp_path / "work"
    # the Machines stay where they are created (Pending) until released, so the control plane
    # cannot be Ready: the run stays inside control-plane until the kill
    hold = sb.hold("Machine", None, "cpaas-system")
    env = {**os.environ, **canaries, "TMPDIR": str(tmpdir), "ACP_INSTALL_ACCEPT_EXAMPLE_VALUES": "1"}
    argv = [sys.executable, "-m", "acp_install.cli.main", "install", "-f", str(spec), "--kubeconfig", str(kc),
            "--workdir", str(work), "--poll-interval", "0.1", "--timeout-scale", "0.05"]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # observe the run's own state: killed once it is waiting inside control-plane
        for _ in range(3000):
            state = read_state(work) if state_path(work).exists() else None
            if state and (state["phases"].get("control-plane") or {}).get("status") == "running":
                break
            assert proc.poll() is None, "the run ended before it was killed"
            threading.Event().wait(0.02)
        else:
            pytest.fail("the run never reached control-plane")
        scratch = work / ".acp-install" / "tmp"
        keys = list(scratch.rglob("client-key-*"))
        assert keys and keys[0].read_bytes() == key_pem  # the key went to the work directory
        assert oct(scratch.stat().st_mode & 0o777) == "0o700"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert sorted(os.listdir(tmpdir)) == []  # nothing in $TMPDIR: no CA copy, key or cache
    sb.release(hold)
    assert main(["install", "-f", str(spec), "--kubeconfig", str(kc), "--workdir", str(work),
                 "--poll-interval", "0.1", "--timeout-scale", "0.05", "--accept-example-values"]) == 0
    assert list((work / ".acp-install" / "tmp").rglob("*")) == []  # the killed run's files are gone
    assert len(posts(sb)) == 1
    state = read_state(work)
    assert state is not None and all(state["phases"][p]["status"] == "finished" for p in PHASE_NAMES)
    assert_no_canaries(_state_text(work), canaries)


@pytest.mark.parametrize("with_scratch", [True, False], ids=["scratch-dir", "tmpdir"])
def test_a_refused_server_url_leaves_no_client_key_behind(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, with_scratch: bool) -> None:
    """The client key is decoded to disk while the kubeconfig loads; a server URL refused after
    that (plain http) must not leave it in the scratch directory or in $TMPDIR."""
    import base64
    import tempfile

    import yaml

    from acp_install.clients.kube import KubeClient
    from acp_install.errors import ClusterError
    from acp_install_sandbox.tls import issue_certificate

    client = issue_certificate(common_name="acp-install-test", usages=("digital signature", "client auth"))
    kc = tmp_path / "kubeconfig"
    kc.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:6443"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "users": [{"name": "u", "user": {
            "client-certificate-data": base64.b64encode(client.cert_pem).decode(),
            "client-key-data": base64.b64encode(client.key_pem).decode()}}]}))
    tmpdir, scratch = tmp_path / "tmpdir", tmp_path / "scratch"
    tmpdir.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmpdir))
    monkeypatch.setattr(tempfile, "tempdir", str(tmpdir))
    with pytest.raises(ClusterError, match="https://"):
        KubeClient(kc, scratch=scratch if with_scratch else None)
    key_body = client.key_pem.splitlines()[1]
    left = [p for d in (tmpdir, scratch) if d.exists() for p in d.rglob("*")
            if p.is_file() and key_body in p.read_bytes()]
    assert left == [], f"the client key was left in {left}"
