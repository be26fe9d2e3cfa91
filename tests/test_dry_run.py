"""``install --dry-run`` / ``diff`` against the sandbox after a partial install.

The sandbox honours ``dryRun=All`` as a real API server does (validates, computes, stores
nothing, bumps no resourceVersion), so the test can check both sides: the diff names exactly
the field the spec changed, and every live object's resourceVersion and the sandbox's write
record are the same before and after.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from acp_install.cli.main import main
from acp_install.testing.canaries import Canaries, new_canary
from acp_install_sandbox import Sandbox

from specs import example, setpath, write

FAST = ["--poll-interval", "0.1", "--timeout-scale", "0.05", "--accept-example-values"]


def _ours(sb: Sandbox) -> int:
    """How many writes acp-install made (the sandbox's simulated controllers write too)."""
    return sum(1 for w in sb.recorder.writes if w.manager == "acp-install")


def _versions(sb: Sandbox, kc: str) -> dict[str, str]:
    import subprocess

    out = subprocess.run(["kubectl", "--kubeconfig", kc, "get", "-A", "-o", "json",
                          "clusters.cluster.x-k8s.io,kubeadmcontrolplanes.controlplane.cluster.x-k8s.io,"
                          "secrets,configmaps,appreleases"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    # the objects acp-install applied (the sandbox's own, e.g. the new cluster's kubeconfig
    # Secret, come and go with its simulation)
    ours = {(w.kind, w.name) for w in sb.recorder.writes if w.manager == "acp-install"}
    # Cluster and KubeadmControlPlane: their status is the simulated controllers' to move, so
    # their spec is compared instead of their resourceVersion
    return {f"{o['kind']}/{o['metadata'].get('namespace')}/{o['metadata']['name']}":
            json.dumps(o["spec"], sort_keys=True) if o["kind"] in ("Cluster", "KubeadmControlPlane")
            else o["metadata"]["resourceVersion"]
            for o in json.loads(out.stdout)["items"] if (o["kind"], o["metadata"]["name"]) in ours}


@pytest.mark.parametrize("how", ["diff", "install"])
def test_dry_run_after_a_partial_install_shows_exactly_the_changed_field(
        how: str, sandbox_factory: Callable[..., Sandbox], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    values = {"ACP_ADMIN_PASSWORD": new_canary(), "DCS_AUTH_KEY": new_canary()}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    sb = sandbox_factory(scenario="happy", speed=1000)
    # the simulated controllers leave the applied objects alone, so that any resourceVersion
    # that moves was moved by the dry run
    for kind in ("Cluster", "KubeadmControlPlane", "DCSCluster", "DCSMachineTemplate", "DCSIpHostnamePool"):
        sb.hold(kind)
    kc = str(sb.kubeconfig_path)
    data = example("dcs")
    spec = write(tmp_path / "spec.yaml", data)
    work = str(tmp_path / "work")
    assert main(["install", "-f", str(spec), "--kubeconfig", kc, "--workdir", work, "--until", "manifest",
                 "--no-color", *FAST]) == 0
    capsys.readouterr()
    setpath(data, "platformHost", "platform2.example.com")
    write(spec, data)
    before_rv, before_writes = _versions(sb, kc), _ours(sb)
    assert "KubeadmControlPlane/cpaas-system/global-kcp" in before_rv and len(before_rv) >= 5
    argv = ["diff"] if how == "diff" else ["install", "--dry-run"]
    assert main([*argv, "-f", str(spec), "--kubeconfig", kc, "--workdir", work, "-o", "json",
                 "--accept-example-values"]) == 0
    out = capsys.readouterr().out
    scan = Canaries(spec, {f"env ${k}": v for k, v in values.items()})
    scan.assert_absent(out, "dry-run output")
    result: dict[str, Any] = json.loads(out.splitlines()[-1])  # after the spec's finding lines
    assert _versions(sb, kc) == before_rv and _ours(sb) == before_writes  # nothing changed
    would = {p["phase"]: p["would"] for p in result["phases"]}
    assert would["bootstrap"] == would["packages"] == would["manifest"] == "skip"
    assert would["control-plane"] == would["installer"] == "run"
    assert result["objects"] and {o["phase"] for o in result["objects"]} == {"extra-resources"}
    assert result["installerRequest"]["sent"] is False
    text = json.dumps(result["installerRequest"]["payload"])
    assert "platform2.example.com" in text and "canary" not in text
    # the manifest phase is finished: run the diff as if it were not, to see the changed field
    state = Path(work) / ".acp-install" / "state.json"
    st = json.loads(state.read_text())
    del st["phases"]["manifest"]
    state.write_text(json.dumps(st))
    changed_key = new_canary()
    monkeypatch.setenv("DCS_AUTH_KEY", changed_key)  # a changed secret: shown masked
    assert main(["diff", "-f", str(spec), "--kubeconfig", kc, "--workdir", work, "-o", "json",
                 "--accept-example-values"]) == 0
    out = capsys.readouterr().out
    Canaries(spec, {"the changed $DCS_AUTH_KEY": changed_key, **{f"env ${k}": v for k, v in values.items()}}
             ).assert_absent(out, "dry-run output")
    result = json.loads(out.splitlines()[-1])
    assert _versions(sb, kc) == before_rv and _ours(sb) == before_writes
    changed = {o["object"]: o for o in result["objects"] if o["action"] == "change"}
    secret = changed.pop("Secret/global-secret")
    assert secret["changes"] and all(c["old"] == c["new"] == "(secret value, not shown)"
                                     for c in secret["changes"])
    assert "KubeadmControlPlane/global-kcp" in changed, result["objects"]
    for o in changed.values():  # exactly the field the spec changed, old and new value
        assert o["changes"] and all("platform2.example.com" in json.dumps(c["new"])
                                    and "platform.example.com" in json.dumps(c["old"]) for c in o["changes"]), o
    unchanged = [o for o in result["objects"] if o["action"] == "unchanged" and o["phase"] == "manifest"]
    assert unchanged


def test_dry_run_text_and_refusals(sandbox_factory: Callable[..., Sandbox], tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ACP_ADMIN_PASSWORD", "admin-password-canary-1")
    monkeypatch.setenv("DCS_AUTH_KEY", "dcs-auth-key-canary-2")
    sb = sandbox_factory(scenario="happy", speed=1000)
    spec = write(tmp_path / "spec.yaml", example("dcs"))
    assert main(["diff", "-f", str(spec), "--kubeconfig", str(sb.kubeconfig_path), "--workdir",
                 str(tmp_path / "w"), "--accept-example-values"]) == 0
    out = capsys.readouterr().out
    assert "nothing was changed on the cluster" in out and "canary" not in out
    assert "+ AppRelease/" in out and "would be created" in out and "would be sent by phase installer" in out
    assert not (tmp_path / "w" / ".acp-install").exists()  # not even a state file
    assert sb.recorder.writes == [] or all(w.manager != "acp-install" for w in sb.recorder.writes)
    assert main(["install", "--dry-run", "--sandbox"]) == 2
    assert "--dry-run compares with a cluster" in capsys.readouterr().err
