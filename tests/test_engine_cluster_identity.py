"""A work directory remembers which cluster it installed into."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from acp_install import Engine, Timeouts, build_plan, load_spec
from acp_install.errors import StateError
from acp_install_sandbox import Sandbox

from specs import example, write


def test_resume_against_another_cluster_is_refused(tmp_path: Path, canaries: dict[str, str],
                                                   sandbox_factory: Callable[..., Sandbox],
                                                   ) -> None:
    loaded = load_spec(write(tmp_path / "spec.yaml", example("dcs")))
    plan = build_plan(loaded)
    first, second = (sandbox_factory() for _ in range(2))

    def engine(sb: Sandbox, **options: bool) -> Engine:
        return Engine(plan, kubeconfig=sb.kubeconfig_path, workdir=tmp_path / "w",
                      provider=loaded.provider, timeouts=Timeouts(scale=0.05), poll_interval=0.1,
                      **options)

    assert not engine(first).run(until="manifest").complete
    with pytest.raises(StateError, match="another cluster"):
        engine(second).run(until="manifest")
    assert not list(second.recorder.writes_of("AppRelease", "cluster-api-provider-dcs"))
    result = engine(second, restart=True).run(until="manifest")
    assert {p.name: p.outcome for p in result.phases}["manifest"] == "done"
    assert list(second.recorder.writes_of("AppRelease", "cluster-api-provider-dcs"))
    # resumed after the POST phase, the result still names the installer it talked to
    assert engine(second).run(until="installer").installer_address
    result = engine(second).run()
    assert result.complete and result.installer_address == f"{second.address}:{second.installer_port}"
