"""The HCS provider end to end, offline: render, CRD validity, golden files, the documented rules,
the bad-input table, secret hygiene, DR, and the plugin being installable on its own."""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

from acp_install import (
    load_provider,
    load_spec,
    wiring,  # private: the test checks the core wiring itself
)
from acp_install.cli.main import main
from acp_install.testing.conformance import ProviderConformance, check_golden
from acp_install.yamlio import load_all

from specs import DELETE, by_kind, example, files_of, render, setpath, write
from support import CANARIES, GOLDEN, assert_valid_against_crds, objects_of, secret_holders

INFRA = "infrastructure.cluster.x-k8s.io/v1beta1"
ENC = "/etc/kubernetes/encryption-provider.conf"
CP = "platform.controlPlane"
LB = "platform.loadBalancer"
DR_PRIMARY = {"role": "primary", "primaryVIP": "192.168.1.100", "standbyVIP": "192.168.2.100",
              "encryptionKey": {"env": "ENCRYPTION_KEY"}}


def rendered(out: Path, name: str = "global.yaml") -> list[dict[str, Any]]:
    return objects_of((out / name).read_text())


def imports(out: Path) -> list[dict[str, Any]]:
    cm = rendered(out, "extra-resources.yaml")[0]
    assert cm["metadata"] == {"name": "dcs-import-extra-resources", "namespace": "cpaas-system"}
    doc = load_all(cm["data"]["resources.yaml"])[0][0]
    return list(doc["resources"])


def hcs_example() -> dict[str, Any]:
    data = example("hcs")
    data["platform"]["credentials"]["secretKey"] = {"env": "HCS_PASSWORD"}
    data["platform"]["network"]["subnets"][0]["cidr"] = "192.168.1.0/24"  # enables address checks
    return data


def full_example_spec() -> dict[str, Any]:
    """The init example plus a worker group on a second subnet, a join CIDR, registry creds."""
    data = hcs_example()
    data["kubeOvnJoinCIDR"] = "100.64.0.0/16"
    data["credentials"]["registry"] = {"username": "registry-admin",
                                       "password": {"env": "REGISTRY_PASSWORD"}}
    p = data["platform"]
    p["credentials"]["schema"] = "https"
    p["network"]["subnets"].append({"name": "global-subnet-2", "cidr": "192.168.3.0/24"})
    p["loadBalancer"]["vipDomainName"] = "api.global.example.com"
    p["imageRepository"] = "192.168.1.10:11443/tkestack"
    worker = {k: copy.deepcopy(v) for k, v in p["controlPlane"].items() if k != "pool"}
    worker["dataVolumes"] = [v for v in worker["dataVolumes"] if v["mountPath"] != "/var/lib/etcd"]
    worker["pool"] = [{"hostname": f"global-worker-{i}.example.org",
                       "networks": [{"subnetName": "global-subnet-2",
                                     "ipAddress": f"192.168.3.{30 + i}"}]} for i in range(2)]
    worker.update({"name": "global-worker", "replicas": 2})
    p["workers"] = [worker]
    return data


@pytest.fixture
def full_example() -> dict[str, Any]:
    return full_example_spec()


class TestHcsConformance(ProviderConformance):
    """The conformance suite on the full example: golden files (``tests/golden/hcs``), determinism
    across hash seeds, CRD validity, secret canaries and a sandbox install."""

    provider_id = "hcs"
    golden_dir = GOLDEN / "hcs"

    def sample_spec(self, example: dict[str, Any]) -> dict[str, Any]:
        return full_example_spec()


# --- rendering ----------------------------------------------------------------------------------


def test_init_example_validates_without_warnings(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "spec.yaml"
    assert main(["init", "--provider", "hcs", "--out", str(spec)]) == 0
    assert main(["validate", "-f", str(spec)]) == 0
    out = capsys.readouterr()
    # the only warnings: the two site values the example cannot know, the image repository
    # (the HCS page leaves it to the release baseline) and the Kube-OVN join CIDR; no
    # audit-policy warning any more: the published policy is rendered by default
    # ...besides the example's placeholders, one warning per field (tests/test_example_values.py)
    examples = out.err.count("still holds the `acp-install init` example value")
    assert examples == 10
    assert f"valid (Huawei Cloud Stack, 6 objects, {2 + examples} warning(s))" in out.out
    assert out.err.count("warning:") == 2 + examples
    assert "platform.imageRepository" in out.err and "kubeOvnJoinCIDR" in out.err


def test_init_from_env_validates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Step 1 variables (old HCS_SECRET_NAME included) give a spec that validates as is."""
    for var, value in {"HOST_IP": "10.20.0.5", "CONTROL_PLANE_VIP": "10.20.0.100",
                       "PLATFORM_HOST": "acp.example.org", "HCS_SECRET_NAME": "global-hcs-creds",
                       "HCS_PROVIDER_PACK": "/root/cluster-api-provider-hcs.amd64.v1.0.3.tgz",
                       "HCS_PROVIDER_VERSION": "v1.0.3"}.items():
        monkeypatch.setenv(var, value)
    spec = tmp_path / "spec.yaml"
    assert main(["init", "--provider", "hcs", "--from-env", "-o", str(spec)]) == 0
    out = render(tmp_path, load_all(spec.read_text())[0][0])
    hcs = by_kind(rendered(out), "HCSCluster")[0]["spec"]
    assert hcs["identityRef"]["name"] == "global-hcs-creds"
    assert hcs["controlPlaneLoadBalancer"]["vipAddress"] == "10.20.0.100"
    app = rendered(out, "appreleases.yaml")[1]
    assert app["spec"]["source"]["charts"][0]["targetRevision"] == "v1.0.3"


def test_every_object_validates_against_its_crd(tmp_path: Path, crd_registry: Any,
                                                full_example: dict[str, Any]) -> None:
    out = render(tmp_path, full_example)
    objects = rendered(out)
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("Secret", "global-secret"),
        ("HCSMachineConfigPool", "global-cp-pool"),
        ("HCSMachineConfigPool", "global-worker-pool"),
        ("HCSMachineTemplate", "global-cp-machine-template"),
        ("HCSMachineTemplate", "global-worker-machine-template"),
        ("HCSCluster", "global"),
        ("KubeadmControlPlane", "global-kcp"),
        ("Cluster", "global"),
        ("KubeadmConfigTemplate", "global-worker-bootstrap"),
        ("MachineDeployment", "global-worker"),
    ]
    for o in objects:
        if o["kind"] != "Secret":
            assert o["apiVersion"] == {"HCSMachineConfigPool": INFRA, "HCSMachineTemplate": INFRA,
                                       "HCSCluster": INFRA,
                                       "KubeadmControlPlane": wiring.CONTROLPLANE,
                                       "Cluster": wiring.CAPI, "MachineDeployment": wiring.CAPI,
                                       "KubeadmConfigTemplate": wiring.BOOTSTRAP}[o["kind"]]
    assert assert_valid_against_crds(crd_registry, objects) == len(objects) - 1  # all but Secret
    dr = dict(full_example, dr=DR_PRIMARY)
    assert assert_valid_against_crds(crd_registry, rendered(render(tmp_path / "dr", dr))) == 9


def test_crd_validation_can_fail(crd_registry: Any, tmp_path: Path) -> None:
    objects = rendered(render(tmp_path, hcs_example()))
    pool = by_kind(objects, "HCSMachineConfigPool")[0]
    pool["spec"]["configs"][0]["hostname"] = "Global-CP-1"
    cluster = by_kind(objects, "HCSCluster")[0]
    cluster["spec"]["controlPlaneHA"] = {"enabled": True, "policy": "spread"}
    cluster["spec"]["controlPlaneEndpoint"] = {"host": "192.168.1.100"}
    errors = " ".join(map(str, crd_registry.validate(pool, unknown="error")))
    assert "hostname" in errors
    errors = " ".join(map(str, crd_registry.validate(cluster, unknown="error")))
    assert "policy" in errors and "port" in errors


def test_golden_files_dr(tmp_path: Path, full_example: dict[str, Any]) -> None:
    """The DR render of the full example (the conformance suite checks the plain one)."""
    files = files_of(render(tmp_path, dict(full_example, dr=DR_PRIMARY)))
    assert "dr/encryption-provider.conf" in files
    check_golden(files, GOLDEN / "hcs-dr")


def test_render_is_deterministic(tmp_path: Path, full_example: dict[str, Any]) -> None:
    full_example["dr"] = DR_PRIMARY
    a = files_of(render(tmp_path / "a", full_example))
    assert len(a) == 6
    assert a == files_of(render(tmp_path / "b", full_example))


def test_packages(tmp_path: Path) -> None:
    out = render(tmp_path, hcs_example())
    apps = rendered(out, "appreleases.yaml")
    assert [a["metadata"]["name"] for a in apps] == ["cluster-api-provider-kubeadm",
                                                     "cluster-api-provider-hcs"]
    chart = apps[1]["spec"]["source"]["charts"][0]
    assert chart == {"name": "ait/chart-cluster-api-provider-hcs",
                     "releaseName": "cluster-api-provider-hcs", "targetRevision": "v1.0.21"}
    assert apps[1]["spec"]["values"]["global"]["cluster"]["type"] == "Baremetal"
    from acp_install import build_plan
    plan = build_plan(load_spec(write(tmp_path / "s.yaml", hcs_example())))
    assert plan.wait_crds == ("kubeadmcontrolplanes.controlplane.cluster.x-k8s.io",
                              "hcsclusters.infrastructure.cluster.x-k8s.io")
    assert [p.tarball for p in plan.packages][1] == \
        "/root/cluster-api-provider-hcs.amd64.v1.0.21.tgz"


def test_manifest_rules_and_cross_references(tmp_path: Path,
                                             full_example: dict[str, Any]) -> None:
    objects = rendered(render(tmp_path, full_example))
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    for o in objects:
        assert o["metadata"]["namespace"] == "cpaas-system"
        if o["kind"] not in ("Cluster", "HCSCluster", "Secret"):
            assert o["metadata"]["name"].startswith("global-"), o["kind"]
    secret = by_kind(objects, "Secret")[0]
    assert secret["type"] == "Opaque"
    assert set(secret["stringData"]) == {"accessKey", "secretKey", "projectID", "region",
                                         "externalGlobalDomain", "schema"}
    hcs = by_kind(objects, "HCSCluster")[0]
    assert hcs["spec"]["identityRef"] == {"name": secret["metadata"]["name"]}
    assert hcs["spec"]["networkType"] == "kube-ovn"
    assert "controlPlaneEndpoint" not in hcs["spec"]
    assert "encryptionProviderConfigRef" not in hcs["spec"]
    elb = hcs["spec"]["controlPlaneLoadBalancer"]
    assert elb["vipAddress"] == "192.168.1.100" and elb["vipSubnetName"] == "global-subnet"
    assert elb["vipDomainName"] == "api.global.example.com"
    assert [len(g["ips"]) for g in elb["elbVirsubnetL4Ips"] + elb["elbVirsubnetL7Ips"]] == [2, 2]
    assert hcs["spec"]["controlPlaneHA"] == {"enabled": True, "policy": "soft-anti-affinity"}
    for tmpl in by_kind(objects, "HCSMachineTemplate"):
        pool = tmpl["spec"]["template"]["spec"]["configPoolRef"]["name"]
        assert ("HCSMachineConfigPool", pool) in names
    for pool in by_kind(objects, "HCSMachineConfigPool"):
        assert pool["metadata"]["labels"] == {"cluster.x-k8s.io/cluster-name": "global"}

    cluster = by_kind(objects, "Cluster")[0]
    assert cluster["metadata"]["labels"] == {"cluster-type": "HCS", "is-global": "true"}
    ann = cluster["metadata"]["annotations"]
    assert ann["capi.cpaas.io/resource-kind"] == "HCSCluster"
    assert ann["capi.cpaas.io/resource-group-version"] == INFRA
    assert ann["cpaas.io/registry-address"] == "192.168.1.10:11443"
    assert cluster["spec"]["infrastructureRef"] == {"apiVersion": INFRA, "kind": "HCSCluster",
                                                    "name": "global"}
    kcp = by_kind(objects, "KubeadmControlPlane")[0]
    assert cluster["spec"]["controlPlaneRef"]["name"] == kcp["metadata"]["name"] == "global-kcp"
    assert "annotations" not in kcp["metadata"]  # no skip-kube-proxy in the HCS fragment
    ref = kcp["spec"]["machineTemplate"]["infrastructureRef"]
    assert ref == {"apiVersion": INFRA, "kind": "HCSMachineTemplate",
                   "name": "global-cp-machine-template"}
    assert kcp["spec"]["replicas"] == 3
    assert kcp["spec"]["rolloutStrategy"]["rollingUpdate"]["maxSurge"] == 0
    body = kcp["spec"]["kubeadmConfigSpec"]
    assert body["format"] == "cloud-config"
    assert "users" not in body
    assert body["clusterConfiguration"]["imageRepository"] == "192.168.1.10:11443/tkestack"
    sans = body["clusterConfiguration"]["etcd"]["local"]["serverCertSANs"]
    assert sans == ["192.168.1.100", "platform.example.com"]
    assert body["initConfiguration"]["nodeRegistration"]["kubeletExtraArgs"] == {
        "node-labels": "kube-ovn/role=master", "protect-kernel-defaults": "true",
        "volume-plugin-dir": "/opt/libexec/kubernetes/kubelet-plugins/volume/exec/"}
    assert body["joinConfiguration"]["nodeRegistration"]["kubeletExtraArgs"] == {
        "node-labels": "kube-ovn/role=master",
        "volume-plugin-dir": "/opt/libexec/kubernetes/kubelet-plugins/volume/exec/"}
    # non-DR: HCS adds no encryption file and no encryption flag (§4.4, §7)
    assert "encryption" not in json.dumps(body)
    patch = next(f for f in body["files"] if f["path"].endswith("strategic.json"))
    assert json.loads(patch["content"])["clientCAFile"] == "/etc/kubernetes/pki/ca.crt"

    md = by_kind(objects, "MachineDeployment")[0]
    spec = md["spec"]["template"]["spec"]
    assert md["spec"]["replicas"] == 2 and md["spec"]["clusterName"] == "global"
    assert spec["infrastructureRef"] == {"apiVersion": INFRA, "kind": "HCSMachineTemplate",
                                         "name": "global-worker-machine-template"}
    kct = by_kind(objects, "KubeadmConfigTemplate")[0]
    assert spec["bootstrap"]["configRef"]["name"] == kct["metadata"]["name"]
    wbody = kct["spec"]["template"]["spec"]
    assert wbody["format"] == "cloud-config"
    assert wbody["joinConfiguration"]["nodeRegistration"]["kubeletExtraArgs"] == {
        "volume-plugin-dir": "/opt/libexec/kubernetes/kubelet-plugins/volume/exec/"}
    wpatch = json.loads(wbody["files"][0]["content"])
    assert wpatch["staticPodPath"] is None and wpatch["clientCAFile"] == "/etc/kubernetes/pki/ca.crt"


@pytest.mark.parametrize("fmt", [None, "cloud-config"])
def test_format_unset_or_cloud_config_renders_cloud_config(tmp_path: Path, fmt: str | None) -> None:
    data = hcs_example()
    if fmt is not None:
        data["controlPlane"]["format"] = fmt
    kcp = by_kind(rendered(render(tmp_path, data)), "KubeadmControlPlane")[0]
    assert kcp["spec"]["kubeadmConfigSpec"]["format"] == "cloud-config"


def test_single_replica_kcp_never_carries_rollout_strategy(tmp_path: Path) -> None:
    """KCP validation rejects maxSurge with replicas 1 (§4.4); HCS refuses 1 anyway."""
    loaded = load_spec(write(tmp_path / "s.yaml", hcs_example()))
    spec = attrs.evolve(loaded.spec, controlPlane=attrs.evolve(loaded.spec.controlPlane, replicas=1))
    manifest = wiring.merge_manifests(loaded.provider.manifest(spec))
    kcp = wiring.control_plane(spec, loaded.provider.info, manifest, manifest.kubeadm)
    assert kcp["spec"]["replicas"] == 1 and "rolloutStrategy" not in kcp["spec"]
    assert any(f.path == "controlPlane.replicas" and f.severity == "error"
               for f in loaded.provider.validate(spec))


def test_old_secret_name_flows_to_identity_ref_and_step_7(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    data = hcs_example()
    data.pop("providerSecretName")
    data["hcsSecretName"] = "global-hcs-credentials"
    out = render(tmp_path, data)
    assert "old name of providerSecretName" in capsys.readouterr().err
    objects = rendered(out)
    assert by_kind(objects, "Secret")[0]["metadata"]["name"] == "global-hcs-credentials"
    assert by_kind(objects, "HCSCluster")[0]["spec"]["identityRef"]["name"] == \
        "global-hcs-credentials"
    assert imports(out)[0] == {"resource": "secrets", "names": ["global-hcs-credentials"],
                               "method": "kubectl"}



def test_the_secret_name_alias_is_declared_by_hcs(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The old key and variable are HCS's own: ``init --from-env`` reads HCS_SECRET_NAME for HCS
    only (PROVIDER_SECRET_NAME wins), and the example names the old variable for HCS only."""
    info = load_provider("hcs").info
    assert [(a.old, a.new, a.env) for a in info.aliases] == \
        [("hcsSecretName", "providerSecretName", "HCS_SECRET_NAME")]
    monkeypatch.setenv("HCS_SECRET_NAME", "global-old-name")
    for provider in ("hcs", "dcs"):
        assert main(["init", "--provider", provider, "--from-env"]) == 0
    hcs_text, dcs_text = capsys.readouterr().out.split("apiVersion: acp-install/v1alpha1")[1:]
    assert "providerSecretName: global-old-name" in hcs_text and "(old name HCS_SECRET_NAME)" in hcs_text
    assert "providerSecretName: global-secret" in dcs_text and "HCS_SECRET_NAME" not in dcs_text
    monkeypatch.setenv("PROVIDER_SECRET_NAME", "global-new-name")
    assert main(["init", "--provider", "hcs", "--from-env"]) == 0
    assert "providerSecretName: global-new-name" in capsys.readouterr().out

# --- Step 7 -------------------------------------------------------------------------------------

#: §4.6, verbatim.
DOC_IMPORTS = [
    {"resource": "secrets", "names": ["global-secret"], "method": "kubectl"},
    {"resource": "hcsclusters.infrastructure.cluster.x-k8s.io", "names": ["global"],
     "etcdKeyBase": "/registry/infrastructure.cluster.x-k8s.io/hcsclusters/cpaas-system/",
     "method": "etcdctl"},
    {"resource": "hcsmachinetemplates.infrastructure.cluster.x-k8s.io",
     "etcdKeyBase": "/registry/infrastructure.cluster.x-k8s.io/hcsmachinetemplates/cpaas-system/",
     "method": "etcdctl"},
    {"resource": "hcsmachineconfigpools.infrastructure.cluster.x-k8s.io",
     "etcdKeyBase": "/registry/infrastructure.cluster.x-k8s.io/hcsmachineconfigpools/cpaas-system/",
     "method": "etcdctl"},
    {"resource": "hcsmachines.infrastructure.cluster.x-k8s.io",
     "etcdKeyBase": "/registry/infrastructure.cluster.x-k8s.io/hcsmachines/cpaas-system/",
     "method": "etcdctl"},
]


def test_step7_is_exactly_the_documented_list(tmp_path: Path,
                                              full_example: dict[str, Any]) -> None:
    assert imports(render(tmp_path / "a", hcs_example())) == DOC_IMPORTS
    assert imports(render(tmp_path / "b", full_example)) == DOC_IMPORTS  # workers: same list
    dr = render(tmp_path / "c", dict(hcs_example(), dr=DR_PRIMARY))
    assert imports(dr) == DOC_IMPORTS  # Step 7 on both DR sides, unchanged


def test_step7_is_derived_from_rendered_objects(tmp_path: Path) -> None:
    """Renamed objects are reflected; kinds not rendered are not imported."""
    loaded = load_spec(write(tmp_path / "s.yaml", hcs_example()))
    objects = list(wiring.merge_manifests(loaded.provider.manifest(loaded.spec)).objects)
    for o in objects:
        if o["kind"] == "HCSCluster":
            o["spec"]["identityRef"]["name"] = "global-renamed-secret"
            o["metadata"]["name"] = "global-renamed"
    entries = loaded.provider.extra_resources(loaded.spec, tuple(objects))
    assert entries[0].names == ("global-renamed-secret",)
    assert entries[1].names == ("global-renamed",)
    without_pool = tuple(o for o in objects if o["kind"] != "HCSMachineConfigPool")
    resources = [e.resource for e in loaded.provider.extra_resources(loaded.spec, without_pool)]
    assert "hcsmachineconfigpools.infrastructure.cluster.x-k8s.io" not in resources
    assert loaded.provider.extra_resources(loaded.spec, ()) == []


# --- Step 8 -------------------------------------------------------------------------------------


def test_installer_payload_dcs_vs_hcs_side_by_side(tmp_path: Path,
                                                   canaries: dict[str, str]) -> None:
    dcs = json.loads((render(tmp_path / "dcs", example("dcs"), "--include-secrets")
                      / "installer-config.json").read_text())
    hcs = json.loads((render(tmp_path / "hcs", hcs_example(), "--include-secrets")
                      / "installer-config.json").read_text())
    # DCS: third-party VIP in console.host and cluster.features.ha; HCS: the ELB owns the VIP
    assert dcs["console"]["host"] == ["192.168.1.100"]
    assert hcs["console"]["host"] == []
    assert dcs["cluster"] == {"clusterCIDR": "100.3.0.0/16", "serviceCIDR": "100.4.0.0/16",
                              "features": {"ha": {"vip": "192.168.1.100", "vport": 6443,
                                                  "isThirdParty": True}}}
    assert "cluster" not in hcs
    # everything else is the common body, identical
    strip = {"cluster"}
    common_dcs = {k: v for k, v in dcs.items() if k not in strip}
    common_hcs = {k: v for k, v in hcs.items() if k not in strip}
    common_dcs["console"] = {k: v for k, v in dcs["console"].items() if k != "host"}
    common_hcs["console"] = {k: v for k, v in hcs["console"].items() if k != "host"}
    assert common_dcs == common_hcs
    assert list(hcs) == ["basic", "registry", "console", "product", "deployMode", "hostIP"]
    assert hcs["console"]["globalHost"] == "platform.example.com"
    assert hcs["hostIP"] == "192.168.1.10"
    assert hcs["registry"] == {"domain": "platform.example.com:11443"}
    assert base64.b64decode(hcs["basic"]["password"]).decode() == CANARIES["ACP_ADMIN_PASSWORD"]


def test_installer_payload_dr_keeps_empty_console_host(tmp_path: Path) -> None:
    for role, vip in (("primary", "192.168.1.100"), ("standby", "192.168.2.100")):
        data = dict(hcs_example(), dr=dict(DR_PRIMARY, role=role), controlPlaneVIP=vip)
        setpath(data, "platform.network.subnets[0].cidr", "192.168.0.0/16")
        body = json.loads((render(tmp_path / role, data) / "installer-config.json").read_text())
        assert body["console"]["host"] == [] and "cluster" not in body


# --- DR -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["primary", "standby"])
def test_dr_encryption_file_in_kcp_on_both_sides(tmp_path: Path, canaries: dict[str, str],
                                                 role: str) -> None:
    vip = DR_PRIMARY[f"{role}VIP"]
    data = dict(hcs_example(), dr=dict(DR_PRIMARY, role=role), controlPlaneVIP=vip)
    setpath(data, "platform.network.subnets[0].cidr", "192.168.0.0/16")
    out = render(tmp_path, data, "--include-secrets")
    objects = rendered(out)
    hcs = by_kind(objects, "HCSCluster")[0]
    assert "encryptionProviderConfigRef" not in hcs["spec"]  # §4.8: no HCSCluster ref
    assert not [o for o in objects if o["kind"] == "Secret" and "encryption" in
                o["metadata"]["name"]]
    body = by_kind(objects, "KubeadmControlPlane")[0]["spec"]["kubeadmConfigSpec"]
    [entry] = [f for f in body["files"] if f["path"] == ENC]
    assert entry["permissions"] == "0600" and entry["append"] is False
    assert entry["owner"] == "root:root"
    assert CANARIES["ENCRYPTION_KEY"] in entry["content"]
    assert entry["content"] == (out / "dr" / "encryption-provider.conf").read_text()
    assert body["clusterConfiguration"]["apiServer"]["extraArgs"][
        "encryption-provider-config"] == ENC
    assert body["clusterConfiguration"]["apiServer"]["extraVolumes"][0]["mountPath"] == \
        "/etc/kubernetes"
    sans = body["clusterConfiguration"]["etcd"]["local"]["serverCertSANs"]
    assert sans == ["192.168.1.100", "192.168.2.100", "platform.example.com", "etcd.kube-system"]
    kct = by_kind(objects, "KubeadmConfigTemplate")
    assert all(ENC not in json.dumps(k) for k in kct)


# --- secrets ------------------------------------------------------------------------------------



def test_secrets_only_in_0600_files(tmp_path: Path, canaries: dict[str, str],
                                    full_example: dict[str, Any],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    full_example["dr"] = DR_PRIMARY
    plain = render(tmp_path / "plain", full_example)
    with_secrets = render(tmp_path / "secret", full_example, "--include-secrets")
    holders = secret_holders(plain, with_secrets, canaries.values())
    assert holders == {"global.yaml", "installer-config.json", "dr/encryption-provider.conf"}
    text = (with_secrets / "global.yaml").read_text()
    assert CANARIES["HCS_PASSWORD"] in text and CANARIES["ENCRYPTION_KEY"] in text
    out = capsys.readouterr()
    for value in canaries.values():
        assert value not in out.out + out.err


# --- bad input ----------------------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], Any]


def s(path: str, value: Any) -> Mutation:
    return lambda d: setpath(d, path, value)


def add_worker(**overrides: Any) -> Mutation:
    def run(d: dict[str, Any]) -> None:
        cp = d["platform"]["controlPlane"]
        worker = {k: copy.deepcopy(v) for k, v in cp.items() if k != "pool"}
        worker["dataVolumes"] = worker["dataVolumes"][1:]
        worker.update({"name": "global-worker", "replicas": 1, "pool": [
            {"hostname": "global-worker-1",
             "networks": [{"subnetName": "global-subnet", "ipAddress": "192.168.1.40"}]}]})
        worker.update(overrides)
        d["platform"]["workers"] = [worker]
    return run


PD = f"{CP}.pool[0].persistentDisks"
# (id, mutation, exit code, text the error must contain — the field path, and the message)
CASES: list[tuple[str, Mutation, int, tuple[str, ...]]] = [
    ("format-ignition", s("controlPlane.format", "ignition"), 3,
     ("controlPlane.format: ignition format is not supported",)),
    ("format-cloud-init", s("controlPlane.format", "cloud-init"), 3,
     ("controlPlane.format", "cloud-init")),
    ("replicas-1", s("controlPlane.replicas", 1), 3,
     ("controlPlane.replicas", "highly available")),
    ("subnets-empty", s("platform.network.subnets", []), 3,
     ("platform.network.subnets: empty",)),
    ("pool-subnet-unlisted", s(f"{CP}.pool[1].networks[0].subnetName", "other-subnet"), 3,
     (f"{CP}.pool[1].networks[0].subnetName", "not listed in platform.network.subnets")),
    ("vip-subnet-unlisted", s(f"{LB}.vipSubnetName", "vip-subnet"), 3,
     (f"{LB}.vipSubnetName", "not listed")),
    ("l4-subnet-unlisted", s(f"{LB}.elbVirsubnetL4Ips[0].subnetName", "elb-subnet"), 3,
     (f"{LB}.elbVirsubnetL4Ips[0].subnetName",)),
    ("l4-one-ip", s(f"{LB}.elbVirsubnetL4Ips[0].ips", ["192.168.1.201"]), 3,
     (f"{LB}.elbVirsubnetL4Ips[0].ips", "exactly two")),
    ("l7-three-ips", s(f"{LB}.elbVirsubnetL7Ips[0].ips",
                       ["192.168.1.203", "192.168.1.204", "192.168.1.205"]), 3,
     (f"{LB}.elbVirsubnetL7Ips[0].ips", "exactly two")),
    ("l7-empty", s(f"{LB}.elbVirsubnetL7Ips", []), 3, (f"{LB}.elbVirsubnetL7Ips: empty",)),
    ("elb-ip-is-node-ip", s(f"{LB}.elbVirsubnetL4Ips[0].ips", ["192.168.1.11", "192.168.1.202"]),
     3, (f"{LB}.elbVirsubnetL4Ips[0].ips[0]", "already used")),
    ("vip-outside-subnet", s(f"{LB}.elbVirsubnetL4Ips[0].ips[1]", "10.0.0.2"), 3,
     (f"{LB}.elbVirsubnetL4Ips[0].ips[1]", "not in subnet global-subnet")),
    ("ha-no-policy", s("platform.controlPlaneHA", {"enabled": True}), 3,
     ("platform.controlPlaneHA.policy: required",)),
    ("ha-no-enabled", s("platform.controlPlaneHA", {"policy": "anti-affinity"}), 3,
     ("platform.controlPlaneHA.enabled: required",)),
    ("ha-bad-policy", s("platform.controlPlaneHA.policy", "spread"), 3,
     ("platform.controlPlaneHA.policy", "anti-affinity or soft-anti-affinity")),
    ("endpoint-set", s("platform.controlPlaneEndpoint", {"host": "192.168.1.100", "port": 6443}),
     3, ("platform.controlPlaneEndpoint: must not be set",)),
    ("hostname-upper", s(f"{CP}.pool[0].hostname", "Global-CP-1"), 3,
     (f"{CP}.pool[0].hostname", "lowercase")),
    ("hostname-double-dot", s(f"{CP}.pool[2].hostname", "cp-3..example.org"), 3,
     (f"{CP}.pool[2].hostname", "consecutive dots")),
    ("hostname-trailing-dot", s(f"{CP}.pool[1].hostname", "cp-2.example.org."), 3,
     (f"{CP}.pool[1].hostname",)),
    ("hostname-duplicate", s(f"{CP}.pool[1].hostname", "global-cp-1"), 3,
     (f"{CP}.pool[1].hostname", "already used")),
    ("subnet-name-and-id", s(f"{CP}.pool[0].networks[0].subnetId", "5f0c-subnet-id"), 3,
     (f"{CP}.pool[0].networks[0]: give exactly one of subnetName or subnetId",)),
    ("subnet-neither", s(f"{CP}.pool[0].networks[0].subnetName", DELETE), 3,
     (f"{CP}.pool[0].networks[0]: give exactly one",)),
    ("no-networks", s(f"{CP}.pool[0].networks", []), 3, (f"{CP}.pool[0].networks",)),
    ("duplicate-node-ip", s(f"{CP}.pool[2].networks[0].ipAddress", "192.168.1.11"), 3,
     (f"{CP}.pool[2].networks[0].ipAddress", "already used")),
    ("vip-as-node-ip", s(f"{CP}.pool[2].networks[0].ipAddress", "192.168.1.100"), 3,
     (f"{CP}.pool[2].networks", "VIP")),
    ("slots-gap", s(f"{PD}[0].slot", 1), 3, (PD, "not contiguous from 0")),
    ("slots-repeated", s(PD, [{"slot": 0, "size": 100, "type": "SSD", "mountPath": "/var/cpaas"},
                              {"slot": 0, "size": 100, "type": "SSD"}]), 3,
     (PD, "not contiguous")),
    ("slot-negative", s(f"{PD}[0].slot", -1), 3, (PD,)),
    ("evs-too-small", s(f"{PD}[0].size", 5), 3, (f"{PD}[0].size", "10-32768")),
    ("evs-too-large", s(f"{CP}.dataVolumes[1].size", 40000), 3,
     (f"{CP}.dataVolumes[1].size", "10-32768")),
    ("root-too-small", s(f"{CP}.rootVolume.size", 1), 3, (f"{CP}.rootVolume.size",)),
    ("mount-overlap", s(f"{PD}[0].mountPath", "/var/lib/kubelet"), 3,
     (f"{PD}[0].mountPath", "also a data volume")),
    ("mount-relative", s(f"{PD}[0].mountPath", "var/cpaas"), 3,
     (f"{PD}[0].mountPath", "absolute")),
    ("pool-too-small", s(f"{CP}.pool", []), 3, (f"{CP}.pool", "pool size >= replicas")),
    ("literal-secret-key", s("platform.credentials.secretKey", "hunter2"), 3,
     ("platform.credentials.secretKey: literal secrets are not allowed",)),
    ("missing-region", s("platform.credentials.region", DELETE), 3,
     ("platform.credentials.region: required field missing",)),
    ("empty-project", s("platform.credentials.projectID", " "), 3,
     ("platform.credentials.projectID: empty",)),
    ("schema-ftp", s("platform.credentials.schema", "ftp"), 3, ("platform.credentials.schema",)),
    ("domain-with-scheme", s("platform.credentials.externalGlobalDomain", "https://hcs.example"),
     3, ("platform.credentials.externalGlobalDomain",)),
    ("unknown-platform-key", s("platform.loadBalancer.type", "external"), 3,
     ("platform.loadBalancer.type: unknown field",)),
    ("size-as-string", s(f"{CP}.rootVolume.size", "100"), 3,
     (f"{CP}.rootVolume.size: expected an integer",)),
    ("worker-no-prefix", add_worker(name="worker"), 3,
     ("platform.workers[0].name", "global-")),
    ("worker-pool-too-small", add_worker(replicas=3), 3,
     ("platform.workers[0].pool", "pool size >= replicas")),
    ("worker-ip-clash", add_worker(pool=[{"hostname": "global-worker-1", "networks": [
        {"subnetName": "global-subnet", "ipAddress": "192.168.1.12"}]}]), 3,
     ("platform.workers[0].pool[0].networks[0].ipAddress", "already used")),
]


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 15
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize(("mutate", "code", "needles"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str], mutate: Mutation,
                  code: int, needles: tuple[str, ...]) -> None:
    data = hcs_example()
    mutate(data)
    spec = write(tmp_path / "spec.yaml", data)
    out = tmp_path / "out"
    assert main(["render", "-f", str(spec), "-o", str(out)]) == code
    err = capsys.readouterr().err
    for needle in needles:
        assert needle in err, err
    assert "Traceback" not in err
    assert re.search(r"fix: \S", err), "every finding says how to fix it"
    assert not out.exists(), "nothing may be written for a bad spec"
    assert main(["validate", "-f", str(spec)]) == code


def test_all_hcs_findings_reported_together(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    data = hcs_example()
    for mutate in (CASES[0][1], CASES[7][1], CASES[16][1], CASES[25][1]):
        mutate(data)
    assert main(["validate", "-f", str(write(tmp_path / "s.yaml", data))]) == 3
    err = capsys.readouterr().err
    for path in ("controlPlane.format", f"{LB}.elbVirsubnetL4Ips[0].ips",
                 f"{CP}.pool[0].hostname", PD):
        assert path in err
    assert re.search(r"s\.yaml:\d+: platform\.controlPlane\.pool\[0\]\.hostname", err)


def test_warnings_do_not_stop_the_render(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    data = hcs_example()
    setpath(data, f"{CP}.pool[0].persistentDisks", DELETE)
    setpath(data, f"{CP}.pool[1].persistentDisks", DELETE)
    setpath(data, f"{CP}.pool[2].persistentDisks", DELETE)
    setpath(data, f"{CP}.dataVolumes", [])
    render(tmp_path, data)
    err = capsys.readouterr().err
    assert "warning: " in err and "no /var/cpaas persistent disk" in err
    assert "no data volume mounted at /var/lib/etcd" in err


# --- the plugin on its own ----------------------------------------------------------------------


def test_hcs_renders_with_every_other_provider_disabled(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from acp_install import installed
    others = sorted(set(installed()) - {"hcs"})
    monkeypatch.setenv("ACP_INSTALL_DISABLE_PLUGINS", ",".join([*others, "nosuch"]))
    assert sorted(installed()) == ["hcs"]
    render(tmp_path, hcs_example())
    assert main(["providers"]) == 0
    listing = capsys.readouterr().out
    assert "hcs " in listing and "dcs " not in listing


def test_plugin_depends_on_the_core_only() -> None:
    from importlib import metadata
    requires = [r for r in metadata.requires("acp-install-hcs") or [] if "extra ==" not in r]
    assert sorted(r.split(">")[0].split("<")[0].split("=")[0] for r in requires) == \
        ["acp-install", "attrs"]
    extras = [r for r in metadata.requires("acp-install-hcs") or [] if "extra ==" in r]
    assert [r.split("<")[0] for r in extras] == ["acp-install-sandbox"]  # only for `[sandbox]`
    root = Path(__file__).resolve().parent.parent / "plugins" / "hcs" / "acp_install_hcs"
    for py in root.rglob("*.py"):
        text = py.read_text()
        assert "acp_install_dcs" not in text and "acp_install_vsphere" not in text, py.name
        assert not re.search(r"^from acp_install\.(?!provider\b)", text, re.M), py.name
    eps = metadata.entry_points(group="acp_install.providers", name="hcs")
    assert [ep.value for ep in eps] == ["acp_install_hcs.plugin"]


def test_disabled_plugin_is_an_unknown_provider(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path / "spec.yaml", hcs_example())
    monkeypatch.setenv("ACP_INSTALL_DISABLE_PLUGINS", "hcs")
    out = tmp_path / "out"
    assert main(["render", "-f", str(spec), "-o", str(out)]) == 5
    err = capsys.readouterr().err
    assert "unknown provider 'hcs'; installed providers:" in err
    assert "pip install acp-install-hcs" in err
    assert "Traceback" not in err and not out.exists()
    assert main(["init", "--provider", "hcs"]) == 5
    assert "unknown provider 'hcs'" in capsys.readouterr().err
    with pytest.raises(Exception, match="unknown provider 'hcs'"):
        load_provider("hcs")


# --- diagnose -----------------------------------------------------------------------------------


def test_diagnose_explains_hcs_stalls() -> None:
    provider = load_provider("hcs")
    snapshot = {
        "HCSCluster": [{"metadata": {"name": "global"}, "status": {"conditions": [
            {"type": "ControlPlaneHAReady", "status": "False", "reason": "ControlPlaneHAFailed",
             "message": "server group quota exceeded"}]}}],
        "HCSMachine": [{"metadata": {"name": "global-cp-machine-template-x"}, "status": {
            "conditions": [{"type": "MachineReady", "status": "False",
                            "reason": "CreateFailed", "message": "flavor not found"}]}},
                       {"metadata": {"name": "ok"}, "status": {"conditions": [
                           {"type": "MachineReady", "status": "True"}]}}],
    }
    found = provider.diagnose(snapshot)
    assert [d.object for d in found] == ["HCSCluster/global",
                                         "HCSMachine/global-cp-machine-template-x"]
    assert "quota" in found[0].detail and "flavor not found" in found[1].detail
    assert provider.diagnose({}) == []


def test_kubernetes_1_35_kubelet_policy_on_control_plane_and_workers(
        tmp_path: Path, full_example: dict[str, Any]) -> None:
    objects = rendered(render(tmp_path, setpath(full_example, "k8sVersion", "v1.35.6-acp.1")))
    bodies = [o["spec"]["kubeadmConfigSpec"] if o["kind"] == "KubeadmControlPlane"
              else o["spec"]["template"]["spec"] for o in objects
              if o["kind"] in ("KubeadmControlPlane", "KubeadmConfigTemplate")]
    patches = [json.loads(f["content"]) for b in bodies for f in b["files"]
               if f["path"].endswith("strategic.json")]
    assert len(patches) == 2
    assert all(p["imagePullCredentialsVerificationPolicy"] == "NeverVerify" for p in patches)


def test_step7_key_bases_come_from_the_core_helper() -> None:
    """The etcd key base pattern lives in ImportEntry.etcd only, not re-implemented here."""
    package = Path(__file__).resolve().parent.parent / "plugins" / "hcs" / "acp_install_hcs"
    for source in package.glob("*.py"):
        assert "/registry/" not in source.read_text(), source.name


def test_create_page_cluster_annotations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The HCS page's Cluster annotations: sentry-deploy-type Baremetal and alb-address-type
    ClusterAddress by default (the page's literals), the kube-ovn version from the spec (a
    warning when unset), clusterAnnotations override."""
    data = full_example_spec()
    ann = by_kind(objects_of((render(tmp_path, data) / "global.yaml").read_text()),
                  "Cluster")[0]["metadata"]["annotations"]
    assert ann["cpaas.io/sentry-deploy-type"] == "Baremetal"
    assert ann["cpaas.io/alb-address-type"] == "ClusterAddress"
    assert ann["cpaas.io/kube-ovn-version"] == "v4.3.11"
    assert "platform.kubeOvnVersion" not in capsys.readouterr().err

    del data["platform"]["kubeOvnVersion"]
    data["platform"]["albAddressType"] = None
    data["platform"]["clusterAnnotations"] = {"cpaas.io/sentry-deploy-type": "Other"}
    ann = by_kind(objects_of((render(tmp_path / "b", data) / "global.yaml").read_text()),
                  "Cluster")[0]["metadata"]["annotations"]
    assert "cpaas.io/alb-address-type" not in ann and "cpaas.io/kube-ovn-version" not in ann
    assert ann["cpaas.io/sentry-deploy-type"] == "Other"
    err = capsys.readouterr().err
    assert "platform.kubeOvnVersion" in err and "OS Support Matrix" in err
