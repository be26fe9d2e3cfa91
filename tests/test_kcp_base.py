"""The complete documented KubeadmControlPlane base of every provider (issue: the control-plane
base): the published audit policy by default, the kubelet patch with apiVersion/kind and the
1.35-only key, the image repository and CoreDNS/etcd tags from the spec (a warning naming the OS
Support Matrix when unset), the ``controlPlane.auditPolicyFile`` override, CRD validity on every
Kubernetes minor the rule distinguishes.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from acp_install.cli.main import main

from specs import DELETE, by_kind, example, render, setpath, write
from support import assert_valid_against_crds, objects_of

AUDIT = "/etc/kubernetes/audit/policy.yaml"
PSA = "/etc/kubernetes/admission/psa-config.yaml"
KUBELET = "/etc/kubernetes/patches/kubeletconfiguration0+strategic.json"
NEVER_VERIFY = "imagePullCredentialsVerificationPolicy"

#: provider -> (package, a line only its page's audit policy has, a line its page's policy lacks)
PROVIDERS = {
    "dcs": ("acp_install_dcs", '    resources: ["deletebackuprequests"]', None),
    "vsphere": ("acp_install_vsphere", '    resources: ["deletebackuprequests"]', None),
    "hcs": ("acp_install_hcs", "- level: Metadata", "omitStages"),
    "baremetal": ("acp_install_baremetal", '  - group: "networking.k8s.io"', "katanomi"),
}
#: the tags of the OS Support Matrix row v4.3.2 (Kubernetes v1.34.5-3, the example's version)
TAGS = {"dnsImageTag": "1.14.2-v4.3.11", "etcdImageTag": "v3.5.28-260625"}


def _spec(provider: str, **platform: Any) -> dict[str, Any]:
    data = example(provider)
    data["kubeOvnJoinCIDR"] = "100.64.0.0/16"
    for key, value in platform.items():
        setpath(data, f"platform.{key}", value)
    return data


def _bodies(out: Path) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    objects = objects_of((out / "global.yaml").read_text())
    kcp = by_kind(objects, "KubeadmControlPlane")[0]["spec"]["kubeadmConfigSpec"]
    workers = [k["spec"]["template"]["spec"] for k in by_kind(objects, "KubeadmConfigTemplate")]
    return kcp, workers, objects


def _file(body: dict[str, Any], path: str) -> dict[str, Any]:
    found = [f for f in body.get("files", []) if f["path"] == path]
    assert len(found) == 1, f"{path}: {len(found)} entries"
    return found[0]


def _with_worker(provider: str, data: dict[str, Any]) -> dict[str, Any]:
    """The provider test module's full example (it has a worker group), on data's version."""
    module = __import__(f"test_{provider}")
    full = module.full_example_spec()
    full["platform"].update({k: v for k, v in data["platform"].items() if k in TAGS})
    full["k8sVersion"] = data["k8sVersion"]
    catalog = full["platform"].get("imageCatalog")
    if catalog:  # Bare Metal: the version must be a catalog key
        catalog[data["k8sVersion"]] = next(iter(catalog.values()))
    return full


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_published_audit_policy_is_the_default(provider: str, tmp_path: Path) -> None:
    package, has, lacks = PROVIDERS[provider]
    kcp, _workers, _ = _bodies(render(tmp_path, _spec(provider, **TAGS)))
    content = _file(kcp, AUDIT)["content"]
    published = resources.files(package).joinpath("templates/audit-policy.yaml").read_text()
    assert content == published
    assert content.startswith("apiVersion: audit.k8s.io/v1\nkind: Policy\n")
    assert has in content.splitlines()
    if lacks is not None:
        assert lacks not in content
    assert "acp-install default" not in content  # the old invented policy is gone
    assert kcp["clusterConfiguration"]["apiServer"]["extraArgs"]["audit-policy-file"] == AUDIT
    assert "PodSecurityConfiguration" in _file(kcp, PSA)["content"]


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_audit_policy_file_overrides_the_published_one(provider: str, tmp_path: Path) -> None:
    policy = tmp_path / "mine.yaml"
    policy.write_text("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n")
    data = setpath(_spec(provider, **TAGS), "controlPlane.auditPolicyFile", str(policy))
    kcp, _workers, _ = _bodies(render(tmp_path, data))
    entry = _file(kcp, AUDIT)
    assert entry["content"] == policy.read_text()
    assert entry["owner"] == "root:root" and entry["permissions"] == "0644"


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
@pytest.mark.parametrize("version, verify", [("v1.34.5-3", False), ("v1.35.6-acp.1", True)])
def test_kubelet_patch_is_complete_and_1_35_only(provider: str, version: str, verify: bool,
                                                 tmp_path: Path, crd_registry: Any) -> None:
    data = _with_worker(provider, setpath(_spec(provider, **TAGS), "k8sVersion", version))
    kcp, workers, objects = _bodies(render(tmp_path, data))
    assert workers, "the full example has a worker group"
    for body in (kcp, *workers):
        patch = json.loads(_file(body, KUBELET)["content"])
        keys = list(patch)
        assert keys[:2] == ["apiVersion", "kind"]
        assert patch["apiVersion"] == "kubelet.config.k8s.io/v1beta1"
        assert patch["kind"] == "KubeletConfiguration"
        assert patch["protectKernelDefaults"] is True
        assert (patch.get(NEVER_VERIFY) == "NeverVerify") is verify
        assert (NEVER_VERIFY in keys) is verify
        if verify:
            assert keys[2] == NEVER_VERIFY  # where every provider page puts it
    for body in workers:
        assert json.loads(_file(body, KUBELET)["content"])["staticPodPath"] is None
    assert assert_valid_against_crds(crd_registry, objects) >= 3


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_image_repository_and_tags_when_given(provider: str, tmp_path: Path) -> None:
    data = _spec(provider, imageRepository="registry.example.com/mirror", **TAGS)
    kcp, _workers, _ = _bodies(render(tmp_path, data))
    cc = kcp["clusterConfiguration"]
    assert cc["imageRepository"] == "registry.example.com/mirror"
    assert cc["dns"] == {"imageTag": TAGS["dnsImageTag"]}
    assert cc["etcd"]["local"]["imageTag"] == TAGS["etcdImageTag"]
    assert cc["etcd"]["local"]["serverCertSANs"]  # the global-specific field still layered on top


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_unset_tags_warn_and_name_the_matrix(provider: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    data = _spec(provider, dnsImageTag=DELETE, etcdImageTag=DELETE)
    kcp, _workers, _ = _bodies(render(tmp_path, data))
    assert "dns" not in kcp["clusterConfiguration"]
    assert "imageTag" not in kcp["clusterConfiguration"]["etcd"]["local"]
    err = capsys.readouterr().err
    for field in ("platform.dnsImageTag", "platform.etcdImageTag"):
        line = next(x for x in err.splitlines() if field in x)
        assert "warning" in line
    assert err.count("OS Support Matrix") >= 2
    # the matrix rows of the spec's Kubernetes version are quoted, never defaulted
    assert "for Kubernetes v1.34.5-3 it lists 1.14.2-v4.3.11 (ACP v4.3.2)" in err
    assert "for Kubernetes v1.34.5-3 it lists v3.5.28-260625 (ACP v4.3.2)" in err
    # given, the warnings are gone
    render(tmp_path / "given", _spec(provider, **TAGS))
    err = capsys.readouterr().err
    assert "platform.dnsImageTag" not in err and "platform.etcdImageTag" not in err


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_no_audit_policy_warning_any_more(provider: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path / "s.yaml", _spec(provider, **TAGS))
    assert main(["validate", "-f", str(spec)]) == 0
    assert "auditPolicyFile" not in capsys.readouterr().err


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_cluster_annotations_override_and_bad_keys(provider: str, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    data = _spec(provider, **TAGS, clusterAnnotations={"example.com/owner": "ops"})
    _kcp, _workers, objects = _bodies(render(tmp_path, data))
    assert by_kind(objects, "Cluster")[0]["metadata"]["annotations"]["example.com/owner"] == "ops"
    data = _spec(provider, **TAGS, clusterAnnotations={"example.com/bad key": "x"})
    spec = write(tmp_path / "bad.yaml", data)
    assert main(["validate", "-f", str(spec)]) == 3
    assert "platform.clusterAnnotations.example.com/bad key" in capsys.readouterr().err


def test_matrix_hint_lists_every_row_of_the_version() -> None:
    from acp_install.provider import matrix_hint

    assert matrix_hint("v1.32.7", "coredns") == (
        "; for Kubernetes v1.32.7 it lists 1.11.3-v4.1.0 (ACP v4.1.0, v4.1.1, v4.1.2) or "
        "1.12.4-v4.1.2 (ACP v4.1.3)")
    assert matrix_hint("v1.33.7-3", "kubeOvnChart") == (
        "; for Kubernetes v1.33.7-3 it lists v4.2.26 (ACP v4.2.3, v4.2.4)")
    assert matrix_hint("v1.35.6-acp.1", "etcd") == "; for Kubernetes v1.35.6-acp.1 it lists v3.6.13-acp.0 (ACP v4.4.0)"
    assert matrix_hint("v9.9.9", "coredns") == ""


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_api_server_extra_args_override_the_base(provider: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """controlPlane.apiServerExtraArgs: set an argument, remove one the base renders (e.g. the
    audit rotation HCS gets from the other pages, docs/decisions.md)."""
    data = setpath(_spec(provider, **TAGS), "controlPlane.apiServerExtraArgs",
                   {"audit-log-maxage": None, "event-ttl": "2h", "profiling": "true"})
    kcp, _workers, _objects = _bodies(render(tmp_path, data))
    args = kcp["clusterConfiguration"]["apiServer"]["extraArgs"]
    assert "audit-log-maxage" not in args
    assert args["event-ttl"] == "2h" and args["profiling"] == "true"
    assert args["audit-policy-file"] == AUDIT  # the rest of the base is kept
    data = setpath(_spec(provider, **TAGS), "controlPlane.apiServerExtraArgs", {"--profiling": "true"})
    assert main(["validate", "-f", str(write(tmp_path / "bad.yaml", data))]) == 3
    err = capsys.readouterr().err
    assert "controlPlane.apiServerExtraArgs.--profiling" in err and "without '--'" in err


def test_kubeadm_base_results_do_not_share_mappings(tmp_path: Path) -> None:
    """The parsed base is cached per process (planning 1,000 specs reads it once); every call
    still hands out its own mappings, so one plan cannot change another's body."""
    from acp_install import load_spec
    from acp_install.provider import kubeadm_base

    spec = load_spec(str(write(tmp_path / "s.yaml", _spec("dcs", **TAGS)))).spec
    first = kubeadm_base("acp_install_dcs", spec, worker=False)
    first.cluster_configuration["apiServer"]["extraArgs"]["profiling"] = "true"
    first.join_configuration["nodeRegistration"]["kubeletExtraArgs"].clear()
    second = kubeadm_base("acp_install_dcs", spec, worker=False)
    assert second.cluster_configuration["apiServer"]["extraArgs"]["profiling"] == "false"
    assert second.join_configuration["nodeRegistration"]["kubeletExtraArgs"]["node-ip"] == "NODE_IP"
    assert second.complete
