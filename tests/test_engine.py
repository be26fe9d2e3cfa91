"""The engine end to end against the sandbox: real kubernetes client, real httpx, loopback.

Nothing here patches a client: what the engine did is read back from what the sandbox
recorded (applied objects, installer requests) and from kubectl.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from acp_install.engine import (
    PHASE_NAMES,
    Engine,
    Event,
    PhaseFinished,
    PhaseProgress,
    PhaseStarted,
    Timeouts,
    Warning,
    read_state,
    state_path,
    to_dict,
)
from acp_install.errors import InstallerError, Interrupted, SecretError, StateError, WaitTimeout
from acp_install.plan import InstallPlan, build_plan
from acp_install.plugins import load_provider
from acp_install.spec.load import LoadedSpec, load_spec
from acp_install_sandbox import Sandbox

from sandbox_helpers import wait_for
from specs import example, write
from support import HTTP

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
FAST = {"poll_interval": 0.02, "resync": 2.0}


def fast(installer_stall: float = 10.0, post_grace: float = 5.0, **phases: float) -> Timeouts:
    """Deadlines for a sandbox running 50x faster than life."""
    base = {"packages": 15, "manifest": 15, "control_plane": 20, "extra_resources": 15,
            "installer": 15, "monitor": 20, "verify": 15}
    return Timeouts(installer_stall=installer_stall, post_grace=post_grace).with_overrides(
        **{**base, **phases})


@pytest.fixture
def dcs_spec(tmp_path: Path, canaries: dict[str, str]) -> LoadedSpec:
    return load_spec(write(tmp_path / "spec.yaml", example("dcs")))


@pytest.fixture
def plan(dcs_spec: LoadedSpec) -> InstallPlan:
    return build_plan(dcs_spec)


@pytest.fixture
def start(sandbox_factory: Callable[..., Sandbox]) -> Callable[..., Sandbox]:
    def make(scenario: str = "happy") -> Sandbox:
        return sandbox_factory(scenario=scenario)

    return make


class Recorded:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def outcomes(self) -> dict[str, str]:
        return {e.phase: e.outcome for e in self.of(PhaseFinished)}

    def text(self) -> str:
        return "\n".join(json.dumps(to_dict(e)) for e in self.events)


def engine(plan: InstallPlan, sb: Sandbox, workdir: Path, loaded: LoadedSpec | None = None,
           timeouts: Timeouts | None = None, **kw: Any) -> tuple[Engine, Recorded]:
    eng = Engine(plan, kubeconfig=sb.kubeconfig_path, workdir=workdir,
                 provider=loaded.provider if loaded else load_provider(plan.provider.id),
                 timeouts=timeouts or fast(), **{**FAST, **kw})
    rec = Recorded()
    eng.subscribe(rec)
    return eng, rec


def posts(sb: Sandbox) -> list[Any]:
    return [r for r in sb.recorder.installer_requests if r.method == "POST"]


def stored(sb: Sandbox, api_version: str, kind: str) -> list[dict[str, Any]]:
    """Every ``kind`` object the sandbox holds, read from its store (no API request)."""
    rt = sb.api.kinds.by_kind(api_version, kind)
    return [] if rt is None else list(sb.api.store.list(rt)[0])


def settle(what: str, reached: Callable[[], bool]) -> None:
    """Until the sandbox shows ``what`` (observed state, not elapsed time): a test that runs
    out a short deadline on a persistent fault first lets the fault show, so what the engine
    sees at its deadline is the same on an idle machine and a loaded one. The bound only turns
    a sandbox that never gets there into a failure instead of a hang."""
    end = time.monotonic() + 120
    while not reached():
        assert time.monotonic() < end, f"the sandbox never showed {what}"
        time.sleep(0.02)


def conditions(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c.get("type"): c for c in (obj.get("status") or {}).get("conditions") or []}


def assert_no_canaries(text: str, canaries: dict[str, str]) -> None:
    for name, value in canaries.items():
        assert value not in text, f"secret {name} leaked"
        assert base64.b64encode(value.encode()).decode() not in text, f"base64 of {name} leaked"


# -- happy path ------------------------------------------------------------------------------


def test_full_install(start: Callable[..., Sandbox], plan: InstallPlan, dcs_spec: LoadedSpec,
                      tmp_path: Path, canaries: dict[str, str]) -> None:
    sb = start()
    # the AppReleases stay uninstalled, and the control plane's status untouched, until the
    # engine opens a watch on them: it has to wait (watched, asserted below) however fast the
    # sandbox moves them on against the engine
    holds = {kind: sb.hold(kind) for kind in ("AppRelease", "KubeadmControlPlane")}
    opened = sb.api.watch

    def watch(rt: Any, *args: Any, **kwargs: Any) -> Any:
        if rt.kind in holds:
            sb.release(holds[rt.kind])
        return opened(rt, *args, **kwargs)

    sb.api.watch = watch  # type: ignore[method-assign]
    eng, rec = engine(plan, sb, tmp_path / "work", dcs_spec)
    result = eng.run()

    assert result.complete
    assert not set(holds.values()) & set(sb.api.holds.active)  # released as the engine opened its watches
    assert [p.name for p in result.phases] == list(PHASE_NAMES)
    assert [e.phase for e in rec.of(PhaseStarted)] == list(PHASE_NAMES)
    assert rec.outcomes()["installer"] == "done"

    # every object of the plan was server-side applied by acp-install
    applied = {(w.kind, w.name) for w in sb.recorder.writes
               if w.manager == "acp-install" and w.verb == "apply"}
    wanted = {(o["kind"], o["metadata"]["name"])
              for o in [*plan.appreleases, *plan.package_objects, *plan.manifest]}
    assert wanted <= applied

    # exactly one POST, carrying the passwords as base64 of the real values
    (post,) = posts(sb)
    assert post.path == plan.provider.installer_endpoint
    assert post.body["basic"]["password"] == base64.b64encode(
        canaries["ACP_ADMIN_PASSWORD"].encode()).decode()
    assert post.body["hostIP"] == plan.installer_payload["hostIP"]

    # the address came from the installer pod, and the state remembers the POST
    state = read_state(tmp_path / "work")
    assert state is not None
    assert all(state["phases"][p]["status"] == "finished" for p in PHASE_NAMES)
    assert state["installer"]["sent"] is True
    assert state["installer"]["address"] == sb.installer_url.removeprefix("http://")

    # waits watched (principle 7): the KCP and the AppReleases were watched, not polled (the
    # CRDs are there by the time each AppRelease reports itself installed).
    # A watch is recorded when its stream ends: stopping the sandbox ends them all.
    sb.stop()
    watched = {r.path.rsplit("/", 1)[-1] for r in sb.recorder.requests
               if r.method == "GET" and "watch=true" in r.query.lower()}
    assert {"kubeadmcontrolplanes", "appreleases"} <= watched

    assert_no_canaries(state_path(tmp_path / "work").read_text(), canaries)
    assert_no_canaries(rec.text(), canaries)
    assert oct(state_path(tmp_path / "work").stat().st_mode & 0o777) == "0o600"


def test_kubectl_sees_the_installed_objects(start: Callable[..., Sandbox], plan: InstallPlan,
                                            tmp_path: Path, canaries: dict[str, str]) -> None:
    sb = start()
    engine(plan, sb, tmp_path)[0].run()

    def kubectl(*args: str, kubeconfig: Path = sb.kubeconfig_path) -> dict[str, Any]:
        out = subprocess.run([KUBECTL, "--kubeconfig", str(kubeconfig), *args,
                              "-o", "json"], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        data: dict[str, Any] = json.loads(out.stdout)
        return data

    kcp = kubectl("get", "kubeadmcontrolplane", "global-kcp", "-n", "cpaas-system")
    assert any(c["type"] == "Ready" and c["status"] == "True" for c in kcp["status"]["conditions"])
    cluster = kubectl("get", "clusters.cluster.x-k8s.io", "global", "-n", "cpaas-system")
    assert cluster["status"]["phase"] == "Provisioned"
    # the final state is on the new global cluster (its kubeconfig Secret in minialauda)
    secret = kubectl("get", "secret", "global-kubeconfig", "-n", "cpaas-system")
    (tmp_path / "global.kubeconfig").write_bytes(base64.b64decode(secret["data"]["value"]))
    module = kubectl("get", "clustermodule", "global", kubeconfig=tmp_path / "global.kubeconfig")
    assert module["status"]["phase"] == "Running"
    apps = kubectl("get", "appreleases.operator.alauda.io", "-n", "cpaas-system")
    assert {a["metadata"]["name"] for a in apps["items"]} == {
        a["metadata"]["name"] for a in plan.appreleases}
    # the Secret holds the real value (revealed only for the apply call)
    secret = next(o for o in plan.manifest if o["kind"] == "Secret")
    got = kubectl("get", "secret", secret["metadata"]["name"], "-n", "cpaas-system",
                  "--show-managed-fields")
    values = {base64.b64decode(v).decode() for v in got["data"].values()}
    assert canaries["DCS_AUTH_KEY"] in values
    managers = {m["manager"] for m in got["metadata"].get("managedFields", [])}
    assert "acp-install" in managers


# -- resume --------------------------------------------------------------------------------


def test_resume_after_interruption_skips_finished_phases(
        sandbox_factory: Callable[..., Sandbox], plan: InstallPlan, tmp_path: Path,
        canaries: dict[str, str]) -> None:
    # the installer must still be at work when the second run reaches monitor (which then
    # runs, not finds it finished): a stage of the sandbox installer finishes only after a
    # progress answer showed it running, so with no look between the runs it is in its
    # first stage whatever the speed and the load (monitor's own check is the first look)
    sb = sandbox_factory(scenario="happy")
    first = engine(plan, sb, tmp_path)[0].run(until="installer")
    assert not first.complete
    upto = PHASE_NAMES[:PHASE_NAMES.index("installer") + 1]
    assert [p.name for p in first.phases] == list(upto)
    assert len(posts(sb)) == 1
    ours_before = [w for w in sb.recorder.writes if w.manager == "acp-install"]

    eng, rec = engine(plan, sb, tmp_path)
    second = eng.run()
    assert second.complete
    outcomes = rec.outcomes()
    assert all(outcomes[p] == "skipped" for p in upto)
    assert outcomes["monitor"] == "done"
    assert len(posts(sb)) == 1, "the installer request was sent again"
    # skipped phases did not write to the cluster
    assert [w for w in sb.recorder.writes if w.manager == "acp-install"] == ours_before

    third = engine(plan, sb, tmp_path)[0].run()
    assert third.complete and {p.outcome for p in third.phases} == {"skipped"}
    assert len(posts(sb)) == 1


def test_crash_between_post_and_state_write_does_not_resend(
        start: Callable[..., Sandbox], plan: InstallPlan, tmp_path: Path,
        canaries: dict[str, str]) -> None:
    sb = start()
    engine(plan, sb, tmp_path)[0].run(until="installer")
    # simulate a crash right after the POST: the state does not know it was sent
    path = state_path(tmp_path)
    data = json.loads(path.read_text())
    data["phases"]["installer"] = {"status": "running"}
    data.pop("installer")
    path.write_text(json.dumps(data))

    eng, rec = engine(plan, sb, tmp_path)
    assert eng.run().complete
    assert rec.outcomes()["installer"] == "already-done"
    assert any("already has an install request" in w.message for w in rec.of(Warning))
    assert len(posts(sb)) == 1


def test_unfinished_phase_rechecks_the_world(start: Callable[..., Sandbox], plan: InstallPlan,
                                             tmp_path: Path, canaries: dict[str, str]) -> None:
    sb = start()
    engine(plan, sb, tmp_path)[0].run(until="control-plane")
    path = state_path(tmp_path)
    data = json.loads(path.read_text())
    data["phases"]["manifest"]["status"] = "running"  # as if killed before the checkpoint
    path.write_text(json.dumps(data))
    eng, rec = engine(plan, sb, tmp_path)
    eng.run(until="control-plane")
    assert rec.outcomes() == {"bootstrap": "skipped", "push": "skipped", "packages": "skipped",
                              "manifest": "already-done",
                              "control-plane": "skipped"}


def test_changed_spec_is_refused_then_restart(start: Callable[..., Sandbox], plan: InstallPlan,
                                              dcs_spec: LoadedSpec, tmp_path: Path,
                                              canaries: dict[str, str]) -> None:
    sb = start()
    engine(plan, sb, tmp_path / "w")[0].run(until="manifest")
    data = example("dcs")
    data["platformHost"] = "other.example.com"
    other = build_plan(load_spec(write(tmp_path / "other.yaml", data)))
    with pytest.raises(StateError, match="different spec"):
        engine(other, sb, tmp_path / "w")[0].run(until="manifest")
    eng, rec = engine(other, sb, tmp_path / "w", restart=True)
    eng.run(until="manifest")
    assert rec.outcomes()["manifest"] == "done"


def test_restart_with_a_changed_spec_changes_the_live_objects(
        start: Callable[..., Sandbox], plan: InstallPlan, tmp_path: Path,
        canaries: dict[str, str]) -> None:
    """A changed object is re-applied after --restart, not reported "already done"."""
    sb = start()
    engine(plan, sb, tmp_path)[0].run(until="manifest")
    data = example("dcs")
    data["platform"]["controlPlane"]["cpu"] = 8
    other = build_plan(load_spec(write(tmp_path / "other.yaml", data)))
    template = next(o for o in other.manifest if o["kind"] == "DCSMachineTemplate")
    name = template["metadata"]["name"]

    def live_cpu() -> Any:
        out = subprocess.run([KUBECTL, "--kubeconfig", str(sb.kubeconfig_path), "get",
                              "dcsmachinetemplates", name, "-n", "cpaas-system", "-o",
                              "jsonpath={.spec.template.spec.vmConfig.dcsMachineCpuSpec.quantity}"],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        return int(out.stdout)

    assert live_cpu() == 16
    eng, rec = engine(other, sb, tmp_path, restart=True)
    eng.run(until="manifest")
    assert live_cpu() == 8
    assert rec.outcomes()["manifest"] == "done"
    assert any(f"updated DCSMachineTemplate/{name}" == e.message for e in rec.of(PhaseProgress))

    # applying the same spec again changes nothing and says so
    eng, rec = engine(other, sb, tmp_path, restart=True)
    eng.run(until="manifest")
    assert rec.outcomes()["manifest"] == "already-done"
    assert live_cpu() == 8


def test_missing_secrets_are_all_reported_before_anything_is_applied(
        start: Callable[..., Sandbox], plan: InstallPlan, tmp_path: Path,
        canaries: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    sb = start()
    monkeypatch.delenv("DCS_AUTH_KEY")
    monkeypatch.delenv("ACP_ADMIN_PASSWORD")
    with pytest.raises(SecretError) as err:
        engine(plan, sb, tmp_path)[0].run()
    text = str(err.value)
    assert err.value.exit_code == 6
    assert "$DCS_AUTH_KEY" in text and "$ACP_ADMIN_PASSWORD" in text
    assert "nothing was applied" in text
    # nothing reached the sandbox: no object, no installer request, not even a read
    assert not [w for w in sb.recorder.writes if w.manager == "acp-install"]
    assert not sb.recorder.installer_requests
    assert not sb.recorder.requests
    assert_no_canaries(text, canaries)


def test_second_concurrent_run_is_refused(start: Callable[..., Sandbox], plan: InstallPlan,
                                          tmp_path: Path, canaries: dict[str, str]) -> None:
    sb = start()
    (tmp_path / ".acp-install").mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import filelock, sys, time; l = filelock.FileLock(sys.argv[1]); l.acquire(); "
         "print('held', flush=True); time.sleep(30)", str(tmp_path / ".acp-install" / "lock")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(StateError, match="in use by another") as err:
            engine(plan, sb, tmp_path)[0].run()
        assert err.value.exit_code == 7
        assert not [w for w in sb.recorder.writes if w.manager == "acp-install"]
    finally:
        holder.kill()
        holder.wait()


# -- stalls and failures -----------------------------------------------------------------------


def test_machines_pending_stall_names_where_to_look(
        start: Callable[..., Sandbox], plan: InstallPlan, dcs_spec: LoadedSpec, tmp_path: Path,
        canaries: dict[str, str]) -> None:
    sb = start("machines-pending")
    first, rec1 = engine(plan, sb, tmp_path, dcs_spec)
    first.run(until="manifest")

    def stuck() -> bool:
        machines = stored(sb, "cluster.x-k8s.io/v1beta1", "Machine")
        return bool(machines) and all(
            conditions(m).get("InfrastructureReady", {}).get("reason") == "InstanceProvisionFailed"
            for m in machines)

    settle("Machines failing InfrastructureReady", stuck)
    # the fault is persistent and already showing: the deadline only has to cover the phase's work
    eng, rec = engine(plan, sb, tmp_path, dcs_spec, timeouts=fast(control_plane=1.5))
    with pytest.raises(WaitTimeout) as err:
        eng.run()
    text = str(err.value)
    assert err.value.exit_code == 12
    assert "Machines stay in Pending" in text
    assert "kubectl describe machine -n cpaas-system" in text
    assert "InfrastructureReady=False (InstanceProvisionFailed" in text  # the provider reason
    state = read_state(tmp_path)
    assert state is not None and state["phases"]["control-plane"]["status"] == "failed"
    assert not posts(sb)
    assert_no_canaries(text + rec1.text() + rec.text(), canaries)


def test_kcp_not_ready_stall(start: Callable[..., Sandbox], plan: InstallPlan,
                             tmp_path: Path, canaries: dict[str, str]) -> None:
    sb = start("kcp-not-ready")
    engine(plan, sb, tmp_path)[0].run(until="manifest")
    settle("the KubeadmControlPlane's etcd unhealthy", lambda: any(
        conditions(k).get("EtcdClusterHealthy", {}).get("status") == "False"
        for k in stored(sb, "controlplane.cluster.x-k8s.io/v1beta1", "KubeadmControlPlane")))
    eng, _ = engine(plan, sb, tmp_path, timeouts=fast(control_plane=1.5))
    with pytest.raises(WaitTimeout, match="describe kubeadmcontrolplane") as err:
        eng.run()
    assert "EtcdClusterHealthy=False" in str(err.value)  # the KCP's own failing conditions


def test_installer_failure_is_an_installer_error(start: Callable[..., Sandbox],
                                                 plan: InstallPlan, tmp_path: Path,
                                                 canaries: dict[str, str]) -> None:
    sb = start("installer-fail")
    eng, rec = engine(plan, sb, tmp_path)
    with pytest.raises(InstallerError) as err:
        eng.run()
    assert err.value.exit_code == 11
    assert "installer.log" in str(err.value)
    assert "Failed" in str(err.value)
    assert len(posts(sb)) == 1
    assert_no_canaries(str(err.value) + rec.text(), canaries)


def test_installer_stall_times_out(start: Callable[..., Sandbox], plan: InstallPlan,
                                   tmp_path: Path, canaries: dict[str, str]) -> None:
    sb = start("installer-stall")
    engine(plan, sb, tmp_path)[0].run(until="installer")

    def stalled() -> bool:  # each look lets the sandbox installer finish one more stage
        answer = HTTP.get(f"{sb.installer_url}/cpaas-installer/api/progress", timeout=30).json()
        return bool(answer["type"] == "PlatformInstallation" and "module 'base'" in answer["message"])

    settle("the installer stalled in platform installation", stalled)
    # stalled already: the threshold only has to pass once monitor has seen the stage
    eng, _ = engine(plan, sb, tmp_path, timeouts=fast(installer_stall=0.3))
    with pytest.raises(WaitTimeout) as err:
        eng.run()
    # the stage waits for a module: ClusterModule's row first, the installer log second
    assert "ClusterModule/global does not reach a healthy phase" in str(err.value)
    assert "also look at: /var/cpaas/data/installer.log" in str(err.value)
    assert len(posts(sb)) == 1


def test_installer_5xx_is_retried(start: Callable[..., Sandbox], plan: InstallPlan,
                                  tmp_path: Path, canaries: dict[str, str]) -> None:
    sb = start("installer-5xx")
    eng, rec = engine(plan, sb, tmp_path)
    assert eng.run().complete
    assert any("503" in w.message for w in rec.of(Warning))
    assert len(posts(sb)) == 1


def test_events_are_typed_and_a_broken_subscriber_does_not_stop_the_install(
        start: Callable[..., Sandbox], plan: InstallPlan, tmp_path: Path,
        canaries: dict[str, str]) -> None:
    sb = start()
    eng, rec = engine(plan, sb, tmp_path)

    def broken(event: Event) -> None:
        raise RuntimeError("UI bug")

    eng.subscribe(broken)
    unsubscribe = eng.subscribe(lambda e: None)
    unsubscribe()
    assert eng.run(until="manifest")
    assert rec.of(PhaseProgress) and all(isinstance(e.message, str) for e in rec.of(PhaseProgress))
    assert {to_dict(e)["event"] for e in rec.events} >= {"phase-started", "phase-progress",
                                                         "phase-finished"}


def test_cancel_stops_between_phases_and_the_next_run_resumes(
        sandbox_factory: Callable[..., Sandbox], plan: InstallPlan, tmp_path: Path,
        canaries: dict[str, str]) -> None:
    # the control plane must still be coming up when the second run reaches it (it then runs,
    # not finds it done): its Machines are held where they start (so the KubeadmControlPlane
    # cannot be Ready) until the second run's control-plane phase reports on them, i.e. after
    # its check found the control plane not Ready
    sb = sandbox_factory(scenario="happy")
    held = sb.hold("Machine", None, "cpaas-system")
    eng, _ = engine(plan, sb, tmp_path)

    def stop_after_manifest(event: Event) -> None:
        if isinstance(event, PhaseFinished) and event.phase == "manifest":
            eng.cancel()

    eng.subscribe(stop_after_manifest)
    with pytest.raises(Interrupted) as err:
        eng.run()
    assert err.value.exit_code == 130
    state = read_state(tmp_path)
    assert state is not None and set(state["phases"]) == {"bootstrap", "push", "packages", "manifest"}

    eng2, rec = engine(plan, sb, tmp_path)

    def release_once_reported(event: Event) -> None:
        if isinstance(event, PhaseProgress) and event.phase == "control-plane":
            sb.release(held)

    eng2.subscribe(release_once_reported)
    assert eng2.run().complete
    assert rec.outcomes()["manifest"] == "skipped" and rec.outcomes()["control-plane"] == "done"
    assert len(posts(sb)) == 1


def test_verify_reads_the_new_cluster_not_the_bootstrap_cluster(
        start: Callable[..., Sandbox], plan: InstallPlan, tmp_path: Path,
        canaries: dict[str, str]) -> None:
    """A real minialauda need not serve ClusterModule: the seed checks it on the new cluster."""
    sb = start()
    engine(plan, sb, tmp_path)[0].run(until="monitor")
    out = subprocess.run([KUBECTL, "--kubeconfig", str(sb.kubeconfig_path), "delete", "crd",
                          "clustermodules.cluster.alauda.io"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    eng, rec = engine(plan, sb, tmp_path, timeouts=fast(verify=10))
    result = eng.run()
    assert result.complete and rec.outcomes()["verify"] in ("done", "already-done")
    assert sb.global_cluster is not None
    lines = [p.message for p in rec.of(PhaseProgress) if p.phase == "verify"]
    assert f"new global cluster {sb.global_cluster.server_url} (kubeconfig: Secret " \
           "cpaas-system/global-kubeconfig)" in lines
    assert "ok   ClusterModule/global: phase Running, Ready" in lines
    assert not [w for w in rec.of(Warning) if w.phase == "verify"]
    assert_no_canaries(rec.text(), canaries)


def test_a_hold_on_the_control_plane_binds_its_status(start: Callable[..., Sandbox], plan: InstallPlan,
                                                      dcs_spec: LoadedSpec, tmp_path: Path,
                                                      canaries: dict[str, str]) -> None:
    """A hold on a KubeadmControlPlane (or Cluster, MachineDeployment, infrastructure object)
    binds its status as a hold on a Machine binds the Machine: it used to be accepted and do
    nothing, so a test holding one raced the control plane it meant to freeze."""
    sb = start()
    held = sb.hold("KubeadmControlPlane")
    eng, _ = engine(plan, sb, tmp_path / "w", dcs_spec)
    assert not eng.run(until="manifest").complete
    kcp_rt = sb.api.kinds.by_kind("controlplane.cluster.x-k8s.io/v1beta1", "KubeadmControlPlane")
    machine_rt = sb.api.kinds.by_kind("cluster.x-k8s.io/v1beta1", "Machine")
    assert kcp_rt is not None and machine_rt is not None

    def machines_running() -> bool:
        items, _ = sb.api.store.list(machine_rt, "cpaas-system")
        return len(items) == 3 and all((m.get("status") or {}).get("phase") == "Running" for m in items)

    def kcp_status() -> dict[str, Any]:
        return sb.api.store.get(kcp_rt, "cpaas-system", "global-kcp").get("status") or {}

    wait_for(machines_running)  # the Machines moved on...
    assert kcp_status() == {}  # ...while the held control plane's status was left alone
    sb.release(held)
    assert wait_for(lambda: kcp_status().get("readyReplicas") == 3)
