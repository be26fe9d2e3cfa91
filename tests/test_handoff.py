"""handoff-check against the new global cluster the sandbox serves.

The final cluster is found as phase verify finds it: the Cluster API kubeconfig Secret in
minialauda (``--kubeconfig``, resolved as kubectl does), or ``--global-kubeconfig FILE``.
"""

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
                      capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    spec = write(tmp_path / "spec.yaml", example("dcs"))
    loaded = load_spec(spec)
    sb = sandbox_factory()
    # before the control plane: no final cluster to look at (and nothing to delete)
    assert main(["handoff-check", "-f", str(spec), "--kubeconfig", str(sb.kubeconfig_path)]) == 10
    assert "global-kubeconfig" in capsys.readouterr().err
    engine = Engine(build_plan(loaded), kubeconfig=sb.kubeconfig_path, workdir=tmp_path / "w",
                    provider=loaded.provider, timeouts=Timeouts(scale=0.05), poll_interval=0.1)
    assert engine.run().complete
    kubeconfig = str(sb.kubeconfig_path)
    # the default source: the new cluster's kubeconfig Secret in minialauda ($KUBECONFIG here)
    monkeypatch.setenv("KUBECONFIG", kubeconfig)
    assert main(["handoff-check", "-f", str(spec)]) == 0
    assert "handoff gate open" in capsys.readouterr().out
    # minialauda given as the final cluster (it runs the installer): refused, never "delete it"
    assert main(["handoff-check", "-f", str(spec), "--global-kubeconfig", kubeconfig]) == 13
    assert "this is the bootstrap cluster" in capsys.readouterr().err
    # an imported object missing on the new cluster keeps the bootstrap host
    assert sb.global_cluster is not None
    gk = tmp_path / "global.kubeconfig"
    assert main(["kubeconfig", "--out", str(gk)]) == 0
    subprocess.run(["kubectl", "--kubeconfig", str(gk), "-n", "cpaas-system", "delete", "secret",
                    "global-secret"], check=True, capture_output=True)
    for args in (["--kubeconfig", kubeconfig], ["--global-kubeconfig", str(gk)]):
        assert main(["handoff-check", "-f", str(spec), *args]) == 13
        err = capsys.readouterr().err
        assert "secrets/global-secret" in err and "missing in the final global cluster" in err
        for value in canaries.values():
            assert value not in err
    # still on minialauda: only the new cluster counts
    got = subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "-n", "cpaas-system", "get", "secret",
                          "global-secret"], capture_output=True, text=True)
    assert got.returncode == 0
