"""Version inputs agree (issue #11): the seed's "Compatibility and Version Inputs" table, the OS
Support Matrix and the providers' version gates, as spec findings (rule ``versions``) that
``acp-install preflight`` lists again as its ``versions`` check, plus the Kubernetes 1.35
kubelet patch rule checked on the rendered plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest

from acp_install import build_plan, load_spec
from acp_install.cli.main import main
from acp_install.clients.kube import KubeClient
from acp_install.engine.infra import KUBELET_135_KEY, run_preflight
from acp_install.errors import SpecError
from acp_install.plan import InstallPlan
from acp_install_sandbox import Sandbox

from specs import example, setpath, write


def dcs(tmp_path: Path, k8s: str, provider: str) -> dict[str, Any]:
    data = setpath(example("dcs"), "k8sVersion", k8s)
    return setpath(data, "packages.provider.version", provider)


def version_errors(tmp_path: Path, data: dict[str, Any]) -> list[Any]:
    with pytest.raises(SpecError) as err:
        load_spec(write(tmp_path / "spec.yaml", data))
    return [f for f in err.value.findings if f.rule == "versions" and f.severity == "error"]


def test_acp_432_and_later_needs_dcs_provider_1_0_21(tmp_path: Path, canaries: dict[str, str]) -> None:
    # v1.34.5-3 is the OS image of ACP v4.3.2, v1.35.6-acp.1 the one of v4.4.0
    for k8s in ("v1.34.5-3", "v1.35.6-acp.1"):
        found = version_errors(tmp_path, dcs(tmp_path, k8s, "v1.0.20"))
        assert len(found) == 1 and found[0].severity == "error"
        assert found[0].path == "packages.provider.version"
        assert "requires DCS provider v1.0.21 or later" in found[0].message
        assert 'row "Infrastructure provider chart version"' in found[0].message
    assert not [w for w in load_spec(write(tmp_path / "ok.yaml", dcs(tmp_path, "v1.34.5-3", "v1.0.21"))).warnings
                if w.rule == "versions"]


def test_dcs_provider_1_0_21_is_not_paired_with_an_older_os_image(tmp_path: Path,
                                                                 canaries: dict[str, str]) -> None:
    found = version_errors(tmp_path, dcs(tmp_path, "v1.34.5-1", "v1.0.22"))  # ACP v4.3.1
    assert len(found) == 1 and "must not be paired" in found[0].message and "v4.3.1" in found[0].message
    # an older provider with that older image is the documented pairing
    loaded = load_spec(write(tmp_path / "ok.yaml", dcs(tmp_path, "v1.34.5-1", "v1.0.18")))
    assert not [w for w in loaded.warnings if w.path == "packages.provider.version"]


def test_pool_managed_persistent_disks_need_dcs_provider_1_0_16(tmp_path: Path,
                                                               canaries: dict[str, str]) -> None:
    data = dcs(tmp_path, "v1.33.7-4", "v1.0.15")
    assert data["platform"]["controlPlane"]["pool"][0].get("persistentDisk")
    found = version_errors(tmp_path, data)
    assert [f.message for f in found if "persistent disks" in f.message]
    assert "v1.0.16 or later" in found[0].message


def test_a_k8s_version_of_no_os_image_is_a_warning_naming_the_table_rows(
        tmp_path: Path, canaries: dict[str, str]) -> None:
    loaded = load_spec(write(tmp_path / "spec.yaml", setpath(example("vsphere"), "k8sVersion", "v1.34.9")))
    found = [w for w in loaded.warnings if w.rule == "versions"]
    assert len(found) == 1 and found[0].path == "k8sVersion"
    assert '"MicroOS image or VM template"' in found[0].message
    assert "v1.34.5, v1.34.5-1, v1.34.5-3" in found[0].fix


def plan_of(tmp_path: Path, data: dict[str, Any]) -> tuple[Any, InstallPlan]:
    loaded = load_spec(write(tmp_path / "spec.yaml", data))
    return loaded, build_plan(loaded)


def strip_key(value: Any) -> Any:
    """The manifest with the 1.35 key taken out of every inline kubelet patch (an override)."""
    if isinstance(value, dict):
        out = {k: strip_key(v) for k, v in value.items()}
        if isinstance(out.get("content"), str) and KUBELET_135_KEY in out["content"]:
            patch = json.loads(out["content"])
            patch.pop(KUBELET_135_KEY)
            out["content"] = json.dumps(patch)
        return out
    if isinstance(value, list):
        return [strip_key(v) for v in value]
    return value


def test_preflight_versions_check(tmp_path: Path, canaries: dict[str, str], sandbox: Sandbox) -> None:
    def versions(loaded: Any, plan: InstallPlan) -> Any:
        with KubeClient(sandbox.kubeconfig_path) as kube:
            got = [r for r in run_preflight(plan, loaded.provider, kube) if r.name == "versions"]
        assert len(got) == 1
        return got[0]

    data = setpath(example("dcs"), "k8sVersion", "v1.35.6-acp.1")  # with ACP v4.4.0's row
    for field, value in (("dnsImageTag", "1.14.3-v4.4.6"), ("etcdImageTag", "v3.6.13-acp.0"),
                         ("kubeOvnVersion", "v4.4.1")):
        data = setpath(data, f"platform.{field}", value)
    loaded, plan = plan_of(tmp_path, data)
    assert versions(loaded, plan).status == "pass", versions(loaded, plan)
    broken = attrs.evolve(plan, manifest=tuple(strip_key(o) for o in plan.manifest))
    bad = versions(loaded, broken)
    assert bad.status == "fail" and "KubeadmControlPlane/" in bad.detail and "(1.35+)" in bad.detail
    loaded, plan = plan_of(tmp_path, setpath(example("vsphere"), "k8sVersion", "v1.34.9"))
    warn = versions(loaded, plan)
    assert warn.status == "warn" and warn.detail.startswith("k8sVersion: v1.34.9 is the Kubernetes")


def test_preflight_command_lists_the_versions_check(tmp_path: Path, canaries: dict[str, str], sandbox: Sandbox,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path / "spec.yaml", setpath(example("vsphere"), "k8sVersion", "v1.34.9"))
    code = main(["preflight", "-f", str(spec), "--kubeconfig", str(sandbox.kubeconfig_path), "-o", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["ok"]
    assert {c["name"]: c["status"] for c in doc["checks"]}["versions"] == "warn"
    code = main(["preflight", "-f", str(spec), "--kubeconfig", str(sandbox.kubeconfig_path), "-o", "json",
                 "--skip-preflight", "versions"])
    doc = json.loads(capsys.readouterr().out)
    assert {"name": "versions", "status": "skip", "detail": "skipped (--skip-preflight)"} in doc["checks"]


@pytest.mark.parametrize("provider", ["dcs", "vsphere", "hcs", "baremetal"])
def test_image_tags_of_another_os_image_are_warnings(tmp_path: Path, canaries: dict[str, str],
                                                     provider: str) -> None:
    data = setpath(example(provider), "k8sVersion", "v1.34.5-3")  # ACP v4.3.2's OS image
    data = setpath(data, "platform.dnsImageTag", "1.12.4-v4.2.3")  # ACP v4.2.0's coredns
    data = setpath(data, "platform.etcdImageTag", "v3.5.28-260625")  # v4.3.2's: right
    data = setpath(data, "platform.kubeOvnVersion", "v4.3.3")  # ACP v4.3.0's chart
    found = {w.path: w for w in load_spec(write(tmp_path / "spec.yaml", data)).warnings if w.rule == "versions"}
    assert set(found) == {"platform.dnsImageTag", "platform.kubeOvnVersion"}
    assert "ACP v4.3.2" in found["platform.dnsImageTag"].message
    assert found["platform.dnsImageTag"].fix.startswith("use 1.14.2-v4.3.11 (ACP v4.3.2)")
    assert found["platform.kubeOvnVersion"].fix.startswith("use v4.3.11 (ACP v4.3.2)")


def all_findings(tmp_path: Path, data: dict[str, Any]) -> list[Any]:
    """Every finding of a spec, whether it loads (warnings) or not (the SpecError's)."""
    try:
        return list(load_spec(write(tmp_path / "spec.yaml", data)).warnings)
    except SpecError as err:
        return list(err.findings)


def gates(tmp_path: Path, data: dict[str, Any], path: str) -> list[Any]:
    return [f for f in all_findings(tmp_path, data) if f.rule == "versions" and f.path == path]


def standby(data: dict[str, Any]) -> dict[str, Any]:
    return setpath(data, "dr", {"role": "standby", "primaryVIP": "10.0.0.10",
                                "standbyVIP": data["controlPlaneVIP"],
                                "encryptionKey": {"env": "ACP_TEST_DR_KEY"}, "etcdSyncVersion": "v4.3.2"})


def test_feature_gates_name_the_release_that_brought_the_feature(
        tmp_path: Path, canaries: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACP_TEST_DR_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
    # DCS controlPlaneHA: v1.0.21 (with the OS image of ACP v4.3.1, so no pairing error too)
    ha = setpath(dcs(tmp_path, "v1.34.5-1", "v1.0.20"), "platform.controlPlaneHA", True)
    [found] = gates(tmp_path, ha, "packages.provider.version")
    assert found.severity == "error" and "platform.controlPlaneHA needs" in found.message
    assert "huawei_dcs.mdx v1.0.21" in found.message
    assert not gates(tmp_path, setpath(ha, "platform.controlPlaneHA", False), "packages.provider.version")
    # HCS controlPlaneHA: v1.0.2
    hcs = setpath(setpath(example("hcs"), "packages.provider.version", "v1.0.1"),
                  "platform.controlPlaneHA", {"enabled": True, "policy": "anti-affinity"})
    [found] = gates(tmp_path, hcs, "packages.provider.version")
    assert found.severity == "error" and "v1.0.2" in found.message
    assert not gates(tmp_path, setpath(hcs, "packages.provider.version", "v1.0.2"), "packages.provider.version")
    # vSphere standby reconciliation: v1.0.13 (a fixed issue: a warning)
    vs = standby(setpath(example("vsphere"), "packages.provider.version", "v1.0.12"))
    [found] = gates(tmp_path, vs, "packages.provider.version")
    assert found.severity == "warning" and "Standby Global Cluster reconciliation" in found.message
    assert not gates(tmp_path, setpath(vs, "packages.provider.version", "v1.0.13"), "packages.provider.version")
    # every provider's kubeadm package on a standby: v1.0.12 (the core's rule)
    kubeadm = standby(setpath(example("hcs"), "packages.kubeadm.version", "v1.0.11"))
    [found] = gates(tmp_path, kubeadm, "packages.kubeadm.version")
    assert found.severity == "warning" and 'row "Kubeadm provider chart version"' in found.message
    assert not gates(tmp_path, setpath(kubeadm, "dr.role", "primary"), "packages.kubeadm.version")
