"""Fail fast: a stall whose cause is visible ends after its grace, with the right diagnosis.

Each scenario runs the real engine against the sandbox with a phase deadline far beyond the
grace: a run that waits the deadline out instead of failing fast fails these tests (with a
``WaitTimeout`` that is not a ``StallDiagnosed``). Durations are never compared with the wall
clock here: ``StallDiagnosed.held``/``grace`` are the engine's own phase clock, and the unit
tests drive :class:`~acp_install.engine.stalls.FailFast` with a simulated clock.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from acp_install.engine import Engine, Event, Timeouts, Warning, read_state, stalls
from acp_install.errors import StallDiagnosed, WaitTimeout
from acp_install.plan import InstallPlan, build_plan
from acp_install.spec.load import LoadedSpec, load_spec
from acp_install_sandbox import Sandbox

from specs import example, write

#: Far beyond the grace: reaching a deadline means fail-fast did not happen.
LONG = 120.0
#: Every scenario's cause persists once visible, so the outcome does not depend on the grace.
GRACE = 0.2
#: How often a quiet wait looks again (monitor reads the new cluster's Pods once the installer
#: has been quiet this long); fail-fast graces do not wait for it (FailFast.due).
RESYNC = 0.3


@pytest.fixture
def loaded(tmp_path: Path, canaries: dict[str, str]) -> LoadedSpec:
    return load_spec(write(tmp_path / "spec.yaml", example("dcs")))


@pytest.fixture
def plan(loaded: LoadedSpec) -> InstallPlan:
    return build_plan(loaded)


def run_until_failure(sandbox_factory: Callable[..., Sandbox], scenario: str, loaded: LoadedSpec,
                      plan: InstallPlan, workdir: Path, *, wait_through: bool = False,
                      resync: float = RESYNC, **phases: float) -> tuple[BaseException, list[Event]]:
    sb = sandbox_factory(scenario=scenario)
    deadlines = {"packages": LONG, "manifest": LONG, "control_plane": LONG,
                 "extra_resources": LONG, "installer": LONG, "monitor": LONG, "verify": LONG}
    timeouts = Timeouts(installer_stall=LONG, fail_fast=GRACE).with_overrides(
        **{**deadlines, **phases})
    eng = Engine(plan, provider=loaded.provider, kubeconfig=sb.kubeconfig_path, workdir=workdir,
                 timeouts=timeouts, poll_interval=0.1, resync=resync,
                 wait_through_failures=wait_through)
    events: list[Event] = []
    eng.subscribe(events.append)
    with pytest.raises(WaitTimeout) as err:
        eng.run()
    return err.value, events


def warnings(events: list[Event]) -> list[str]:
    return [e.message for e in events if isinstance(e, Warning)]


def assert_fail_fast(err: BaseException, stall: stalls.Stall) -> StallDiagnosed:
    assert isinstance(err, StallDiagnosed), f"waited for the deadline instead: {err}"
    assert err.exit_code == 16
    assert err.stall == stall.key
    assert err.held >= err.grace == GRACE  # the phase clock: it persisted the whole grace
    assert err.held < LONG
    assert str(err).startswith("failing fast: ")
    assert f"stall: {stall.symptom}." in str(err)
    assert stall.look in str(err)
    return err


def test_a_machine_condition_at_severity_error_fails_fast(
        sandbox_factory: Callable[..., Sandbox], loaded: LoadedSpec, plan: InstallPlan,
        tmp_path: Path, canaries: dict[str, str]) -> None:
    err, events = run_until_failure(sandbox_factory, "machines-pending", loaded, plan, tmp_path)
    assert_fail_fast(err, stalls.MACHINES_PENDING)
    assert "InfrastructureReady=False (InstanceProvisionFailed" in str(err)
    # the first sighting was announced before the run gave up
    assert any("failing fast in" in w and "InstanceProvisionFailed" in w for w in warnings(events))
    state = read_state(tmp_path)
    assert state is not None and state["phases"]["control-plane"]["status"] == "failed"
    assert "StallDiagnosed" in state["phases"]["control-plane"]["error"]
    for value in canaries.values():
        assert value not in str(err)


def test_a_visible_cause_fails_fast_at_its_grace_not_at_the_next_resync(
        sandbox_factory: Callable[..., Sandbox], loaded: LoadedSpec, plan: InstallPlan,
        tmp_path: Path) -> None:
    """Once the quota conditions are set nothing changes on minialauda, so the control-plane
    wait would look again only at its resync (here beyond the phase deadline): it wakes when
    the grace runs out instead."""
    err, _ = run_until_failure(sandbox_factory, "machines-pending", loaded, plan, tmp_path,
                               resync=10 * LONG)
    assert_fail_fast(err, stalls.MACHINES_PENDING)
    assert err.held < LONG / 2  # the deadline was not what ended the wait


def test_etcd_cluster_unhealthy_fails_fast(sandbox_factory: Callable[..., Sandbox],
                                           loaded: LoadedSpec, plan: InstallPlan,
                                           tmp_path: Path, canaries: dict[str, str]) -> None:
    err, _ = run_until_failure(sandbox_factory, "kcp-not-ready", loaded, plan, tmp_path)
    assert_fail_fast(err, stalls.KCP_NOT_READY)
    assert "EtcdClusterHealthy=False (EtcdClusterUnhealthy" in str(err)


def test_an_image_pull_error_in_the_installer_progress_is_the_node_registry_row(
        sandbox_factory: Callable[..., Sandbox], loaded: LoadedSpec, plan: InstallPlan,
        tmp_path: Path, canaries: dict[str, str]) -> None:
    err, _ = run_until_failure(sandbox_factory, "image-pull", loaded, plan, tmp_path)
    assert_fail_fast(err, stalls.PODS_PENDING)
    text = str(err)
    assert "node-facing registry" in text
    assert f"the node-facing registry address is {loaded.spec.node_registry_address}" in text
    assert "Back-off pulling image" in text
    assert "also look at: /var/cpaas/data/installer.log" in text


def test_wait_through_failures_waits_for_the_deadline_and_says_so_once(
        sandbox_factory: Callable[..., Sandbox], loaded: LoadedSpec, plan: InstallPlan,
        tmp_path: Path, canaries: dict[str, str]) -> None:
    err, events = run_until_failure(sandbox_factory, "kcp-not-ready", loaded, plan, tmp_path,
                                    wait_through=True, control_plane=1.5)
    assert not isinstance(err, StallDiagnosed) and err.exit_code == 12
    assert "describe kubeadmcontrolplane" in str(err)
    waived = [w for w in warnings(events) if "waiting on until the phase deadline" in w]
    assert len(waived) == 1, warnings(events)


def test_a_module_stall_points_at_clustermodule_not_only_the_installer_log(
        sandbox_factory: Callable[..., Sandbox], loaded: LoadedSpec, plan: InstallPlan,
        tmp_path: Path, canaries: dict[str, str]) -> None:
    """The installer-stall scenario waits for module 'base': a stall, no visible failure."""
    sb = sandbox_factory(scenario="installer-stall")
    eng = Engine(plan, provider=loaded.provider, kubeconfig=sb.kubeconfig_path,
                 workdir=tmp_path, poll_interval=0.1, resync=1.0,
                 timeouts=Timeouts(installer_stall=1, fail_fast=GRACE).with_overrides(
                     monitor=LONG, control_plane=LONG))
    with pytest.raises(WaitTimeout) as err:
        eng.run()
    assert not isinstance(err.value, StallDiagnosed)
    text = str(err.value)
    assert f"stall: {stalls.CLUSTERMODULE_UNHEALTHY.symptom}." in text
    assert "describe clustermodule global" in text
    assert "also look at: /var/cpaas/data/installer.log" in text


# -- units on a simulated clock ---------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def symptom(key: str = "Machine/m:InfrastructureReady:X") -> stalls.Symptom:
    return stalls.Symptom(stalls.MACHINES_PENDING, key, f"{key} is failing")


def test_fail_fast_fires_at_the_grace_and_resets_when_the_symptom_clears() -> None:
    clock, said = Clock(), []
    watch = stalls.FailFast(60, clock=clock, warn=said.append)
    assert watch.observe([symptom()]) is None
    assert len(said) == 1 and "failing fast in 60s" in said[0]
    clock.now = 59.9
    assert watch.observe([symptom()]) is None
    clock.now = 70
    assert watch.observe([]) is None  # cleared: forgotten
    clock.now = 129
    assert watch.observe([symptom()]) is None  # seen again at 129: a new grace
    clock.now = 189
    found = watch.observe([symptom(), symptom("other")])
    assert found is not None and found[0] == symptom() and found[1] == 60


def test_wait_through_warns_once_and_never_fires() -> None:
    clock, said = Clock(), []
    watch = stalls.FailFast(10, clock=clock, warn=said.append, wait_through=True)
    for t in (0, 10, 20, 30):
        clock.now = t
        assert watch.observe([symptom()]) is None
    assert sum("--wait-through-failures" in s and "persisted" in s for s in said) == 1


def test_due_is_when_the_next_grace_runs_out_and_none_once_each_is_judged() -> None:
    """What a wait that observes on changes and resyncs sleeps at most: until a grace ends."""
    clock = Clock()
    watch = stalls.FailFast(10, clock=clock)
    assert watch.due() is None  # nothing seen: the wait's own resync decides
    watch.observe([symptom()])
    clock.now = 4
    assert watch.due() == 6
    watch.observe([symptom(), symptom("other")])  # the second one's grace ends at 14
    clock.now = 9
    assert watch.due() == 1
    clock.now = 11  # past the first grace, not observed since: observe now
    assert watch.due() == 0
    found = watch.observe([symptom("other")])  # the first cleared just in time
    assert found is None and watch.due() == 3
    clock.now = 14
    assert watch.observe([symptom("other")]) is not None and watch.due() is None
    through = stalls.FailFast(10, clock=clock, wait_through=True)
    through.observe([symptom(), symptom("other")])
    clock.now = 30
    assert through.due() == 0
    assert through.observe([symptom(), symptom("other")]) is None
    assert through.due() is None  # judged (waived): no wake-up until something changes


MACHINE: dict[str, Any] = {
    "metadata": {"name": "global-cp-1"},
    "status": {"phase": "Pending", "conditions": [
        {"type": "BootstrapReady", "status": "False", "severity": "Info", "reason": "Waiting"},
        {"type": "InfrastructureReady", "status": "False", "severity": "Error",
         "reason": "InstanceProvisionFailed", "message": "quota"},
        {"type": "Ready", "status": "False", "severity": "Error",
         "reason": "InstanceProvisionFailed", "message": "quota"}]}}


def test_symptoms_of_objects() -> None:
    found = stalls.machine_symptoms([MACHINE])
    assert [s.detail for s in found] == [
        "Machine global-cp-1: InfrastructureReady=False (InstanceProvisionFailed: quota)"]
    only_failure = {"metadata": {"name": "m"},
                    "status": {"failureReason": "CreateError", "failureMessage": "no VM"}}
    assert [s.stall for s in stalls.machine_symptoms([only_failure])] == [stalls.MACHINES_PENDING]
    info_only = {"metadata": {"name": "m"}, "status": {"conditions": [
        {"type": "Ready", "status": "False", "severity": "Info", "reason": "Provisioning"}]}}
    assert stalls.machine_symptoms([info_only]) == []
    assert stalls.kcp_symptoms({"metadata": {"name": "k"}, "status": {"conditions": [
        {"type": "EtcdClusterHealthy", "status": "False", "severity": "Error",
         "reason": "EtcdClusterUnhealthy"}]}})[0].stall is stalls.KCP_NOT_READY
    pod = {"metadata": {"name": "kube-ovn-cni-x", "namespace": "kube-system"},
           "status": {"containerStatuses": [{"name": "cni", "state": {"waiting": {
               "reason": "ImagePullBackOff", "message": "Back-off pulling image"}}}]}}
    assert [s.stall for s in stalls.pod_symptoms([pod])] == [stalls.PODS_PENDING]
    running = {"metadata": {"name": "p"}, "status": {"containerStatuses": [
        {"name": "c", "state": {"running": {}}}]}}
    assert stalls.pod_symptoms([running]) == []


@pytest.mark.parametrize(("message", "row"), [
    ('kube-system/kube-ovn-cni: Back-off pulling image "10.0.0.1:11443/acp/x:v1"',
     stalls.PODS_PENDING),
    ("ErrImagePull: manifest unknown", stalls.PODS_PENDING),
    ("waiting for module 'base' to become ready", stalls.CLUSTERMODULE_UNHEALTHY),
    ("Platform installation in progress", stalls.INSTALLER_STALLED),
])
def test_a_stalled_installer_stage_gets_the_row_its_message_points_at(
        message: str, row: stalls.Stall) -> None:
    assert stalls.progress_stall(message) is row


def test_cli_exit_code_and_flags(capsys: pytest.CaptureFixture[str],
                                 canaries: dict[str, str]) -> None:
    from acp_install.cli.main import main

    # an explicit grace is taken as given (not scaled); the monitor deadline stays long
    rc = main(["install", "--sandbox", "--scenario", "image-pull", "--fail-fast-grace", "0.2"])
    err = capsys.readouterr().err
    assert rc == 16, err
    assert "failing fast: installer progress:" in err
    assert "node-facing registry" in err
    assert main(["install", "--sandbox", "--fail-fast-grace", "0"]) == 2
    assert "--fail-fast-grace must be a finite positive number" in capsys.readouterr().err
    assert main(["install", "--sandbox", "--heartbeat", "nan"]) == 2
    assert "--heartbeat must be a finite positive number" in capsys.readouterr().err


def test_an_explicit_grace_is_not_scaled_only_the_default_is(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from acp_install.cli import install_cmds
    from acp_install.cli.main import main

    seen: list[Timeouts] = []

    def capture(*args: object, **kwargs: object) -> None:
        seen.append(next(a for a in args if isinstance(a, Timeouts)))
        raise SystemExit(0)

    monkeypatch.setattr(install_cmds, "_install_sandbox", capture)
    for argv in (["--fail-fast-grace", "10", "--timeout-scale", "0.05"], ["--timeout-scale", "0.05"]):
        with pytest.raises(SystemExit):
            main(["install", "--sandbox", *argv])
    explicit, default = seen
    assert explicit.fail_fast_grace == 10.0
    assert default.fail_fast_grace == pytest.approx(300 * 0.05)
    assert Timeouts(scale=0.05, fail_fast=10).fail_fast_grace == 10.0


def test_a_failed_request_naming_a_module_also_points_at_clustermodule(
        sandbox_factory: Callable[..., Sandbox], loaded: LoadedSpec, plan: InstallPlan,
        tmp_path: Path, canaries: dict[str, str]) -> None:
    from acp_install.errors import InstallerError

    sb = sandbox_factory(scenario="installer-fail")
    eng = Engine(plan, provider=loaded.provider, kubeconfig=sb.kubeconfig_path,
                 workdir=tmp_path, poll_interval=0.1, resync=1.0,
                 timeouts=Timeouts().with_overrides(monitor=LONG, control_plane=LONG))
    with pytest.raises(InstallerError) as err:
        eng.run()
    assert "module 'base'" in str(err.value)
    assert "installer.log" in str(err.value)
    assert stalls.CLUSTERMODULE_UNHEALTHY.look in str(err.value)


def test_an_image_pull_error_on_the_new_cluster_fails_fast_when_the_installer_says_nothing(
        sandbox_factory: Callable[..., Sandbox], loaded: LoadedSpec, plan: InstallPlan,
        tmp_path: Path, canaries: dict[str, str]) -> None:
    """The installer only stops advancing; the kubelet's reason is on the new cluster's Pods."""
    err, _ = run_until_failure(sandbox_factory, "image-pull-quiet", loaded, plan, tmp_path)
    assert_fail_fast(err, stalls.PODS_PENDING)
    text = str(err)
    assert "failing fast: new global cluster: Pod kube-system/kube-ovn-cni-" in text
    assert "ImagePullBackOff" in text
    assert f"the node-facing registry address is {loaded.spec.node_registry_address}" in text
    assert "Network and core add-ons in progress" in text  # all the installer says
