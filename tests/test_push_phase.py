"""Step 3's push and chart check against the sandbox's registry (OCI distribution API).

Pushes use the sandbox's stand-in packtool (``acp_install_sandbox.packtool``, a test double
speaking the OCI push API), never the real one. Every registry is the sandbox's, on loopback.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from acp_install import build_plan, load_spec
from acp_install.engine import Engine, EngineWarning, PhaseFinished, PhaseProgress, Timeouts, to_dict
from acp_install.errors import PackageError
from acp_install.plan import InstallPlan
from acp_install.testing.canaries import new_canary
from acp_install_sandbox import Sandbox, make_pack, write_packtool

from .specs import example, setpath, write


def _spec(tmp_path: Path, **changes: Any) -> dict[str, Any]:
    data = example("dcs")
    data["packages"]["kubeadm"]["path"] = str(tmp_path / "packs" / "kubeadm.tgz")
    data["packages"]["provider"]["path"] = str(tmp_path / "packs" / "provider.tgz")
    data["packages"]["packtool"] = str(write_packtool(tmp_path / "core" / "installer" / "res" / "amd64"))
    for dotted, value in changes.items():
        setpath(data, dotted.replace("__", "."), value)
    return data


def _packs(plan: InstallPlan) -> None:
    """A fixture package per AppRelease chart, where the spec says the package is."""
    for pkg in plan.packages:
        make_pack(pkg.tarball, [(pkg.chart, pkg.version)])


def _engine(tmp_path: Path, data: dict[str, Any], sb: Sandbox, timeouts: Timeouts | None = None,
            **kw: Any) -> tuple[Engine, InstallPlan, list[Any]]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    loaded = load_spec(write(tmp_path / "spec.yaml", data))
    plan = build_plan(loaded)
    eng = Engine(plan, provider=loaded.provider, kubeconfig=sb.kubeconfig_path,
                 workdir=tmp_path / "work", poll_interval=0.1, resync=2.0,
                 timeouts=timeouts or Timeouts(scale=0.05), **kw)
    events: list[Any] = []
    eng.subscribe(events.append)
    return eng, plan, events


def _outcomes(events: list[Any]) -> dict[str, str]:
    return {e.phase: e.outcome for e in events if isinstance(e, PhaseFinished)}


def _tags(sb: Sandbox, repo: str) -> list[str] | None:
    return sb.registry.tag_list(repo)


def test_push_with_the_stand_in_packtool_then_install(
        sandbox_factory: Callable[..., Sandbox], tmp_path: Path, canaries: dict[str, str]) -> None:
    sb = sandbox_factory(registry="empty")
    eng, plan, events = _engine(tmp_path, _spec(tmp_path), sb)
    _packs(plan)
    assert all(_tags(sb, p.chart) is None for p in plan.packages)

    result = eng.run()
    assert result.complete
    assert _outcomes(events)["push"] == "done"
    assert sorted(sb.registry.pushed) == sorted((p.chart, p.version) for p in plan.packages)
    # packtool's own output was streamed as progress of the push phase
    said = [e.message for e in events if isinstance(e, PhaseProgress) and e.phase == "push"]
    for pkg in plan.packages:
        assert f"packtool: pushed {pkg.chart}:{pkg.version}" in said

    # a re-run with --restart checks the registry again and pushes nothing twice
    again, _plan, events2 = _engine(tmp_path, _spec(tmp_path), sb, restart=True)
    again.run(until="push")
    assert _outcomes(events2)["push"] == "already-done"
    assert len(sb.registry.pushed) == len(plan.packages)


def test_a_missing_chart_stops_before_any_apprelease(
        sandbox_factory: Callable[..., Sandbox], tmp_path: Path, canaries: dict[str, str]) -> None:
    sb = sandbox_factory(registry="empty")
    eng, plan, _events = _engine(tmp_path, _spec(tmp_path, packages__push=False), sb)
    with pytest.raises(PackageError) as err:
        eng.run()
    assert err.value.exit_code == 14
    for pkg in plan.packages:
        assert f"chart {pkg.chart} version {pkg.version}" in err.value.message
    assert sb.registry_address in err.value.message
    assert "no AppRelease was applied" in err.value.message
    assert not [w for w in sb.recorder.writes if w.kind == "AppRelease"]

    # the chart present at another version only: the tags that are there are named
    kubeadm = plan.packages[0]
    sb.registry.push_chart(kubeadm.chart, "v0.0.1")
    eng, _plan, _events = _engine(tmp_path, _spec(tmp_path, packages__push=False), sb)
    with pytest.raises(PackageError) as err:
        eng.run()
    assert f"chart {kubeadm.chart} version {kubeadm.version} (AppRelease " \
           f"{kubeadm.release_name}): not in {sb.registry_address} (tags there: v0.0.1)" \
           in err.value.message


def test_a_package_file_that_is_not_there_is_named(
        sandbox_factory: Callable[..., Sandbox], tmp_path: Path, canaries: dict[str, str]) -> None:
    sb = sandbox_factory(registry="empty")
    eng, plan, _events = _engine(tmp_path, _spec(tmp_path), sb)
    with pytest.raises(PackageError) as err:
        eng.run()
    assert f"the package that delivers it, {plan.packages[0].tarball}, does not exist" \
        in err.value.message
    assert not [w for w in sb.recorder.writes if w.kind == "AppRelease"]


def test_a_packtool_failure_is_explained_in_its_own_words(
        sandbox_factory: Callable[..., Sandbox], tmp_path: Path, canaries: dict[str, str]) -> None:
    sb = sandbox_factory(registry="empty")
    eng, plan, events = _engine(tmp_path, _spec(tmp_path), sb)
    _packs(plan)
    Path(plan.packages[-1].tarball).write_text("this is not a package\n")
    with pytest.raises(PackageError) as err:
        eng.run()
    message = err.value.message
    assert f"packtool pack push of {plan.packages[-1].tarball} to {sb.registry_address} failed " \
           "(exit 1); packtool said:" in message
    assert "| error: " in message and "not a package" in message
    # the first package was pushed, the state says where it failed; no AppRelease applied
    assert sb.registry.pushed == [(plan.packages[0].chart, plan.packages[0].version)]
    assert not [w for w in sb.recorder.writes if w.kind == "AppRelease"]
    assert any(isinstance(e, PhaseProgress) and e.message.startswith("packtool: error:")
               for e in events)

    # fixed: the re-run pushes only what is still missing
    make_pack(plan.packages[-1].tarball, [(plan.packages[-1].chart, plan.packages[-1].version)])
    eng, _plan, events = _engine(tmp_path, _spec(tmp_path), sb)
    assert eng.run(until="packages") is not None
    assert len(sb.registry.pushed) == len(plan.packages)


@pytest.mark.parametrize("scheme", ["bearer", "basic"])
def test_the_registry_is_asked_as_its_challenge_says(
        sandbox_factory: Callable[..., Sandbox], tmp_path: Path, canaries: dict[str, str],
        monkeypatch: pytest.MonkeyPatch, scheme: str) -> None:
    password = new_canary()
    monkeypatch.setenv("REGISTRY_PW", password)
    sb = sandbox_factory(registry_auth=("reg-admin", password), registry_auth_scheme=scheme)
    account = {"username": "reg-admin", "password": {"env": "REGISTRY_PW"}}
    eng, _plan, events = _engine(tmp_path, _spec(tmp_path, credentials__registry=account), sb)
    eng.run(until="push")
    assert _outcomes(events)["push"] == "already-done"  # preloaded: found, with the account

    # the wrong password: refused, said so, and the value is nowhere
    monkeypatch.setenv("REGISTRY_PW", "not-" + password)
    eng, _plan, events = _engine(tmp_path / "2", _spec(tmp_path, credentials__registry=account), sb)
    with pytest.raises(PackageError) as err:
        eng.run(until="push")
    assert "refused the registry account of the spec" in err.value.message
    text = str(err.value) + json.dumps([to_dict(e) for e in events])
    assert password not in text and "not-" + password not in text


def test_basic_auth_without_an_account_names_the_field(
        sandbox_factory: Callable[..., Sandbox], tmp_path: Path, canaries: dict[str, str]) -> None:
    sb = sandbox_factory(registry_auth=("reg-admin", "pw"), registry_auth_scheme="basic")
    eng, _plan, _events = _engine(tmp_path, _spec(tmp_path), sb)
    with pytest.raises(PackageError) as err:
        eng.run(until="push")
    assert "credentials.registry" in str(err.value)


def test_a_registry_that_does_not_answer_is_a_package_error(
        sandbox_factory: Callable[..., Sandbox], tmp_path: Path, canaries: dict[str, str]) -> None:
    sb = sandbox_factory()
    sb._registry_server.stop()  # type: ignore[union-attr]  # the registry is down
    # the push deadline, one second: the retries end there (at most two minutes otherwise)
    # (preflight's own registry check is skipped: this is about the push phase's answer)
    eng, _plan, events = _engine(tmp_path, _spec(tmp_path), sb, skip_preflight=("local-registry",),
                                 timeouts=Timeouts(scale=0.05).with_overrides(push=20))
    with pytest.raises(PackageError) as err:
        eng.run(until="push")
    assert f"the local registry {sb.registry_address} does not answer" in err.value.message
    assert any(isinstance(e, EngineWarning) and "retrying" in e.message for e in events)
