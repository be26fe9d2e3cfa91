"""Step 3 on the sandbox: an AppRelease that reports failure fails ``packages`` at once.

The sandbox's AppRelease controller reports ``Failed`` (reason ``ChartNotFound``) for a chart
no installed distribution declares; here the provider's declaration is taken away from a
running sandbox, then given back to show that a re-run continues once the cause is fixed.
The packages deadline is an hour: the run ends because the failure is seen, not because a
timer ran out (a thread join is only the hang guard).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from acp_install import build_plan, load_spec
from acp_install.engine import Engine, PhaseFinished, Timeouts, read_state
from acp_install.errors import PackageError
from acp_install_sandbox import Sandbox

from .specs import example, write

HOUR = 3600.0


def _run(eng: Engine, until: str) -> tuple[Any, BaseException | None]:
    out: dict[str, Any] = {}

    def go() -> None:
        try:
            out["result"] = eng.run(until=until)
        except BaseException as err:
            out["error"] = err

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    thread.join(120)  # hang guard only
    if thread.is_alive():
        eng.cancel()
        thread.join(30)
        raise AssertionError("the run did not end: the failure was not seen")
    return out.get("result"), out.get("error")


def test_apprelease_failure_fails_packages_at_once_with_its_reason(
        sandbox_factory: Callable[..., Sandbox], tmp_path: Path, canaries: dict[str, str]) -> None:
    loaded = load_spec(write(tmp_path / "spec.yaml", example("dcs")))
    plan = build_plan(loaded)
    sb = sandbox_factory()
    full = sb.catalog.declarations
    provider_release = plan.appreleases[-1]["metadata"]["name"]
    sb.catalog.declarations = attrs.evolve(
        full, providers={k: v for k, v in full.providers.items()
                         if not any(c.release == provider_release for c in v.charts)})
    timeouts = Timeouts().with_overrides(packages=HOUR)

    def engine() -> tuple[Engine, list[Any]]:
        eng = Engine(plan, provider=loaded.provider, kubeconfig=sb.kubeconfig_path,
                     workdir=tmp_path / "work", timeouts=timeouts, poll_interval=0.1, resync=HOUR)
        events: list[Any] = []
        eng.subscribe(events.append)
        return eng, events

    eng, _events = engine()
    _result, error = _run(eng, "packages")
    assert isinstance(error, PackageError), error
    assert error.exit_code == 14
    assert f"AppRelease {provider_release} reports failure" in error.message
    assert "ChartNotFound" in error.message and provider_release in error.message
    state = read_state(tmp_path / "work")
    assert state is not None
    assert state["phases"]["packages"]["status"] == "failed"
    assert "PackageError" in state["phases"]["packages"]["error"]
    # the manifest was never applied: the run stopped in packages
    assert not [w for w in sb.recorder.writes if w.manager == "acp-install" and w.kind == "Cluster"]

    # the cause fixed (the chart is served again): the controller retries, the re-run goes on
    sb.catalog.declarations = full
    eng, events = engine()
    result, error = _run(eng, "packages")
    assert error is None, error
    assert result is not None
    assert [(e.phase, e.outcome) for e in events if isinstance(e, PhaseFinished)][-1][0] == "packages"


def test_apprelease_status_reading() -> None:
    from acp_install.engine.appreleases import failure, installed

    def ar(status: dict[str, Any], generation: int = 1) -> dict[str, Any]:
        return {"metadata": {"name": "x", "generation": generation}, "status": status}

    failed = ar({"observedGeneration": 1, "phase": "Failed", "conditions": [
        {"type": "Ready", "status": "False", "reason": "ChartNotFound", "message": "no chart"}]})
    assert failure(failed) == "ChartNotFound: no chart"
    assert not installed(failed)
    # a failure of an older generation says nothing about the spec just applied
    assert failure({**failed, "metadata": {"name": "x", "generation": 2}}) is None
    assert failure(ar({"phase": "Pending", "conditions": [
        {"type": "Ready", "status": "False", "reason": "Installing"}]})) is None
    assert failure(ar({"charts": [{"releaseName": "a", "status": "Failed", "message": "boom"}]})) \
        == "chart a: boom"
    assert installed(ar({"phase": "Ready"}))
    assert installed(ar({"conditions": [{"type": "Ready", "status": "True"}]}))
    assert not installed(ar({})) and failure(None) is None and not installed(None)
