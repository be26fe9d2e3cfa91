"""Seeded fault injection on the sandbox's API server and installer (``Sandbox.chaos``).

Transient faults (a limited episode of 503 / 500 / 429 with Retry-After / connection resets /
slow answers / dropped watches) → the install completes with exactly one installer request.
Persistent faults → the documented exit code (docs/exit-codes.md) and a message saying what
failed, still with at most one request. Every run carries the canary secrets; its events,
state file and error text are scanned for them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from test_engine import Recorded, assert_no_canaries, engine, fast, posts

from acp_install.engine import Timeouts, state_path
from acp_install.errors import AcpInstallError
from acp_install.plan import InstallPlan, build_plan
from acp_install.spec.load import LoadedSpec, load_spec
from acp_install_sandbox import Sandbox

from specs import example, write

SWEEP = int(os.environ.get("ACP_INSTALL_SWEEP_SEEDS", "12"))


@pytest.fixture
def dcs_spec(tmp_path: Path, canaries: dict[str, str]) -> LoadedSpec:
    return load_spec(write(tmp_path / "spec.yaml", example("dcs")))


@pytest.fixture
def plan(dcs_spec: LoadedSpec) -> InstallPlan:
    return build_plan(dcs_spec)


def _run(sb: Sandbox, plan: InstallPlan, spec: LoadedSpec, work: Path) -> tuple[bool, Recorded, str]:
    eng, rec = engine(plan, sb, work, spec, timeouts=fast())
    try:
        return eng.run().complete, rec, ""
    except AcpInstallError as err:
        return False, rec, f"{type(err).__name__} {err.exit_code}: {err}"


def transient(sandbox_factory: Callable[..., Sandbox], plan: InstallPlan, spec: LoadedSpec, tmp_path: Path,
              canaries: dict[str, str], seed: int, installer: bool) -> None:
    sb = sandbox_factory(scenario="happy", speed=50)
    chaos = sb.chaos(seed=seed, rate=0.15, limit=6, delay=0.05, installer=installer)
    complete, rec, error = _run(sb, plan, spec, tmp_path / "w")
    assert complete, f"seed {seed}: {error}; injected {chaos.injected}"
    assert len(posts(sb)) == 1, chaos.injected
    assert_no_canaries(rec.text() + state_path(tmp_path / "w").read_text() + error, canaries)


@pytest.mark.parametrize(("seed", "installer"), [(3, False), (11, True)], ids=["api", "installer"])
def test_transient_faults_complete_with_one_post(sandbox_factory: Callable[..., Sandbox], plan: InstallPlan,
                                                 dcs_spec: LoadedSpec, tmp_path: Path, canaries: dict[str, str],
                                                 seed: int, installer: bool) -> None:
    transient(sandbox_factory, plan, dcs_spec, tmp_path, canaries, seed, installer)


@pytest.mark.sweep
@pytest.mark.parametrize("seed", range(SWEEP))
@pytest.mark.parametrize("installer", [False, True], ids=["api", "installer"])
def test_transient_faults_sweep(sandbox_factory: Callable[..., Sandbox], plan: InstallPlan, dcs_spec: LoadedSpec,
                                tmp_path: Path, canaries: dict[str, str], seed: int, installer: bool) -> None:
    transient(sandbox_factory, plan, dcs_spec, tmp_path, canaries, 100 + seed, installer)


@pytest.mark.parametrize(("actions", "installer", "code", "needle"), [
    (("503",), False, 10, "503"),
    (("reset",), False, 10, "failed"),
    (("503",), True, 11, "installer"),
], ids=["api-503", "api-reset", "installer-503"])
def test_persistent_faults_end_with_their_code(sandbox_factory: Callable[..., Sandbox], plan: InstallPlan,
                                               dcs_spec: LoadedSpec, tmp_path: Path, canaries: dict[str, str],
                                               actions: tuple[str, ...], installer: bool, code: int,
                                               needle: str) -> None:
    sb = sandbox_factory(scenario="happy", speed=50)
    # every request after the first phase fails, for good
    sb.chaos(seed=1, rate=1.0, actions=actions, installer=installer)
    short = Timeouts(scale=0.01, installer_stall=2.0, post_grace=1.0)  # minutes of deadlines in a second
    if installer:  # nothing before the installer phase is faulted: its 3 s deadline is the wait
        short = short.with_overrides(installer=100)
    eng, rec = engine(plan, sb, tmp_path / "w", dcs_spec, timeouts=short)
    with pytest.raises(AcpInstallError) as err:
        eng.run()
    assert err.value.exit_code == code, str(err.value)
    assert needle in str(err.value).lower() or needle in str(err.value)
    assert len(posts(sb)) <= 1
    assert_no_canaries(rec.text() + str(err.value), canaries)


@pytest.mark.parametrize("phase", ["control-plane", "monitor"])
def test_api_server_restarted_mid_install(sandbox_factory: Callable[..., Sandbox], plan: InstallPlan,
                                          dcs_spec: LoadedSpec, tmp_path: Path, canaries: dict[str, str],
                                          phase: str) -> None:
    """Every connection and watch breaks at once, the port refuses for a moment; the run
    reconnects and completes with one installer request."""
    import threading

    from acp_install.engine import read_state

    sb = sandbox_factory(scenario="happy", speed=50)
    hold = sb.hold("KubeadmControlPlane") if phase == "control-plane" else None
    work = tmp_path / "w"
    result: dict[str, object] = {}

    def run() -> None:
        result["complete"], result["rec"], result["error"] = _run(sb, plan, dcs_spec, work)

    thread = threading.Thread(target=run)
    thread.start()
    tick = threading.Event()
    for _ in range(6000):  # observe the run's state, then restart under it
        state = read_state(work) if state_path(work).exists() else None
        if state and (state["phases"].get(phase) or {}).get("status") == "running":
            break
        assert thread.is_alive(), result.get("error")
        tick.wait(0.01)
    sb.restart_api_server()
    if hold is not None:
        sb.release(hold)
    thread.join(timeout=120)
    assert result["complete"] is True, result["error"]
    assert len(posts(sb)) == 1
    rec = result["rec"]
    assert isinstance(rec, Recorded)
    assert_no_canaries(rec.text() + state_path(work).read_text(), canaries)
