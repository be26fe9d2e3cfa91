"""Phase ``verify``: the seed's Verification on the NEW global cluster, with the stall row.

Every install below runs the real engine against the sandbox; what verify read is checked on
the new cluster's own recorder (its API server is a different one from minialauda's), and the
stall scenarios of the new cluster end with the Common Stalls row the seed gives for them.
Durations are the engine's phase clock (``StallDiagnosed.held``/``grace``), never the wall clock.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from acp_install import Engine, Timeouts, build_plan, load_spec
from acp_install.engine import Event, PhaseFinished, PhaseProgress, stalls
from acp_install.errors import StallDiagnosed, WaitTimeout
from acp_install.secrets import spec_refs
from acp_install.spec.load import LoadedSpec
from acp_install_sandbox import Sandbox

from specs import example, write

LONG = 120.0
GRACE = 0.2  # each scenario's cause persists once visible: the outcome does not depend on it


def deadlines(**phases: float) -> Timeouts:
    base = {"packages": LONG, "manifest": LONG, "control_plane": LONG, "extra_resources": LONG,
            "installer": LONG, "monitor": LONG, "verify": LONG}
    return Timeouts(installer_stall=LONG, fail_fast=GRACE).with_overrides(**{**base, **phases})


def run(sb: Sandbox, loaded: LoadedSpec, workdir: Path, **options: object) -> tuple[Engine, list[Event]]:
    options.setdefault("timeouts", deadlines())
    eng = Engine(build_plan(loaded), provider=loaded.provider, kubeconfig=sb.kubeconfig_path,
                 workdir=workdir, poll_interval=0.1, resync=1.0, **options)  # type: ignore[arg-type]
    events: list[Event] = []
    eng.subscribe(events.append)
    return eng, events


def verify_lines(events: list[Event]) -> list[str]:
    return [e.message for e in events if isinstance(e, PhaseProgress) and e.phase == "verify"]


@pytest.mark.parametrize("provider", ["dcs", "vsphere", "hcs", "baremetal"])
def test_every_provider_install_ends_with_verify_on_the_new_cluster(
        provider: str, tmp_path: Path, canaries: dict[str, str],
        sandbox_factory: Callable[..., Sandbox]) -> None:
    loaded = load_spec(write(tmp_path / "spec.yaml", example(provider)))
    sb = sandbox_factory()
    unset = {r.env: f"canary-{r.env.lower()}" for r in spec_refs(loaded.spec) if r.env and r.env not in canaries}
    eng, events = run(sb, loaded, tmp_path / "w", secrets=unset)
    assert eng.run().complete
    outcome = {e.phase: e.outcome for e in events if isinstance(e, PhaseFinished)}
    assert outcome["verify"] == "done"  # verifying is the work, even when every check passes at once
    gc = sb.global_cluster
    assert gc is not None
    lines = verify_lines(events)
    assert f"new global cluster {gc.server_url} (kubeconfig: Secret cpaas-system/global-kubeconfig)" in lines
    for check in ("nodes: ", "kube-system Pods: ", "cpaas-system Pods: ",
                  "clusters.platform.tkestack.io/global: phase Running", "ClusterModule/global: phase Running"):
        assert any(line.startswith("ok   " + check) for line in lines), (check, lines)
    # the checks were read from the new cluster's API server, not from minialauda's
    read = {r.path for r in gc.recorder.requests if r.method == "GET"}
    assert {"/api/v1/nodes", "/api/v1/namespaces/cpaas-system/pods",
            "/apis/cluster.alauda.io/v1alpha1/clustermodules/global"} <= read
    assert not [r for r in sb.recorder.requests if r.path == "/api/v1/nodes"]
    text = "\n".join(lines)
    for value in [*canaries.values(), *unset.values(), gc.token]:
        assert value not in text
    # resumed: the state says verify finished, so it is skipped, not re-verified
    again, later = run(sb, loaded, tmp_path / "w", secrets=unset)
    assert again.run().complete
    assert {e.phase: e.outcome for e in later if isinstance(e, PhaseFinished)}["verify"] == "skipped"


@pytest.fixture
def dcs(tmp_path: Path, canaries: dict[str, str]) -> LoadedSpec:
    return load_spec(write(tmp_path / "spec.yaml", example("dcs")))


def fail(sb: Sandbox, loaded: LoadedSpec, workdir: Path, **options: object) -> WaitTimeout:
    eng, _ = run(sb, loaded, workdir, **options)
    with pytest.raises(WaitTimeout) as err:
        eng.run()
    return err.value


def assert_row(err: WaitTimeout, stall: stalls.Stall) -> None:
    assert f"stall: {stall.symptom}." in str(err)
    assert stall.look in str(err)


@pytest.mark.parametrize(("scenario", "stall", "seen"), [
    ("node-not-ready", stalls.KCP_NOT_READY, "Ready=False (KubeletNotReady: container runtime network "
                                             "not ready"),
    ("module-blocked", stalls.CLUSTERMODULE_UNHEALTHY, "ClusterModule global: Ready=False (ModuleNotReady: "
                                                       "module base is not healthy"),
])
def test_new_cluster_stalls_fail_fast_with_their_row(
        scenario: str, stall: stalls.Stall, seen: str, tmp_path: Path, dcs: LoadedSpec,
        sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(scenario=scenario)
    err = fail(sb, dcs, tmp_path / "w")
    assert isinstance(err, StallDiagnosed), f"waited for the deadline instead: {err}"
    assert err.exit_code == 16 and err.stall == stall.key
    assert err.grace == GRACE <= err.held < LONG  # the phase clock: it persisted the whole grace
    assert_row(err, stall)
    assert seen in str(err)
    state = json.loads((tmp_path / "w" / ".acp-install" / "state.json").read_text())
    assert state["phases"]["verify"]["status"] == "failed"
    assert state["phases"]["monitor"]["status"] == "finished"  # the installer itself succeeded


def test_verify_without_fail_fast_ends_at_the_deadline_with_the_row(
        tmp_path: Path, dcs: LoadedSpec, sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(scenario="module-blocked")
    # The blocked ClusterModule is written before the installer reports Success and never
    # clears, so however short the deadline, verify's first read already shows the row.
    err = fail(sb, dcs, tmp_path / "w", timeouts=deadlines(verify=1.0), wait_through_failures=True)
    assert not isinstance(err, StallDiagnosed) and err.exit_code == 12
    assert "did not pass the seed's Verification within 1s" in str(err)
    assert_row(err, stalls.CLUSTERMODULE_UNHEALTHY)


def test_image_pull_on_the_new_cluster_is_the_registry_row(
        tmp_path: Path, dcs: LoadedSpec, sandbox_factory: Callable[..., Sandbox]) -> None:
    """The installer stalls in add-ons; verify (run on its own, --global-kubeconfig) names the
    pulling Pods of the new cluster and the node-facing registry."""
    sb = sandbox_factory(scenario="image-pull")
    eng, _ = run(sb, dcs, tmp_path / "w")
    eng.run(until="control-plane")
    assert sb.global_cluster is not None
    gk = tmp_path / "global.kubeconfig"
    gk.write_text(sb.global_cluster.kubeconfig())
    from acp_install.clients.kubeconfigs import GlobalKubeconfig
    from acp_install.engine.verify import diagnosis, row_of, verification

    with GlobalKubeconfig(gk.read_text(), str(gk)).client() as kube:
        checks = verification(kube)
    assert row_of(checks) is stalls.PODS_PENDING
    text = diagnosis(checks, what="verify")
    assert "kube-system/kube-ovn-cni-" in text and "ImagePullBackOff" in text
    assert dcs.spec.node_registry_address in text


def test_verify_waits_for_the_secret_and_global_kubeconfig_overrides_it(
        tmp_path: Path, dcs: LoadedSpec, sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory()
    eng, _ = run(sb, dcs, tmp_path / "w")
    eng.run(until="monitor")
    sb.hold("Secret", "global-kubeconfig", "cpaas-system")
    sb.api.delete(next(rt for rt in sb.kinds.all() if rt.plural == "secrets"), "cpaas-system",
                  "global-kubeconfig")
    # held away: it cannot appear, whatever the deadline (the wait reads it once at least)
    err = fail(sb, dcs, tmp_path / "w", timeouts=deadlines(verify=0.5))
    assert "Secret cpaas-system/global-kubeconfig" in str(err) and "did not appear" in str(err)
    assert err.hint is not None and "--global-kubeconfig" in err.hint
    assert sb.global_cluster is not None
    gk = tmp_path / "global.kubeconfig"
    gk.write_text(sb.global_cluster.kubeconfig())
    eng, events = run(sb, dcs, tmp_path / "w", global_kubeconfig=gk)
    assert eng.run().complete
    assert f"new global cluster {sb.global_cluster.server_url} (kubeconfig: {gk})" in verify_lines(events)


def test_verify_command_once_with_the_row(tmp_path: Path, dcs: LoadedSpec,
                                          sandbox_factory: Callable[..., Sandbox],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from acp_install.cli.main import main

    sb = sandbox_factory(scenario="node-not-ready")
    kc = str(sb.kubeconfig_path)
    assert main(["verify", "--kubeconfig", kc]) == 10  # no new cluster yet
    assert "global-kubeconfig does not exist" in capsys.readouterr().err
    eng, _ = run(sb, dcs, tmp_path / "w")
    eng.run(until="monitor")
    assert main(["verify", "--kubeconfig", kc]) == 12
    captured = capsys.readouterr()
    assert "FAIL nodes: 2 of 3 Ready" in captured.out and "ok   ClusterModule/global" in captured.out
    assert f"stall: {stalls.KCP_NOT_READY.symptom}." in captured.err and "KubeletNotReady" in captured.err
    assert main(["verify", "--global-kubeconfig", str(tmp_path / "missing")]) == 2
    assert "--global-kubeconfig" in capsys.readouterr().err
