"""``acp-install kubeconfig`` and the kubeconfig resolution every cluster command shares."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from acp_install import Engine, Timeouts, build_plan, load_spec
from acp_install.cli.main import main
from acp_install.clients.kubeconfigs import resolve_kubeconfig
from acp_install.errors import UsageError
from acp_install_sandbox import Sandbox

from specs import example, write

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"


def provisioned(tmp_path: Path, sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    """A sandbox whose control plane the engine brought up (phase control-plane done)."""
    spec = write(tmp_path / "spec.yaml", example("dcs"))
    loaded = load_spec(spec)
    sb = sandbox_factory()
    engine = Engine(build_plan(loaded), kubeconfig=sb.kubeconfig_path, workdir=tmp_path / "w",
                    provider=loaded.provider, timeouts=Timeouts(scale=0.05), poll_interval=0.1)
    engine.run(until="control-plane")
    return sb


def test_kubeconfig_drives_kubectl_get_nodes(tmp_path: Path, canaries: dict[str, str],
                                             sandbox_factory: Callable[..., Sandbox],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    sb = provisioned(tmp_path, sandbox_factory)
    out = tmp_path / "global.kubeconfig"
    out.write_text("old, world-readable")
    out.chmod(0o644)
    assert main(["kubeconfig", "--kubeconfig", str(sb.kubeconfig_path), "--out", str(out)]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert str(out) in capsys.readouterr().err
    assert sb.global_cluster is not None
    server = yaml.safe_load(out.read_text())["clusters"][0]["cluster"]["server"]
    assert server == sb.global_cluster.server_url != sb.server_url
    got = subprocess.run([KUBECTL, "--kubeconfig", str(out), "--cache-dir", str(tmp_path / "c"),
                          "get", "nodes", "-o", "jsonpath={range .items[*]}{.metadata.name} "
                          "{.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}"],
                         capture_output=True, text=True, timeout=60)
    assert got.returncode == 0, got.stderr
    lines = got.stdout.split()
    names = lines[0::2]
    assert len(names) == 3 and set(lines[1::2]) == {"True"}  # the example's 3 control-plane nodes
    # standard output: the same kubeconfig, nothing else
    assert main(["kubeconfig", "--kubeconfig", str(sb.kubeconfig_path)]) == 0
    assert capsys.readouterr().out == out.read_text()


def test_kubeconfig_before_the_control_plane(sandbox_factory: Callable[..., Sandbox],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    sb = sandbox_factory()
    assert main(["kubeconfig", "--kubeconfig", str(sb.kubeconfig_path)]) == 10
    err = capsys.readouterr().err
    assert "cpaas-system/global-kubeconfig does not exist" in err and "Traceback" not in err


def test_resolution_order_is_kubectls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    with pytest.raises(UsageError) as err:
        resolve_kubeconfig(None)
    assert "~/.kube/config" in str(err.value) and err.value.exit_code == 2
    (home / ".kube").mkdir(parents=True)
    (home / ".kube" / "config").write_text("{}")
    assert resolve_kubeconfig(None) == str(home / ".kube" / "config")
    listed = os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")])
    monkeypatch.setenv("KUBECONFIG", listed)
    assert resolve_kubeconfig(None) == listed  # a path list, merged by the client like kubectl
    assert resolve_kubeconfig("flag") == "flag"


def test_kubeconfig_found_through_env_and_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               sandbox_factory: Callable[..., Sandbox],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    sb = sandbox_factory()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    assert main(["kubeconfig"]) == 2
    assert "no kubeconfig" in capsys.readouterr().err
    # $KUBECONFIG as a list (a missing file first): the client merges like kubectl
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(tmp_path / "missing"), str(sb.kubeconfig_path)]))
    assert main(["kubeconfig"]) == 10  # reached minialauda: no cluster there yet
    assert "global-kubeconfig does not exist" in capsys.readouterr().err
    monkeypatch.delenv("KUBECONFIG")
    (tmp_path / "home" / ".kube").mkdir(parents=True)
    shutil.copy(sb.kubeconfig_path, tmp_path / "home" / ".kube" / "config")  # the seed's Step 2
    assert main(["kubeconfig"]) == 10
    assert "global-kubeconfig does not exist" in capsys.readouterr().err
