"""Seeded crash and resume: ``acp-install install`` SIGKILLed at a point chosen by a seed, then
resumed — the install completes with exactly the plan's objects, exactly one installer POST,
no guard or lock left behind, nothing in ``$TMPDIR`` and no canary anywhere.

The kill point is observed, never timed: a seed picks a phase and a number of API requests the
sandbox must have served after that phase started (the state file says which phase runs, the
sandbox recorder counts requests). Two seeds run in the normal suite; ``pytest -m sweep``
(run by ``.ci/run`` as its own job) runs many more. ``ACP_INSTALL_SWEEP_SEEDS`` sets how many.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from test_engine import assert_no_canaries, posts

from acp_install.cli.main import main
from acp_install.engine import PHASE_NAMES, read_state, state_path
from acp_install.plan import build_plan
from acp_install.spec.load import load_spec
from acp_install_sandbox import Sandbox

from specs import example, write

SWEEP = int(os.environ.get("ACP_INSTALL_SWEEP_SEEDS", "12"))


def _kill_point(seed: int) -> tuple[str, int]:
    rng = random.Random(seed)
    return rng.choice(PHASE_NAMES), rng.randint(0, 8)


def crash_and_resume(sb: Sandbox, tmp_path: Path, canaries: dict[str, str], seed: int) -> str:
    """One seeded kill and resume; returns where it was killed (for the failure message)."""
    phase, extra = _kill_point(seed)
    spec = write(tmp_path / "spec.yaml", example("dcs"))
    plan = build_plan(load_spec(spec))
    work, tmpdir = tmp_path / "work", tmp_path / "tmpdir"
    tmpdir.mkdir()
    env = {**os.environ, **canaries, "TMPDIR": str(tmpdir)}
    args = ["install", "-f", str(spec), "--kubeconfig", str(sb.kubeconfig_path), "--workdir", str(work),
            "--poll-interval", "0.1", "--timeout-scale", "0.05", "--accept-example-values"]
    proc = subprocess.Popen([sys.executable, "-m", "acp_install.cli.main", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    where = "never (it finished first)"
    try:
        start_count: int | None = None
        tick = threading.Event()
        while proc.poll() is None:
            state = read_state(work) if state_path(work).exists() else None
            phases = (state or {}).get("phases") or {}
            reached = phases.get(phase, {}).get("status") in ("running", "finished")
            if reached and start_count is None:
                start_count = sb.recorder.api_requests_served
            if start_count is not None and sb.recorder.api_requests_served >= start_count + extra:
                os.kill(proc.pid, signal.SIGKILL)
                running = next((n for n in PHASE_NAMES if phases.get(n, {}).get("status") == "running"), "?")
                where = f"in {running} ({phase} + {extra} requests)"
                break
            tick.wait(0.005)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert os.listdir(tmpdir) == [], where
    # resume in process, as the user would re-run the same command
    assert main(args) == 0, where
    state = read_state(work)
    assert state is not None and all(state["phases"][p]["status"] == "finished" for p in PHASE_NAMES), where
    assert state["installer"]["sent"] is True and not state["installer"].get("sending"), where
    assert len(posts(sb)) == 1, where
    ours = {(w.kind, w.name) for w in sb.recorder.writes if w.manager == "acp-install"}
    wanted = {(o["kind"], o["metadata"]["name"]) for o in
              [*plan.package_objects, *plan.appreleases, *plan.manifest,
               *([plan.extra_resources] if plan.extra_resources else [])]}
    assert ours == wanted, where  # the same final objects as an uninterrupted run
    from acp_install.engine.guard import GUARD_NAME, GUARD_NAMESPACE
    from acp_install_sandbox.kinds import BUILTIN

    cms = next(rt for rt in BUILTIN if rt.plural == "configmaps")
    assert sb.store.try_get(cms, GUARD_NAMESPACE, GUARD_NAME) is None, where  # no stale guard
    assert_no_canaries(state_path(work).read_text(), canaries)
    return where


@pytest.mark.parametrize("seed", [7, 20261203])
def test_crash_and_resume(sandbox_factory: Callable[..., Sandbox], tmp_path: Path,
                          canaries: dict[str, str], seed: int) -> None:
    crash_and_resume(sandbox_factory(scenario="happy", speed=50), tmp_path, canaries, seed)


@pytest.mark.sweep
@pytest.mark.parametrize("seed", range(SWEEP))
def test_crash_and_resume_sweep(sandbox_factory: Callable[..., Sandbox], tmp_path: Path,
                                canaries: dict[str, str], seed: int) -> None:
    crash_and_resume(sandbox_factory(scenario="happy", speed=50), tmp_path, canaries, 1000 + seed)
