"""The VMware vSphere provider end to end, offline: render, CRD and upstream-schema validity,
golden files, Step 7 derivation, installer payload, encryption key handling, secret hygiene and a
bad-input table."""

from __future__ import annotations

import base64
import copy
import json
import os
import stat
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from acp_install.cli.main import main
from acp_install.testing.conformance import ProviderConformance

from specs import DELETE, by_kind, example, files_of, render, setpath, write
from support import (
    CANARIES,
    GOLDEN,
    SHARED,
    assert_valid_against_crds,
    needs_shared,
    objects_of,
    secret_holders,
)

SCHEMAS = SHARED / "schemas" / "capi"
#: Fields of the Alauda CAPV fork that upstream CAPV v1.16 does not have (§3.3).
FORK_FIELDS = {("VSphereMachineTemplate", "spec.template.spec.machineConfigPoolRef")}
#: Default location of the generated key (HOME is a scratch directory in these tests).
KEY_FILE = "~/.acp-install/192.168.1.100/global-encryption-key"
#: Where earlier versions put it: relative to the current directory (the defect fixed).
CWD_KEY_FILE = ".acp-install/global-encryption-key"
DR = {"role": "primary", "primaryVIP": "192.168.1.100", "standbyVIP": "192.168.2.100",
      "encryptionKey": {"env": "ENCRYPTION_KEY"}}


def manifest(out: Path) -> list[dict[str, Any]]:
    return objects_of((out / "global.yaml").read_text())


def one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = by_kind(objects, kind)
    assert len(found) == 1, f"{len(found)} {kind}"
    return found[0]


def kubeadm_files(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["path"]: f for f in body["files"]}


@pytest.fixture(autouse=True)
def _work_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in a scratch cwd and HOME: a generated key lands in the scratch ~/.acp-install."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ACP_ADMIN_PASSWORD", CANARIES["ACP_ADMIN_PASSWORD"])
    monkeypatch.setenv("VSPHERE_PASSWORD", CANARIES["VSPHERE_PASSWORD"])


def full_example_spec() -> dict[str, Any]:
    """The init example plus a second NIC, a worker group, registry credentials, a given key."""
    data = example("vsphere")
    data["kubeOvnJoinCIDR"] = "100.64.0.0/16"
    data["credentials"]["registry"] = {"username": "registry-admin",
                                       "password": {"env": "REGISTRY_PASSWORD"}}
    p = data["platform"]
    p["encryptionKey"] = {"env": "ENCRYPTION_KEY"}
    p["kubeOvnVersion"] = "v4.3.11"
    p["imageRepository"] = "192.168.1.10:11443/tkestack"
    cp = p["controlPlane"]
    for i, slot in enumerate(cp["configs"]):
        slot["network"]["additional"] = [{"networkName": "storage-pg", "deviceName": "eth1",
                                          "ip": f"10.20.0.{11 + i}/24"}]
    worker = {k: copy.deepcopy(v) for k, v in cp.items() if k != "configs"}
    worker.update({"name": "global-worker", "replicas": 2, "numCPUs": 16, "memoryMiB": 32768,
                   "cloneMode": "fullClone", "diskGiB": 120})
    worker["configs"] = [{
        "hostname": f"global-worker-{i}",
        "network": {"primary": {"networkName": "VM Network", "deviceName": "eth0",
                                "ip": f"192.168.10.{30 + i}/24", "gateway": "192.168.10.1",
                                "dns": ["192.168.10.2"]},
                    "additional": [{"networkName": "storage-pg", "deviceName": "eth1",
                                    "ip": f"10.20.0.{30 + i}/24"}]},
        "persistentDisks": [
            {"name": "var-cpaas", "sizeGiB": 100, "mountPath": "/var/cpaas"},
            {"name": "var-lib-containerd", "sizeGiB": 100, "mountPath": "/var/lib/containerd"},
        ],
    } for i in range(2)]
    p["workers"] = [worker]
    return data


@pytest.fixture
def full_example() -> dict[str, Any]:
    return full_example_spec()


class TestVsphereConformance(ProviderConformance):
    """The conformance suite on the full example: golden files (``tests/golden/vsphere``), determinism
    across hash seeds, CRD validity, secret canaries and a sandbox install."""

    provider_id = "vsphere"
    golden_dir = GOLDEN / "vsphere"

    def sample_spec(self, example: dict[str, Any]) -> dict[str, Any]:
        return full_example_spec()


# --- schema validity ---------------------------------------------------------------------------


def test_every_object_validates_against_its_crd(tmp_path: Path, crd_registry: Any,
                                                canaries: dict[str, str],
                                                full_example: dict[str, Any]) -> None:
    objects = manifest(render(tmp_path, full_example))
    kinds = [o["kind"] for o in objects]
    assert kinds == [
        "Secret", "VSphereMachineConfigPool", "VSphereMachineTemplate",
        "VSphereMachineConfigPool", "VSphereMachineTemplate", "VSphereCluster",
        "KubeadmControlPlane", "Cluster", "KubeadmConfigTemplate", "MachineDeployment",
        "ConfigMap", "Secret", "ConfigMap", "ClusterResourceSet",
    ]
    assert assert_valid_against_crds(crd_registry, objects) == 10  # all but 4 core v1


def test_crd_validation_can_fail(crd_registry: Any, tmp_path: Path) -> None:
    objects = manifest(render(tmp_path, example("vsphere")))
    pool = one(objects, "VSphereMachineConfigPool")
    pool["spec"]["configs"][0]["hostname"] = "Bad_Host"
    del pool["spec"]["configs"][1]["network"]["primary"]["networkName"]
    errors = " ".join(map(str, crd_registry.validate(pool, unknown="error")))
    assert "hostname" in errors and "networkName" in errors
    cluster = one(objects, "VSphereCluster")
    cluster["spec"]["identityRef"]["kind"] = "ConfigMap"
    assert crd_registry.validate(cluster, unknown="error")


def _plain_json_schema(node: Any) -> Any:
    """Kubernetes structural schema -> JSON Schema that rejects unknown fields (see README)."""
    if isinstance(node, list):
        return [_plain_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _plain_json_schema(v) for k, v in node.items()
           if not k.startswith("x-kubernetes-") and k != "nullable"}
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    if "properties" in out and "additionalProperties" not in out and \
            not node.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


def _upstream_errors(obj: dict[str, Any]) -> list[str]:
    group, version = obj["apiVersion"].split("/")
    path = SCHEMAS / f"{group}_{version}_{obj['kind']}.json"
    schema = _plain_json_schema(json.loads(path.read_text()))
    schema["properties"]["metadata"] = {"type": "object"}
    obj = copy.deepcopy(obj)
    for kind, dotted in FORK_FIELDS:  # fork-only fields: checked by the fork's CRD instead
        if kind == obj["kind"]:
            *parents, last = dotted.split(".")
            node = obj
            for part in parents:
                node = node.get(part, {})
            node.pop(last, None)
    validator = jsonschema.Draft7Validator(schema)
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(obj)]


@needs_shared
def test_objects_validate_against_upstream_capi_and_capv_schemas(
        tmp_path: Path, full_example: dict[str, Any], canaries: dict[str, str]) -> None:
    objects = manifest(render(tmp_path, full_example))
    checked = set()
    for obj in objects:
        group, version = obj["apiVersion"].partition("/")[::2]
        if (SCHEMAS / f"{group}_{version}_{obj['kind']}.json").exists():
            assert _upstream_errors(obj) == [], obj["kind"]
            checked.add(obj["kind"])
    assert {"VSphereCluster", "VSphereMachineTemplate", "Cluster", "KubeadmControlPlane",
            "KubeadmConfigTemplate", "MachineDeployment"} == checked


@needs_shared
def test_upstream_schema_check_can_fail(tmp_path: Path) -> None:
    objects = manifest(render(tmp_path, example("vsphere")))
    tmpl = one(objects, "VSphereMachineTemplate")
    tmpl["spec"]["template"]["spec"]["powerOffMode"] = "off"
    tmpl["spec"]["template"]["spec"]["bogus"] = True
    errors = " ".join(_upstream_errors(tmpl))
    assert "'off' is not one of" in errors and "bogus" in errors
    cluster = one(objects, "VSphereCluster")
    cluster["spec"]["controlPlaneEndpoint"]["port"] = "6443"
    assert _upstream_errors(cluster)


# --- golden files and determinism --------------------------------------------------------------


def test_render_is_deterministic(tmp_path: Path, full_example: dict[str, Any]) -> None:
    del full_example["platform"]["encryptionKey"]  # the generated-key path must be stable too
    a = files_of(render(tmp_path / "a", full_example))
    assert len(a) == 5
    assert a == files_of(render(tmp_path / "b", full_example))
    assert not Path(KEY_FILE).expanduser().exists(), "a plain render must not generate a key"


# --- Step 3 and Step 4 -------------------------------------------------------------------------


def test_packages_and_appreleases(tmp_path: Path) -> None:
    out = render(tmp_path, example("vsphere"))
    releases = objects_of((out / "appreleases.yaml").read_text())
    assert [r["metadata"]["name"] for r in releases] == ["cluster-api-provider-kubeadm",
                                                         "cluster-api-provider-vsphere"]
    chart = releases[1]["spec"]["source"]["charts"][0]
    assert chart == {"name": "ait/chart-cluster-api-provider-vsphere",
                     "releaseName": "cluster-api-provider-vsphere", "targetRevision": "v1.0.21"}
    assert releases[1]["spec"]["values"]["global"]["cluster"]["type"] == "Baremetal"
    runbook = (out / "RUNBOOK.md").read_text()
    assert "vsphereclusters.infrastructure.cluster.x-k8s.io" in runbook


def test_manifest_wiring(tmp_path: Path, full_example: dict[str, Any]) -> None:
    objects = manifest(render(tmp_path, full_example))
    assert {o["metadata"]["namespace"] for o in objects} == {"cpaas-system"}
    secret = by_kind(objects, "Secret")[0]
    assert secret["metadata"]["name"] == "global-vsphere-credentials"
    assert set(secret["stringData"]) == {"username", "password"}
    vc = one(objects, "VSphereCluster")
    assert vc["metadata"]["name"] == "global"
    assert vc["spec"] == {
        "controlPlaneEndpoint": {"host": "192.168.1.100", "port": 6443},
        "identityRef": {"kind": "Secret", "name": "global-vsphere-credentials"},
        "server": "vcenter.example.com",
        "thumbprint": "5A:3E:9C:11:2B:7D:40:8F:A1:C6:0E:93:D4:27:B8:6F:1C:E0:45:9A",
    }
    cluster = one(objects, "Cluster")
    assert cluster["metadata"]["labels"] == {"cluster-type": "VSphere", "is-global": "true",
                                             "addons.cluster.x-k8s.io/vsphere-cpi": "enabled"}
    ann = cluster["metadata"]["annotations"]
    assert ann["capi.cpaas.io/resource-kind"] == "VSphereCluster"
    assert ann["capi.cpaas.io/resource-group-version"] == "infrastructure.cluster.x-k8s.io/v1beta1"
    assert ann["cpaas.io/alb-address-type"] == "ClusterAddress"
    assert ann["cpaas.io/network-type"] == "kube-ovn"
    assert ann["cpaas.io/registry-address"] == "192.168.1.10:11443"
    assert ann["cpaas.io/kube-ovn-version"] == "v4.3.11"
    assert cluster["spec"]["infrastructureRef"]["kind"] == "VSphereCluster"

    pools = {p["metadata"]["name"]: p for p in by_kind(objects, "VSphereMachineConfigPool")}
    templates = {t["metadata"]["name"]: t for t in by_kind(objects, "VSphereMachineTemplate")}
    assert set(pools) == {"global-cp-pool", "global-worker-pool"}
    assert set(templates) == {"global-cp-machine-template", "global-worker-machine-template"}
    for pool in pools.values():
        assert pool["spec"]["clusterRef"] == {"apiVersion": "cluster.x-k8s.io/v1beta1",
                                              "kind": "Cluster", "name": "global",
                                              "namespace": "cpaas-system"}
    for tmpl in templates.values():
        spec = tmpl["spec"]["template"]["spec"]
        assert spec["machineConfigPoolRef"]["name"] in pools
        assert spec["folder"] == "/dc1/vm/global"
        assert [d["networkName"] for d in spec["network"]["devices"]] == ["VM Network", "storage-pg"]
    kcp = one(objects, "KubeadmControlPlane")
    assert kcp["spec"]["machineTemplate"]["infrastructureRef"]["name"] == "global-cp-machine-template"
    body = kcp["spec"]["kubeadmConfigSpec"]
    assert body["format"] == "cloud-config"
    assert body["clusterConfiguration"]["controllerManager"]["extraArgs"]["cloud-provider"] == "external"
    assert body["clusterConfiguration"]["imageRepository"] == "192.168.1.10:11443/tkestack"
    assert body["clusterConfiguration"]["apiServer"]["extraArgs"]["encryption-provider-config"] == \
        "/etc/kubernetes/encryption-provider.conf"
    files = kubeadm_files(body)
    enc = files["/etc/kubernetes/encryption-provider.conf"]
    assert (enc["owner"], enc["permissions"], enc["append"]) == ("root:root", "0644", False)
    assert files["/usr/local/bin/capv-load-local-images.sh"]["permissions"] == "0755"
    assert files["/etc/resolv.conf"]["content"] == "nameserver 192.168.10.2\n"
    assert body["users"][0]["name"] == "boot"
    assert body["preKubeadmCommands"][0] == 'hostnamectl set-hostname "{{ ds.meta_data.hostname }}"'
    for conf in ("initConfiguration", "joinConfiguration"):
        reg = body[conf]["nodeRegistration"]
        assert reg["kubeletExtraArgs"]["cloud-provider"] == "external"
        assert reg["name"] == "{{ local_hostname }}"
    kct = one(objects, "KubeadmConfigTemplate")["spec"]["template"]["spec"]
    assert kct["format"] == "cloud-config"
    assert "/etc/kubernetes/encryption-provider.conf" not in kubeadm_files(kct)
    assert "node-labels" not in kct["joinConfiguration"]["nodeRegistration"]["kubeletExtraArgs"]
    md = one(objects, "MachineDeployment")
    assert md["spec"]["template"]["spec"]["infrastructureRef"]["name"] == "global-worker-machine-template"
    assert md["spec"]["template"]["metadata"]["labels"]["nodepool"] == "global-worker"
    assert md["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}


def test_cpi_resource_set(tmp_path: Path, full_example: dict[str, Any]) -> None:
    objects = manifest(render(tmp_path, full_example))
    crs = one(objects, "ClusterResourceSet")
    assert crs["metadata"]["name"] == "global-vsphere-cpi"
    assert crs["spec"]["strategy"] == "Reconcile"
    assert crs["spec"]["clusterSelector"] == {
        "matchLabels": {"addons.cluster.x-k8s.io/vsphere-cpi": "enabled"}}
    cluster = one(objects, "Cluster")
    for key, value in crs["spec"]["clusterSelector"]["matchLabels"].items():
        assert cluster["metadata"]["labels"][key] == value
    rendered = {(o["kind"], o["metadata"]["name"]): o for o in objects}
    assert [(r["kind"], r["name"]) for r in crs["spec"]["resources"]] == [
        ("ConfigMap", "global-vsphere-cpi-config"), ("Secret", "global-vsphere-cpi-secret"),
        ("ConfigMap", "global-vsphere-cpi-manifests")]
    for ref in crs["spec"]["resources"]:
        assert (ref["kind"], ref["name"]) in rendered
    config = objects_of(rendered[("ConfigMap", "global-vsphere-cpi-config")]["data"]["data"])[0]
    assert config["metadata"] == {"name": "cloud-config", "namespace": "kube-system"}
    conf = config["data"]["vsphere.conf"]
    assert 'datacenters = "dc1"' in conf and '[VirtualCenter "vcenter.example.com"]' in conf
    assert "[Labels]" not in conf
    cpi_secret = rendered[("Secret", "global-vsphere-cpi-secret")]
    assert cpi_secret["type"] == "addons.cluster.x-k8s.io/resource-set"
    inner = objects_of(cpi_secret["stringData"]["data"])[0]
    assert inner["metadata"]["name"] == "vsphere-cloud-secret"
    assert set(inner["stringData"]) == {"vcenter.example.com.username", "vcenter.example.com.password"}
    manifests = objects_of(rendered[("ConfigMap", "global-vsphere-cpi-manifests")]["data"]["data"])
    # the create-cluster page's objects in its order
    assert [m["kind"] for m in manifests] == ["ServiceAccount", "ClusterRole", "RoleBinding",
                                              "ClusterRoleBinding", "DaemonSet", "Service"]
    daemonset = manifests[4]
    ds = daemonset["spec"]["template"]["spec"]
    assert ds["containers"][0]["image"] == "192.168.1.10:11443/ait/cloud-provider-vsphere:v1.31.0"
    assert ds["hostNetwork"] is True
    # the page's restart command selects `-l k8s-app=vsphere-cloud-controller-manager`
    app = {"k8s-app": "vsphere-cloud-controller-manager"}
    assert daemonset["spec"]["selector"]["matchLabels"] == app
    assert app.items() <= daemonset["metadata"]["labels"].items()
    assert app.items() <= daemonset["spec"]["template"]["metadata"]["labels"].items()
    assert ds["tolerations"] == [
        {"operator": "Exists"},
        {"key": "node.cloudprovider.kubernetes.io/uninitialized", "value": "true", "effect": "NoSchedule"},
        {"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule", "operator": "Exists"}]
    assert manifests[5]["spec"]["ports"] == [{"port": 43001, "protocol": "TCP", "targetPort": 43001}]


def test_cpi_password_is_quoted_safely(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tricky = 'p"w: {x} # \'y\''
    monkeypatch.setenv("VSPHERE_PASSWORD", tricky)
    out = render(tmp_path, example("vsphere"), "--include-secrets")
    objects = manifest(out)
    assert by_kind(objects, "Secret")[0]["stringData"]["password"] == tricky
    inner = objects_of(by_kind(objects, "Secret")[1]["stringData"]["data"])[0]
    assert inner["stringData"]["vcenter.example.com.password"] == tricky


def test_bootstrap_format_unset_or_cloud_config(tmp_path: Path) -> None:
    data = setpath(example("vsphere"), "controlPlane.format", "cloud-config")
    kcp = one(manifest(render(tmp_path, data)), "KubeadmControlPlane")
    assert kcp["spec"]["kubeadmConfigSpec"]["format"] == "cloud-config"


# --- Step 7 ------------------------------------------------------------------------------------

SECTION_3_6 = [
    {"resource": "vsphereclusters.infrastructure.cluster.x-k8s.io", "names": ["global"],
     "etcdKeyBase": "/registry/infrastructure.cluster.x-k8s.io/vsphereclusters/cpaas-system/",
     "method": "etcdctl"},
    {"resource": "vspheremachinetemplates.infrastructure.cluster.x-k8s.io",
     "etcdKeyBase": "/registry/infrastructure.cluster.x-k8s.io/vspheremachinetemplates/cpaas-system/",
     "method": "etcdctl"},
    {"resource": "vspheremachines.infrastructure.cluster.x-k8s.io",
     "etcdKeyBase": "/registry/infrastructure.cluster.x-k8s.io/vspheremachines/cpaas-system/",
     "method": "etcdctl"},
    {"resource": "vspherevms.infrastructure.cluster.x-k8s.io",
     "etcdKeyBase": "/registry/infrastructure.cluster.x-k8s.io/vspherevms/cpaas-system/",
     "method": "etcdctl"},
    {"resource": "vspheremachineconfigpools.infrastructure.cluster.x-k8s.io",
     "etcdKeyBase": "/registry/infrastructure.cluster.x-k8s.io/vspheremachineconfigpools/cpaas-system/",
     "method": "etcdctl"},
    {"resource": "secrets", "names": ["global-vsphere-credentials"], "method": "kubectl"},
]


def _imports(out: Path) -> list[dict[str, Any]]:
    cm = objects_of((out / "extra-resources.yaml").read_text())[0]
    assert cm["metadata"] == {"name": "dcs-import-extra-resources", "namespace": "cpaas-system"}
    return list(objects_of(cm["data"]["resources.yaml"])[0]["resources"])


def test_extra_resources_are_section_3_6(tmp_path: Path, full_example: dict[str, Any]) -> None:
    assert _imports(render(tmp_path, full_example)) == SECTION_3_6


def test_extra_resources_follow_renamed_objects(tmp_path: Path) -> None:
    data = example("vsphere")
    data["platform"]["controlPlane"]["poolName"] = "global-masters"
    data["platform"]["controlPlane"]["templateName"] = "global-masters-v2"
    out = render(tmp_path, data)
    assert _imports(out) == SECTION_3_6  # pools and templates are imported by key base
    names = {o["metadata"]["name"] for o in manifest(out)}
    assert {"global-masters", "global-masters-v2"} <= names and "global-cp-pool" not in names


def test_extra_resources_are_derived_from_the_objects_given() -> None:
    from acp_install_vsphere import plugin

    from acp_install import load_provider

    objects = [
        {"apiVersion": "infrastructure.cluster.x-k8s.io/v1beta1", "kind": "VSphereCluster",
         "metadata": {"name": "global", "namespace": "other-ns"},
         "spec": {"identityRef": {"kind": "Secret", "name": "global-renamed-creds"}}},
    ]
    spec = None  # the hook reads only the objects it is given
    entries = plugin.acp_extra_resources(spec=spec, objects=objects)  # type: ignore[arg-type]
    assert [e.as_dict() for e in entries] == [
        {"resource": "vsphereclusters.infrastructure.cluster.x-k8s.io", "names": ["global"],
         "etcdKeyBase": "/registry/infrastructure.cluster.x-k8s.io/vsphereclusters/other-ns/",
         "method": "etcdctl"},
        {"resource": "secrets", "names": ["global-renamed-creds"], "method": "kubectl"},
    ]
    assert load_provider("vsphere").extra_resources(spec, ()) == []  # type: ignore[arg-type]


# --- Step 8 ------------------------------------------------------------------------------------


def test_installer_payload(tmp_path: Path, canaries: dict[str, str]) -> None:
    out = render(tmp_path, example("vsphere"), "--include-secrets")
    body = json.loads((out / "installer-config.json").read_text())
    assert body["console"]["host"] == []
    assert body["console"]["globalHost"] == "platform.example.com"
    assert "cluster" not in body
    assert body["hostIP"] == "192.168.1.10"
    assert body["deployMode"] == "normal" and body["product"] == ["base", "acp"]
    assert body["basic"]["password"] == base64.b64encode(
        canaries["ACP_ADMIN_PASSWORD"].encode()).decode()
    assert stat.S_IMODE(os.stat(out / "installer-config.json").st_mode) == 0o600


def test_installer_payload_side_by_side_with_dcs(tmp_path: Path, canaries: dict[str, str]) -> None:
    bodies = {}
    for provider in ("dcs", "vsphere"):
        out = render(tmp_path / provider, example(provider))
        bodies[provider] = json.loads((out / "installer-config.json").read_text())
    dcs, vsphere = bodies["dcs"], bodies["vsphere"]
    assert dcs["console"]["host"] == ["192.168.1.100"] and vsphere["console"]["host"] == []
    assert dcs["cluster"]["features"]["ha"] == {"vip": "192.168.1.100", "vport": 6443,
                                               "isThirdParty": True}
    assert "cluster" not in vsphere
    strip = lambda b: {k: v for k, v in b.items() if k not in ("cluster", "console")}  # noqa: E731
    assert strip(dcs) == strip(vsphere)


# --- encryption key ----------------------------------------------------------------------------


def _encryption_content(out: Path) -> str:
    kcp = one(manifest(out), "KubeadmControlPlane")
    return str(kubeadm_files(kcp["spec"]["kubeadmConfigSpec"])
               ["/etc/kubernetes/encryption-provider.conf"]["content"])


def test_generated_key_is_created_once_0600_and_reused(tmp_path: Path) -> None:
    data = example("vsphere")
    plain = _encryption_content(render(tmp_path / "plain", data))
    assert "generated on first use" in plain and "secret:" in plain
    assert not Path(KEY_FILE).expanduser().exists()
    first = render(tmp_path / "one", data, "--include-secrets")
    key_file = Path(KEY_FILE).expanduser()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert len(base64.b64decode(key, validate=True)) == 32
    assert f"secret: {key}\n" in _encryption_content(first)
    assert stat.S_IMODE(os.stat(first / "global.yaml").st_mode) == 0o600
    second = render(tmp_path / "two", data, "--include-secrets")
    assert (first / "global.yaml").read_bytes() == (second / "global.yaml").read_bytes()
    assert key_file.read_text().strip() == key


def test_generated_key_location_is_configurable(tmp_path: Path) -> None:
    data = setpath(example("vsphere"), "platform.generatedKeyFile", str(tmp_path / "k" / "key"))
    render(tmp_path, data, "--include-secrets")
    assert (tmp_path / "k" / "key").exists() and not Path(KEY_FILE).expanduser().exists()


def test_generated_key_does_not_depend_on_the_current_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Render from one directory and apply from another: the same key, found in ~ both times."""
    spec = write(tmp_path / "spec.yaml", example("vsphere"))
    contents = []
    for where in ("render-here", "apply-there"):
        cwd = tmp_path / where
        cwd.mkdir()
        monkeypatch.chdir(cwd)
        out = cwd / "out"
        assert main(["render", "-f", str(spec), "-o", str(out), "--include-secrets"]) == 0
        contents.append(_encryption_content(out))
        assert not (cwd / CWD_KEY_FILE).exists(), "the key must not land in the current directory"
    key = Path(KEY_FILE).expanduser().read_text().strip()
    assert contents[0] == contents[1] and f"secret: {key}\n" in contents[0]


def test_generated_key_placeholder_is_the_same_on_every_machine(tmp_path: Path) -> None:
    plain = _encryption_content(render(tmp_path, example("vsphere")))
    assert f"<secret from file {KEY_FILE} (generated on first use)>" in plain
    assert str(tmp_path) not in plain


def test_relative_generated_key_file_is_rejected(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    data = setpath(example("vsphere"), "platform.generatedKeyFile", CWD_KEY_FILE)
    assert main(["validate", "-f", str(write(tmp_path / "spec.yaml", data))]) == 3
    err = capsys.readouterr().err
    assert "platform.generatedKeyFile: '.acp-install/global-encryption-key' is relative" in err
    assert "fix: use an absolute path" in err
    assert not Path(CWD_KEY_FILE).exists()


def test_missing_encryption_key_warns_loudly(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path / "spec.yaml", example("vsphere"))
    assert main(["validate", "-f", str(spec)]) == 0
    err = capsys.readouterr().err
    where = Path(KEY_FILE).expanduser()
    assert f"warning: {spec}:" in err and "platform.encryptionKey: not set" in err
    assert f"kept in {where} (will be generated" in err and "Back that file up" in err
    assert "fix: generate a key you manage" in err
    assert not where.exists(), "validate must not generate the key"
    render(tmp_path / "r", example("vsphere"), "--include-secrets")
    assert main(["validate", "-f", str(spec)]) == 0
    assert f"kept in {where} (exists and will be reused)" in capsys.readouterr().err


@pytest.mark.parametrize("extra", [{"platform.encryptionKey": {"env": "ENCRYPTION_KEY"}},
                                   {"dr": DR}], ids=["given-key", "dr"])
def test_no_key_warning_when_the_key_is_given(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              extra: dict[str, Any]) -> None:
    data = example("vsphere")
    for path, value in extra.items():
        setpath(data, path, value)
    assert main(["validate", "-f", str(write(tmp_path / "spec.yaml", data))]) == 0
    assert "platform.encryptionKey" not in capsys.readouterr().err


def test_given_key_is_used(tmp_path: Path, canaries: dict[str, str]) -> None:
    data = setpath(example("vsphere"), "platform.encryptionKey", {"env": "ENCRYPTION_KEY"})
    assert "<secret from env $ENCRYPTION_KEY>" in _encryption_content(render(tmp_path / "a", data))
    content = _encryption_content(render(tmp_path / "b", data, "--include-secrets"))
    assert f"secret: {canaries['ENCRYPTION_KEY']}\n" in content
    assert not Path(KEY_FILE).expanduser().exists()


def test_dr_uses_the_shared_key_byte_identical_on_both_sides(tmp_path: Path, crd_registry: Any,
                                                              canaries: dict[str, str]) -> None:
    sides = {}
    for role, vip in (("primary", "192.168.1.100"), ("standby", "192.168.2.100")):
        data = example("vsphere")
        data["dr"] = {**DR, "role": role}
        data["controlPlaneVIP"] = vip
        out = render(tmp_path / role, data, "--include-secrets")
        objects = manifest(out)
        assert_valid_against_crds(crd_registry, objects)
        sides[role] = (out, objects)
        assert one(objects, "VSphereCluster")["spec"]["controlPlaneEndpoint"]["host"] == vip
        folder = one(objects, "VSphereMachineTemplate")["spec"]["template"]["spec"]["folder"]
        assert folder == f"/dc1/vm/global/{role}"
        content = _encryption_content(out)
        assert f"secret: {canaries['ENCRYPTION_KEY']}\n" in content
        assert content == (out / "dr" / "encryption-provider.conf").read_text()
        kcp = one(objects, "KubeadmControlPlane")["spec"]["kubeadmConfigSpec"]
        assert kcp["clusterConfiguration"]["etcd"]["local"]["serverCertSANs"] == [
            "192.168.1.100", "192.168.2.100", "platform.example.com", "etcd.kube-system"]
        assert _imports(out) == SECTION_3_6
    primary = kubeadm_files(one(sides["primary"][1], "KubeadmControlPlane")["spec"]["kubeadmConfigSpec"])
    standby = kubeadm_files(one(sides["standby"][1], "KubeadmControlPlane")["spec"]["kubeadmConfigSpec"])
    path = "/etc/kubernetes/encryption-provider.conf"
    assert primary[path] == standby[path]
    assert not Path(KEY_FILE).expanduser().exists()


# --- secret hygiene ----------------------------------------------------------------------------



def test_secrets_only_in_0600_files(tmp_path: Path, canaries: dict[str, str],
                                    full_example: dict[str, Any],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    plain = render(tmp_path / "plain", full_example)
    with_secrets = render(tmp_path / "secret", full_example, "--include-secrets")
    holders = secret_holders(plain, with_secrets, canaries.values())
    assert holders == {"global.yaml", "installer-config.json"}
    text = (with_secrets / "global.yaml").read_text()
    for name in ("VSPHERE_PASSWORD", "ENCRYPTION_KEY"):
        assert canaries[name] in text
    out = capsys.readouterr()
    for value in canaries.values():
        assert value not in out.out + out.err


def test_init_example_validates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "spec.yaml"
    assert main(["init", "--provider", "vsphere", "-o", str(out)]) == 0
    assert main(["validate", "-f", str(out)]) == 0
    assert "error" not in capsys.readouterr().err


# --- bad input ---------------------------------------------------------------------------------

CP = "platform.controlPlane"
SLOT0 = f"{CP}.configs[0]"
BAD: list[tuple[str, dict[str, Any], str]] = [
    ("ignition", {"controlPlane.format": "ignition"}, "controlPlane.format"),
    ("hostname-dns1123", {f"{SLOT0}.hostname": "Global_CP1"}, f"{SLOT0}.hostname"),
    ("hostname-duplicate", {f"{CP}.configs[2].hostname": "global-cp-1"}, f"{CP}.configs[2].hostname"),
    ("primary-network-empty", {f"{CP}.configs[1].network.primary.networkName": ""},
     f"{CP}.configs[1].network.primary.networkName"),
    ("primary-network-missing", {f"{SLOT0}.network.primary.networkName": DELETE},
     f"{SLOT0}.network.primary.networkName"),
    ("etcd-no-wipe", {f"{SLOT0}.persistentDisks[2].wipeFilesystem": False},
     f"{SLOT0}.persistentDisks[2].wipeFilesystem"),
    ("etcd-disk-missing", {f"{SLOT0}.persistentDisks[2]": DELETE}, f"{SLOT0}.persistentDisks"),
    ("shared-pool", {"platform.workers": "SHARED_POOL"}, "platform.workers[0].poolName"),
    ("thumbprint", {"platform.vcenter.thumbprint": "SHA1 Fingerprint=5A:3E"},
     "platform.vcenter.thumbprint"),
    ("folder-shape", {f"{CP}.folder": "/dc1/vm/k8s"}, f"{CP}.folder"),
    ("folder-dr-side", {f"{CP}.folder": "/dc1/vm/global/standby"}, f"{CP}.folder"),
    ("nic-count", {f"{CP}.networks": ["VM Network", "storage-pg"]}, f"{SLOT0}.network"),
    ("server-url", {"platform.vcenter.server": "https://vcenter.example.com/sdk"},
     "platform.vcenter.server"),
    ("literal-password", {"platform.vcenter.password": "hunter2"}, "platform.vcenter.password"),
    ("unknown-field", {f"{CP}.cpus": 8}, f"{CP}.cpus"),
    ("too-few-slots", {f"{CP}.configs[2]": DELETE}, f"{CP}.configs"),
    ("ip-not-cidr", {f"{SLOT0}.network.primary.ip": "192.168.10.11"}, f"{SLOT0}.network.primary.ip"),
    ("ip-is-vip", {f"{SLOT0}.network.primary.ip": "192.168.1.100/24"}, f"{SLOT0}.network.primary.ip"),
    ("ip-duplicate", {f"{CP}.configs[1].network.primary.ip": "192.168.10.11/24"},
     f"{CP}.configs[1].network.primary.ip"),
    ("clone-mode", {f"{CP}.cloneMode": "instantClone"}, f"{CP}.cloneMode"),
    ("power-off-mode", {f"{CP}.powerOffMode": "off"}, f"{CP}.powerOffMode"),
    ("pool-prefix", {f"{CP}.poolName": "cp-pool"}, f"{CP}.poolName"),
    ("dr-second-key", {"platform.encryptionKey": {"env": "ENCRYPTION_KEY"}, "dr": DR},
     "platform.encryptionKey"),
    ("disk-unit-7", {f"{SLOT0}.persistentDisks[0].unitNumber": 7},
     f"{SLOT0}.persistentDisks[0].unitNumber"),
    ("disk-name-repeat", {f"{SLOT0}.persistentDisks[1].name": "var-cpaas"},
     f"{SLOT0}.persistentDisks[1].name"),
    ("memory-unit", {f"{CP}.memoryMiB": 16}, f"{CP}.memoryMiB"),
    ("ssh-key", {"platform.sshAuthorizedKeys": ["not a key"]}, "platform.sshAuthorizedKeys[0]"),
    ("vcenter-missing", {"platform.vcenter": DELETE}, "platform.vcenter"),
    ("cpi-tag-missing", {"platform.cpi.imageTag": DELETE}, "platform.cpi.imageTag"),
    ("worker-no-containerd", {"platform.workers": "WORKER_NO_CONTAINERD"},
     "platform.workers[0].configs[0].persistentDisks"),
    ("folder-datacenter", {f"{CP}.folder": "/dc2/vm/global"}, f"{CP}.folder"),
]


def _worker(data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    cp = data["platform"]["controlPlane"]
    worker = {k: copy.deepcopy(v) for k, v in cp.items() if k != "configs"}
    slot = copy.deepcopy(cp["configs"][0])
    slot["hostname"] = "global-worker-0"
    slot["network"]["primary"]["ip"] = "192.168.10.40/24"
    slot["persistentDisks"] = [d for d in slot["persistentDisks"]
                               if d["mountPath"] not in ("/var/lib/etcd",)]
    worker.update({"name": "global-worker", "replicas": 1, "configs": [slot], **extra})
    return worker


@pytest.mark.parametrize(("changes", "path"), [(c, p) for _, c, p in BAD], ids=[n for n, _, _ in BAD])
def test_bad_input(tmp_path: Path, changes: dict[str, Any], path: str,
                   capsys: pytest.CaptureFixture[str]) -> None:
    data = example("vsphere")
    for dotted, value in changes.items():
        if value == "SHARED_POOL":
            value = [_worker(data, poolName="global-cp-pool")]
        elif value == "WORKER_NO_CONTAINERD":
            value = [_worker(data)]
            value[0]["configs"][0]["persistentDisks"] = value[0]["configs"][0]["persistentDisks"][:1]
        setpath(data, dotted, value)
    spec = write(tmp_path / "spec.yaml", data)
    out = tmp_path / "out"
    assert main(["render", "-f", str(spec), "-o", str(out)]) == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f": {path}: " in err, err
    assert "fix:" in err
    assert not out.exists()
    for value in CANARIES.values():
        assert value not in err


def test_bad_input_table_is_large_enough() -> None:
    assert len(BAD) >= 15
    assert len({n for n, _, _ in BAD}) == len(BAD)


def test_kubeadm_files_survive_cloud_init_jinja(tmp_path: Path, full_example: dict[str, Any]) -> None:
    """CABPK user data is a cloud-init jinja template: file contents must not open a jinja
    comment or statement, and only the documented placeholders may use ``{{ }}``."""
    objects = manifest(render(tmp_path, full_example))
    bodies = [one(objects, "KubeadmControlPlane")["spec"]["kubeadmConfigSpec"],
              one(objects, "KubeadmConfigTemplate")["spec"]["template"]["spec"]]
    for body in bodies:
        for f in body["files"]:
            assert "{#" not in f["content"] and "{%" not in f["content"], f["path"]
            assert "{{" not in f["content"], f["path"]


def test_provider_secret_name_is_not_used(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = setpath(example("vsphere"), "providerSecretName", "global-other")
    objects = manifest(render(tmp_path, data))
    assert "global-other" not in {o["metadata"]["name"] for o in objects}
    assert "providerSecretName: not used by vSphere" in capsys.readouterr().err


def test_control_plane_machines_carry_the_control_plane_role_label(tmp_path: Path) -> None:
    kcp = one(manifest(render(tmp_path, example("vsphere"))), "KubeadmControlPlane")
    assert kcp["spec"]["machineTemplate"]["metadata"] == {
        "labels": {"node-role.kubernetes.io/control-plane": ""}}


def test_docs_say_the_control_plane_role_label_is_rendered() -> None:
    """decisions.md and the provider page describe what the test above checks is rendered."""
    docs = Path(__file__).resolve().parent.parent / "docs"
    (row,) = [line for line in (docs / "decisions.md").read_text().splitlines()
              if line.startswith("| KCP `machineTemplate.metadata.labels`")]
    assert "not rendered" not in row and "control_plane_machine_labels" in row
    page = (docs / "providers/vsphere.md").read_text()
    not_modelled = page.split("## Not modelled", 1)[1]
    assert "machineTemplate.metadata" not in not_modelled
    assert "`machineTemplate.metadata.labels {node-role.kubernetes.io/control-plane: \"\"}`" in page


# --- values pinned to the bootstrap host's registry (providers.md §10.16) -----------------------


def _warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str], data: dict[str, Any]) -> str:
    assert main(["validate", "-f", str(write(tmp_path / "spec.yaml", data))]) == 0
    return capsys.readouterr().err


def test_default_registries_on_the_bootstrap_host_warn(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    data = example("vsphere")
    err = _warnings(tmp_path, capsys, data)
    node = f"{data['hostIP']}:11443"
    assert (f"platform.imageRepository: kubeadm imageRepository defaults to {node}/tkestack, "
            "on the bootstrap host's registry") in err
    assert f"platform.cpi.imageRegistry: the CPI image registry defaults to {node}" in err
    assert err.count("fix: set it explicitly to the platform registry (registryDomain") == 2
    assert err.count("or confirm the installer rewrites it") == 2


@pytest.mark.parametrize(("field", "value"), [
    ("platform.imageRepository", "192.168.1.10:11443/tkestack"),      # = nodeRegistryAddress
    ("platform.imageRepository", "192.168.1.10:5000/k8s"),            # another port, same host
    ("platform.cpi.imageRegistry", "192.168.1.10:11443"),
])
def test_explicit_bootstrap_registry_still_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 field: str, value: str) -> None:
    err = _warnings(tmp_path, capsys, setpath(example("vsphere"), field, value))
    assert f"{field}: " in err and f"is {value}" in err


def test_registries_off_the_bootstrap_host_do_not_warn(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    data = example("vsphere")
    setpath(data, "platform.imageRepository", "platform.example.com:11443/tkestack")
    setpath(data, "platform.cpi.imageRegistry", "platform.example.com:11443")
    err = _warnings(tmp_path, capsys, data)
    assert "platform.imageRepository" not in err and "platform.cpi.imageRegistry" not in err
    # a custom nodeRegistryAddress on another host is still the bootstrap registry
    data = setpath(example("vsphere"), "nodeRegistryAddress", "registry.bootstrap.lan:11443")
    err = _warnings(tmp_path, capsys, data)
    assert "imageRepository defaults to registry.bootstrap.lan:11443/tkestack" in err


def test_step7_key_bases_come_from_the_core_helper() -> None:
    """The etcd key base pattern lives in ImportEntry.etcd only, not re-implemented here."""
    package = Path(__file__).resolve().parent.parent / "plugins" / "vsphere" / "acp_install_vsphere"
    for source in package.glob("*.py"):
        assert "/registry/" not in source.read_text(), source.name


def test_create_guide_cluster_annotations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The create-cluster guide's Cluster annotations: sentry-deploy-type defaults to its literal
    Baremetal; an unset kube-ovn version or join CIDR is a warning; clusterAnnotations wins."""
    data = example("vsphere")
    ann = one(objects_of((render(tmp_path, data) / "global.yaml").read_text()),
              "Cluster")["metadata"]["annotations"]
    assert ann["cpaas.io/sentry-deploy-type"] == "Baremetal"
    assert ann["cpaas.io/kube-ovn-version"] == "v4.3.11"
    err = capsys.readouterr().err
    assert "kubeOvnJoinCIDR" in err and "platform.kubeOvnVersion" not in err

    data["kubeOvnJoinCIDR"] = "100.64.0.0/16"
    del data["platform"]["kubeOvnVersion"]
    data["platform"]["sentryDeployType"] = None
    data["platform"]["clusterAnnotations"] = {"cpaas.io/alb-address-type": "Other"}
    ann = one(objects_of((render(tmp_path / "b", data) / "global.yaml").read_text()),
              "Cluster")["metadata"]["annotations"]
    assert "cpaas.io/sentry-deploy-type" not in ann and "cpaas.io/kube-ovn-version" not in ann
    assert ann["cpaas.io/alb-address-type"] == "Other"
    assert ann["cpaas.io/kube-ovn-join-cidr"] == "100.64.0.0/16"
    err = capsys.readouterr().err
    assert "platform.kubeOvnVersion" in err and "OS Support Matrix" in err
    assert "kubeOvnJoinCIDR" not in err


# --- failure domains (create-cluster page, "Multiple datacenters and failure domains") ---------

DOMAINS = [
    {"name": "global-fd-1", "deploymentZone": "global-dz-1", "region": "region-a", "zone": "zone-1",
     "computeCluster": "cluster-1", "datastore": "datastore1", "resourcePool": "/dc1/host/cluster-1/Resources"},
    {"name": "global-fd-2", "deploymentZone": "global-dz-2", "region": "region-a", "zone": "zone-2",
     "computeCluster": "cluster-2", "datastore": "datastore2", "datacenter": "dc2"},
]


def with_domains(**extra: Any) -> dict[str, Any]:
    data = full_example_spec()
    data["platform"]["failureDomains"] = {"domains": [dict(d) for d in DOMAINS], **extra}
    data["platform"]["workers"][0]["failureDomain"] = "global-dz-2"
    return data


def _fd_manifest(out: Path) -> list[dict[str, Any]]:
    return objects_of((out / "global.yaml").read_text())


def test_failure_domains_render_as_one_configuration_set(tmp_path: Path, canaries: dict[str, str],
                                                         crd_registry: Any) -> None:
    out = render(tmp_path, with_domains())
    objects = _fd_manifest(out)
    # applied first ("Do not proceed until the deployment zones are available"), cluster-scoped
    assert [o["kind"] for o in objects[:4]] == ["VSphereFailureDomain", "VSphereDeploymentZone"] * 2
    fd1, dz1, fd2, dz2 = objects[:4]
    assert fd1["metadata"] == {"name": "global-fd-1"}
    assert fd1["spec"] == {
        "region": {"name": "region-a", "type": "Datacenter", "tagCategory": "k8s-region", "autoConfigure": True},
        "zone": {"name": "zone-1", "type": "ComputeCluster", "tagCategory": "k8s-zone", "autoConfigure": True},
        "topology": {"datacenter": "dc1", "computeCluster": "cluster-1", "datastore": "datastore1",
                     "networks": ["VM Network", "storage-pg"]}}
    assert fd2["spec"]["topology"]["datacenter"] == "dc2"
    assert dz1["spec"] == {"server": "vcenter.example.com", "failureDomain": "global-fd-1",
                           "controlPlane": True,
                           "placementConstraint": {"resourcePool": "/dc1/host/cluster-1/Resources"}}
    assert dz2["spec"]["placementConstraint"] == {}  # required by the CRD, even empty
    assert by_kind(objects, "VSphereCluster")[0]["spec"]["failureDomainSelector"] == {}
    md = by_kind(objects, "MachineDeployment")[0]
    assert md["spec"]["template"]["spec"]["failureDomain"] == "global-dz-2"
    # the CPI publishes the matching labels, and knows both datacenters
    cm = next(o for o in objects if o["metadata"]["name"] == "global-vsphere-cpi-config")
    conf = objects_of(cm["data"]["data"])[0]["data"]["vsphere.conf"]
    assert '[Labels]\nzone = "k8s-zone"\nregion = "k8s-region"' in conf
    assert 'datacenters = "dc1,dc2"' in conf
    assert assert_valid_against_crds(crd_registry, objects) >= 4
    resources = json.dumps(objects_of((out / "extra-resources.yaml").read_text()))
    assert "vspherefailuredomains.infrastructure.cluster.x-k8s.io" in resources
    assert "vspheredeploymentzones.infrastructure.cluster.x-k8s.io" in resources


def test_without_failure_domains_nothing_of_it_is_rendered(tmp_path: Path, canaries: dict[str, str]) -> None:
    out = render(tmp_path, full_example_spec())
    objects = _fd_manifest(out)
    assert not by_kind(objects, "VSphereFailureDomain") and not by_kind(objects, "VSphereDeploymentZone")
    assert "failureDomainSelector" not in by_kind(objects, "VSphereCluster")[0]["spec"]
    assert "failureDomain" not in by_kind(objects, "MachineDeployment")[0]["spec"]["template"]["spec"]
    assert "[Labels]" not in (out / "global.yaml").read_text()


def test_selector_labels_and_tag_categories(tmp_path: Path, canaries: dict[str, str]) -> None:
    data = with_domains(controlPlaneSelector={"zone-group": "cp"}, importAtStep7=False,
                        zoneTagCategory="site-zone", regionTagCategory="site-region")
    out = render(tmp_path, data)
    objects = _fd_manifest(out)
    assert by_kind(objects, "VSphereCluster")[0]["spec"]["failureDomainSelector"] == {
        "matchLabels": {"zone-group": "cp"}}
    assert by_kind(objects, "VSphereFailureDomain")[0]["spec"]["zone"]["tagCategory"] == "site-zone"
    cm = next(o for o in objects if o["metadata"]["name"] == "global-vsphere-cpi-config")
    conf = objects_of(cm["data"]["data"])[0]["data"]["vsphere.conf"]
    assert '[Labels]\nzone = "site-zone"\nregion = "site-region"' in conf
    assert "vspherefailuredomains" not in (out / "extra-resources.yaml").read_text()


@pytest.mark.parametrize(("mutate", "path", "needle"), [
    (lambda d: d["platform"]["workers"][0].__setitem__("failureDomain", "global-fd-2"),
     "platform.workers[0].failureDomain", "that is a VSphereFailureDomain name; give its deploymentZone"),
    (lambda d: d["platform"]["workers"][0].__setitem__("failureDomain", "global-dz-9"),
     "platform.workers[0].failureDomain", "is not a deployment zone"),
    (lambda d: [x.__setitem__("controlPlane", False) for x in d["platform"]["failureDomains"]["domains"]],
     "platform.failureDomains.domains", "no deployment zone allows the control plane"),
    (lambda d: d["platform"]["failureDomains"]["domains"][1].__setitem__("deploymentZone", "global-dz-1"),
     "platform.failureDomains.domains[1].deploymentZone", "already used"),
    (lambda d: d["platform"]["failureDomains"]["domains"][0].__setitem__("name", "fd-1"),
     "platform.failureDomains.domains[0].name", "lacks the 'global-' prefix"),
    (lambda d: d["platform"]["failureDomains"]["domains"][0].__setitem__("zoneType", "Cluster"),
     "platform.failureDomains.domains[0].zoneType", "is not a failure domain type"),
    (lambda d: d["platform"].pop("failureDomains"),
     "platform.workers[0].failureDomain", "set without platform.failureDomains"),
])
def test_bad_failure_domains(tmp_path: Path, capsys: pytest.CaptureFixture[str], mutate: Any,
                             path: str, needle: str) -> None:
    data = with_domains()
    mutate(data)
    out = tmp_path / "out"
    assert main(["render", "-f", str(write(tmp_path / "spec.yaml", data)), "--output-dir", str(out)]) == 3
    err = capsys.readouterr().err
    assert f"{path}: " in err and needle in err and "Traceback" not in err
    assert not out.exists()
