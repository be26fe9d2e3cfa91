"""handoff-check against a cluster that plays the final global cluster (the sandbox)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from acp_install import Engine, Timeouts, build_plan, load_spec
from acp_install.cli.main import main
from acp_install_sandbox import Sandbox

from specs import example, write


def test_handoff_gate(tmp_path: Path, canaries: dict[str, str],
                      sandbox_factory: Callable[..., Sandbox],
                      capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path / "spec.yaml", example("dcs"))
    loaded = load_spec(spec)
    sb = sandbox_factory(speed=50)
    engine = Engine(build_plan(loaded), kubeconfig=sb.kubeconfig_path, workdir=tmp_path / "w",
                    provider=loaded.provider, timeouts=Timeouts(scale=0.05), poll_interval=0.1)
    assert engine.run().complete
    kubeconfig = str(sb.kubeconfig_path)
    # pointed at minialauda itself (it runs the installer): refused, never "delete it"
    assert main(["handoff-check", "-f", str(spec), "--kubeconfig", kubeconfig]) == 13
    assert "this is the bootstrap cluster" in capsys.readouterr().err
    # the sandbox then plays the final global cluster: no installer Pod there
    subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "-n", "cpaas-system", "delete", "pod",
                    "-l", "service_name=cpaas-installer"], check=True, capture_output=True)
    assert main(["handoff-check", "-f", str(spec), "--kubeconfig", kubeconfig]) == 0
    assert "handoff gate open" in capsys.readouterr().out

    subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "-n", "cpaas-system", "delete", "secret",
                    "global-secret"], check=True, capture_output=True)
    assert main(["handoff-check", "-f", str(spec), "--kubeconfig", kubeconfig]) == 13
    err = capsys.readouterr().err
    assert "secrets/global-secret" in err and "missing in the final global cluster" in err
    for value in canaries.values():
        assert value not in err
