"""The DCS provider end to end, offline: render, CRD validity, golden files, the seed's rules."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from acp_install.cli.main import main
from acp_install.testing.conformance import ProviderConformance

from specs import by_kind, example, render, setpath, write
from support import CANARIES, GOLDEN, assert_valid_against_crds, objects_of, secret_holders


def full_example_spec() -> dict[str, Any]:
    """The init example plus a worker group, a join CIDR and registry credentials."""
    data = example("dcs")
    data["kubeOvnJoinCIDR"] = "100.64.0.0/16"
    data["credentials"]["registry"] = {"username": "registry-admin",
                                       "password": {"env": "REGISTRY_PASSWORD"}}
    cp = data["platform"]["controlPlane"]
    worker = {k: v for k, v in cp.items() if k != "pool"}
    worker["disks"] = [d for d in cp["disks"] if d.get("path") != "/var/lib/etcd"]
    worker["pool"] = [{"ip": f"192.168.10.{30 + i}", "mask": "24", "gateway": "192.168.10.1",
                       "hostname": f"global-worker-{i}"} for i in range(2)]
    worker.update({"name": "global-worker", "replicas": 2})
    data["platform"]["workers"] = [worker]
    return data


@pytest.fixture
def full_example() -> dict[str, Any]:
    return full_example_spec()


class TestDcsConformance(ProviderConformance):
    """The conformance suite on the full example: golden files (``tests/golden/dcs``), determinism
    across hash seeds, CRD validity, secret canaries and a sandbox install."""

    provider_id = "dcs"
    golden_dir = GOLDEN / "dcs"

    def sample_spec(self, example: dict[str, Any]) -> dict[str, Any]:
        return full_example_spec()


def test_every_object_validates_against_its_crd(tmp_path: Path, crd_registry: Any,
                                                full_example: dict[str, Any]) -> None:
    out = render(tmp_path, full_example)
    objects = objects_of((out / "global.yaml").read_text())
    kinds = {o["kind"] for o in objects}
    assert {"DCSIpHostnamePool", "DCSMachineTemplate", "KubeadmControlPlane", "DCSCluster",
            "Cluster", "KubeadmConfigTemplate", "MachineDeployment"} <= kinds
    assert assert_valid_against_crds(crd_registry, objects) == len(objects) - 1  # all but Secret


def test_crd_validation_can_fail(crd_registry: Any, tmp_path: Path) -> None:
    out = render(tmp_path, example("dcs"))
    kcp = by_kind(objects_of((out / "global.yaml").read_text()), "KubeadmControlPlane")[0]
    kcp["spec"]["kubeadmConfigSpec"]["format"] = "cloud-init"
    kcp["spec"]["bogus"] = 1
    errors = " ".join(map(str, crd_registry.validate(kcp, unknown="error")))
    assert "format" in errors and "bogus" in errors


def test_seed_rules_on_rendered_manifest(tmp_path: Path, full_example: dict[str, Any]) -> None:
    out = render(tmp_path, full_example)
    objects = objects_of((out / "global.yaml").read_text())
    cluster = by_kind(objects, "Cluster")[0]
    assert cluster["metadata"]["name"] == "global"
    assert by_kind(objects, "DCSCluster")[0]["metadata"]["name"] == "global"
    for obj in objects:
        assert obj["metadata"]["namespace"] == "cpaas-system"
        if obj["kind"] not in ("Cluster", "DCSCluster", "Secret"):
            assert obj["metadata"]["name"].startswith("global-"), obj["kind"]
    assert cluster["metadata"]["labels"] == {"cluster-type": "DCS", "is-global": "true"}
    ann = cluster["metadata"]["annotations"]
    assert ann["capi.cpaas.io/resource-group-version"] == "infrastructure.cluster.x-k8s.io/v1beta1"
    assert ann["capi.cpaas.io/resource-kind"] == "DCSCluster"
    assert ann["cpaas.io/registry-address"] == "192.168.1.10:11443"  # NODE = HOST_IP:11443
    assert ann["cpaas.io/kube-ovn-join-cidr"] == "100.64.0.0/16"
    assert cluster["spec"]["controlPlaneRef"]["name"] == "global-kcp"
    assert cluster["spec"]["infrastructureRef"] == {
        "apiVersion": "infrastructure.cluster.x-k8s.io/v1beta1", "kind": "DCSCluster",
        "name": "global"}
    kcp = by_kind(objects, "KubeadmControlPlane")[0]
    assert kcp["metadata"]["name"] == "global-kcp"
    assert kcp["metadata"]["annotations"] == {"controlplane.cluster.x-k8s.io/skip-kube-proxy": ""}
    assert kcp["spec"]["rolloutStrategy"]["rollingUpdate"]["maxSurge"] == 0
    assert kcp["spec"]["version"] == "v1.34.5-3"
    body = kcp["spec"]["kubeadmConfigSpec"]
    assert body["format"] == "ignition"
    sans = body["clusterConfiguration"]["etcd"]["local"]["serverCertSANs"]
    assert sans == ["192.168.1.100", "platform.example.com"]
    # non-DR: no encryption anywhere
    assert "encryption" not in json.dumps(body)
    assert "encryptionProviderConfigRef" not in by_kind(objects, "DCSCluster")[0]["spec"]
    assert body["users"][0]["sshAuthorizedKeys"]
    join_args = body["joinConfiguration"]["nodeRegistration"]["kubeletExtraArgs"]
    assert join_args["provider-id"] == "PROVIDER_ID" and join_args["node-ip"] == "NODE_IP"
    tmpl = kcp["spec"]["machineTemplate"]["infrastructureRef"]["name"]
    assert tmpl in {o["metadata"]["name"] for o in by_kind(objects, "DCSMachineTemplate")}
    md = by_kind(objects, "MachineDeployment")[0]
    assert md["spec"]["clusterName"] == "global"
    assert md["spec"]["template"]["spec"]["bootstrap"]["configRef"]["name"] in {
        o["metadata"]["name"] for o in by_kind(objects, "KubeadmConfigTemplate")}
    dcs = by_kind(objects, "DCSCluster")[0]["spec"]
    assert dcs["controlPlaneLoadBalancer"] == {"type": "external", "host": "192.168.1.100",
                                               "port": 6443}
    assert dcs["credentialSecretRef"]["name"] == "global-secret"


def test_three_registry_addresses_each_in_its_place(tmp_path: Path,
                                                    full_example: dict[str, Any]) -> None:
    full_example["bootstrapRegistryAddress"] = "172.18.0.1:11443"
    full_example["localRegistryAddress"] = "127.0.0.1:11443"
    out = render(tmp_path, full_example)
    apps = objects_of((out / "appreleases.yaml").read_text())
    assert [a["metadata"]["name"] for a in apps] == ["cluster-api-provider-kubeadm",
                                                     "cluster-api-provider-dcs"]
    for app in apps:
        assert app["spec"]["source"]["repoURL"] == "172.18.0.1:11443"
        assert app["spec"]["values"]["global"]["registry"]["address"] == "172.18.0.1:11443"
        assert app["spec"]["values"]["global"]["cluster"]["type"] == "Baremetal"
        assert app["spec"]["source"]["chartPullSecret"] == "global-registry-auth"
    text = (out / "global.yaml").read_text()
    assert "172.18.0.1" not in text and "127.0.0.1" not in text
    runbook = (out / "RUNBOOK.md").read_text()
    assert 'pack push -r "${LOCAL_REGISTRY_ADDRESS}"' in runbook
    assert 'export LOCAL_REGISTRY_ADDRESS=127.0.0.1:11443' in runbook


def test_anonymous_registry_has_no_pull_secret(tmp_path: Path) -> None:
    out = render(tmp_path, example("dcs"))
    for app in objects_of((out / "appreleases.yaml").read_text()):
        assert "chartPullSecret" not in app["spec"]["source"]
        assert "imagePullSecrets" not in app["spec"]["values"]["global"]["registry"]


def test_installer_payload(tmp_path: Path, canaries: dict[str, str],
                           full_example: dict[str, Any]) -> None:
    out = render(tmp_path, full_example, "--include-secrets")
    body = json.loads((out / "installer-config.json").read_text())
    assert body["console"]["host"] == ["192.168.1.100"]
    assert body["console"]["globalHost"] == "platform.example.com"
    assert body["cluster"] == {"clusterCIDR": "100.3.0.0/16", "serviceCIDR": "100.4.0.0/16",
                               "features": {"ha": {"vip": "192.168.1.100", "vport": 6443,
                                                   "isThirdParty": True}}}
    assert body["hostIP"] == "192.168.1.10"
    assert body["registry"]["domain"] == "platform.example.com:11443"
    import base64
    assert base64.b64decode(body["basic"]["password"]).decode() == CANARIES["ACP_ADMIN_PASSWORD"]
    assert base64.b64decode(body["registry"]["password"]).decode() == CANARIES["REGISTRY_PASSWORD"]
    assert body["product"] == ["base", "acp"] and body["deployMode"] == "normal"


def test_extra_resources_follow_the_rendered_secret(tmp_path: Path) -> None:
    data = example("dcs")
    data["providerSecretName"] = "global-dcs-credentials"
    out = render(tmp_path, data)
    cm = objects_of((out / "extra-resources.yaml").read_text())[0]
    assert cm["metadata"] == {"name": "dcs-import-extra-resources", "namespace": "cpaas-system"}
    assert "names:\n      - global-dcs-credentials" in cm["data"]["resources.yaml"]


def test_seed_no_configmap_option(tmp_path: Path) -> None:
    data = setpath(example("dcs"), "platform.importExtraResources", False)
    out = render(tmp_path, data)
    assert not (out / "extra-resources.yaml").exists()
    assert "No `dcs-import-extra-resources` ConfigMap" in (out / "RUNBOOK.md").read_text()


def test_kubernetes_1_35_kubelet_policy(tmp_path: Path) -> None:
    out = render(tmp_path, setpath(example("dcs"), "k8sVersion", "v1.35.6-acp.1"))
    assert "imagePullCredentialsVerificationPolicy" in (out / "global.yaml").read_text()
    out = render(tmp_path / "old", example("dcs"))
    assert "imagePullCredentialsVerificationPolicy" not in (out / "global.yaml").read_text()


def test_dr_primary_uses_secret_reference_not_file(tmp_path: Path, canaries: dict[str, str],
                                                   crd_registry: Any) -> None:
    data = example("dcs")
    data["dr"] = {"role": "primary", "primaryVIP": "192.168.1.100", "standbyVIP": "192.168.2.100",
                  "encryptionKey": {"env": "ENCRYPTION_KEY"}}
    out = render(tmp_path, data)
    objects = objects_of((out / "global.yaml").read_text())
    dcs = by_kind(objects, "DCSCluster")[0]
    assert dcs["spec"]["encryptionProviderConfigRef"] == {"name": "encryption-provider-config"}
    kcp = by_kind(objects, "KubeadmControlPlane")[0]
    files = [f["path"] for f in kcp["spec"]["kubeadmConfigSpec"]["files"]]
    assert "/etc/kubernetes/encryption-provider.conf" not in files
    sans = kcp["spec"]["kubeadmConfigSpec"]["clusterConfiguration"]["etcd"]["local"]["serverCertSANs"]
    assert sans == ["192.168.1.100", "192.168.2.100", "platform.example.com", "etcd.kube-system"]
    assert CANARIES["ENCRYPTION_KEY"] not in (out / "global.yaml").read_text()
    assert (out / "dr" / "encryption-provider.conf").exists()
    imports = objects_of((out / "extra-resources.yaml").read_text())[0]["data"]["resources.yaml"]
    assert "- encryption-provider-config" in imports and "- global-secret" in imports
    assert_valid_against_crds(crd_registry, objects)


def test_secrets_only_in_0600_files(tmp_path: Path, canaries: dict[str, str],
                                    full_example: dict[str, Any],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    full_example["dr"] = {"role": "primary", "primaryVIP": "192.168.1.100",
                          "standbyVIP": "192.168.2.100",
                          "encryptionKey": {"env": "ENCRYPTION_KEY"}}
    full_example["platformHost"] = "platform.example.com"
    plain = render(tmp_path / "plain", full_example)
    with_secrets = render(tmp_path / "secret", full_example, "--include-secrets")
    holders = secret_holders(plain, with_secrets, canaries.values())
    assert holders == {"global.yaml", "installer-config.json", "dr/encryption-provider.conf"}
    out = capsys.readouterr()
    for value in canaries.values():
        assert value not in out.out + out.err



CP = "platform.controlPlane"


def _with_worker(data: dict[str, Any], **slot: Any) -> dict[str, Any]:
    cp = data["platform"]["controlPlane"]
    worker = {k: v for k, v in cp.items() if k != "pool"}
    worker["disks"] = [d for d in cp["disks"] if d.get("path") != "/var/lib/etcd"]
    worker["pool"] = [{"ip": "192.168.10.40", "mask": "24", "gateway": "192.168.10.1",
                       "hostname": "global-worker-1", **slot}]
    worker.update({"name": "global-worker", "replicas": 1})
    data["platform"]["workers"] = [worker]
    return data


# (id, mutation, the field path and text the error must contain)
POOL_CASES: list[tuple[str, Any, str, str]] = [
    ("dup-hostname", lambda d: setpath(d, f"{CP}.pool[2].hostname", "global-cp-1"),
     f"{CP}.pool[2].hostname", "'global-cp-1' is already used by platform.controlPlane.pool[0]"),
    ("dup-machine-name", lambda d: setpath(d, f"{CP}.pool[1].machineName", "global-cp-3"),
     f"{CP}.pool[2].machineName", "'global-cp-3' is already used by platform.controlPlane.pool[1]"),
    ("dup-hostname-across-pools", lambda d: _with_worker(d, hostname="global-cp-2"),
     "platform.workers[0].pool[0].hostname", "already used by platform.controlPlane.pool[1]"),
    ("dup-machine-name-across-pools", lambda d: _with_worker(d, machineName="global-cp-1"),
     "platform.workers[0].pool[0].machineName", "already used by platform.controlPlane.pool[0]"),
    ("dup-ip-across-pools", lambda d: _with_worker(d, ip="192.168.10.12"),
     "platform.workers[0].pool[0].ip", "already used by platform.controlPlane.pool[1]"),
    ("gateway-outside-subnet", lambda d: setpath(d, f"{CP}.pool[0].gateway", "192.168.11.1"),
     f"{CP}.pool[0].gateway", "outside the slot's subnet 192.168.10.0/24"),
    ("gateway-outside-narrow-mask", lambda d: setpath(d, f"{CP}.pool[1].mask", "30"),
     f"{CP}.pool[1].gateway", "outside the slot's subnet 192.168.10.12/30"),
    ("gateway-is-node-ip", lambda d: setpath(d, f"{CP}.pool[0].gateway", "192.168.10.11"),
     f"{CP}.pool[0].gateway", "the gateway is the node IP itself"),
]


@pytest.mark.parametrize(("mutate", "path", "needle"), [c[1:] for c in POOL_CASES],
                         ids=[c[0] for c in POOL_CASES])
def test_pool_slot_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str], mutate: Any,
                         path: str, needle: str) -> None:
    data = example("dcs")
    mutate(data)
    spec = write(tmp_path / "spec.yaml", data)
    assert main(["validate", "-f", str(spec)]) == 3
    err = capsys.readouterr().err
    line = next(ln for ln in err.splitlines() if f"{path}:" in ln and "error" in ln)
    assert needle in line
    fix = err.split(line, 1)[1].splitlines()[1]
    assert "fix:" in fix
    assert "Traceback" not in err
    assert err.count("error(s)") == 1 and " 1 error(s)" in err


def test_distinct_pool_slots_and_gateways_in_subnet_are_accepted(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _with_worker(example("dcs"), machineName="global-worker-1")
    setpath(data, f"{CP}.pool[0].mask", "16")
    setpath(data, f"{CP}.pool[0].gateway", "192.168.0.1")  # in 192.168.0.0/16
    assert main(["validate", "-f", str(write(tmp_path / "spec.yaml", data))]) == 0
    err = capsys.readouterr().err
    assert not [line for line in err.splitlines() if ".pool[" in line and "example value" not in line]


def test_standby_runbook_has_the_etcd_sync_steps(tmp_path: Path, canaries: dict[str, str]) -> None:
    data = example("dcs")
    data["controlPlaneVIP"] = "192.168.2.100"
    data["dr"] = {"role": "standby", "primaryVIP": "192.168.1.100", "standbyVIP": "192.168.2.100",
                  "encryptionKey": {"env": "ENCRYPTION_KEY"}, "etcdSyncVersion": "v4.3.2"}
    runbook = (render(tmp_path, data) / "RUNBOOK.md").read_text()
    assert '"version": "v4.3.2"' in runbook and '"active_cluster_vip": "192.168.1.100"' in runbook
    assert 'curl -sk -X POST "https://192.168.2.100/apis/cluster.alauda.io/v1alpha1/moduleinfoes"' in runbook
    assert "service_name=cluster-transformer" in runbook
    assert CANARIES["ENCRYPTION_KEY"] not in runbook
    data["dr"]["role"] = "primary"
    data["controlPlaneVIP"] = "192.168.1.100"
    primary = (render(tmp_path / "p", data) / "RUNBOOK.md").read_text()
    assert "moduleinfoes" not in primary and "service_name=cluster-transformer" in primary


def test_render_never_follows_a_planted_symlink(tmp_path: Path, canaries: dict[str, str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    for name in ("installer-config.json", "installer-config.json.tmp", "global.yaml.tmp"):
        (out / name).symlink_to(victim)
    spec = write(tmp_path / "spec.yaml", example("dcs"))
    # an existing name is refused without --force (nothing written), replaced with it
    assert main(["render", "-f", str(spec), "--output-dir", str(out), "--include-secrets"]) == 2
    assert victim.read_text() == "untouched" and not (out / "global.yaml").exists()
    assert main(["render", "-f", str(spec), "--output-dir", str(out), "--include-secrets", "--force"]) == 0
    assert victim.read_text() == "untouched"
    assert not (out / "installer-config.json").is_symlink()
    assert oct(os.stat(out / "installer-config.json").st_mode & 0o777) == "0o600"


def test_documented_cluster_annotations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The DCS Cluster annotation table: capi.cpaas.io/kubernetes = the KCP version,
    cpaas.io/nodes-mode: self-managed, kube-ovn version; required ones warn when unset."""
    data = full_example_spec()
    data["platform"]["osFamily"] = "slemicro"
    objects = objects_of((render(tmp_path, data) / "global.yaml").read_text())
    ann = by_kind(objects, "Cluster")[0]["metadata"]["annotations"]
    kcp = by_kind(objects, "KubeadmControlPlane")[0]
    assert ann["capi.cpaas.io/kubernetes"] == kcp["spec"]["version"] == data["k8sVersion"]
    assert ann["cpaas.io/nodes-mode"] == "self-managed"
    assert ann["cpaas.io/kube-ovn-version"] == "v4.3.11"
    assert ann["cpaas.io/os-family"] == "slemicro"
    assert "annotations" not in capsys.readouterr().err

    data = example("dcs")
    del data["platform"]["kubeOvnVersion"]
    data["platform"]["nodesMode"] = None
    data["platform"]["clusterAnnotations"] = {"capi.cpaas.io/kubernetes": "v1.34.5-3-custom"}
    objects = objects_of((render(tmp_path / "b", data) / "global.yaml").read_text())
    ann = by_kind(objects, "Cluster")[0]["metadata"]["annotations"]
    assert "cpaas.io/nodes-mode" not in ann and "cpaas.io/kube-ovn-version" not in ann
    assert ann["capi.cpaas.io/kubernetes"] == "v1.34.5-3-custom"  # the override wins
    err = capsys.readouterr().err
    assert "kubeOvnJoinCIDR" in err and "cpaas.io/kube-ovn-join-cidr is required" in err
    assert "platform.kubeOvnVersion" in err and "OS Support Matrix" in err


def test_additional_nics_render_and_warn_where_the_page_says_check(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], crd_registry: Any) -> None:
    """infrastructure/huawei-dcs.mdx "Additional NICs in the IP Pool": both DVS and Port Group,
    ip/mask for the guest, a gateway only if its route behaviour was checked."""
    data = example("dcs")
    nic = {"ip": "10.9.0.11", "mask": "24", "gateway": "10.9.0.1", "dns": "10.9.0.2;10.9.0.3",
           "dvSwitchName": "dvs-storage", "portGroupName": "pg-storage"}
    setpath(data, f"{CP}.pool[0].additionNic", [nic])
    out = render(tmp_path, data)
    err = capsys.readouterr().err
    assert f"{CP}.pool[0].additionNic[0].gateway: an additional NIC with a gateway can take over" in err
    objects = objects_of((out / "global.yaml").read_text())
    pool = by_kind(objects, "DCSIpHostnamePool")[0]
    assert pool["spec"]["pool"][0]["additionNic"] == [nic]
    assert assert_valid_against_crds(crd_registry, objects) == len(
        [o for o in objects if o["kind"] != "Secret"])  # every custom resource, CRD-valid


def test_an_additional_nic_on_the_node_subnet_warns(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    data = setpath(example("dcs"), f"{CP}.pool[0].additionNic",
                   [{"ip": "192.168.10.50", "mask": "24", "dvSwitchName": "d", "portGroupName": "p"}])
    assert main(["validate", "-f", str(write(tmp_path / "spec.yaml", data))]) == 0
    assert "additionNic[0].ip: 192.168.10.50/24 is on the node IP's own subnet" in capsys.readouterr().err
