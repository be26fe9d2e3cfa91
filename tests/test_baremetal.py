"""The Bare Metal provider end to end, offline: render, CRD validity, golden files, rules, gates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from acp_install import load_provider, parse
from acp_install.cli.main import main
from acp_install.testing.conformance import HASH_SEEDS, ProviderConformance, check_golden, render_in_subprocess

from specs import DELETE, by_kind, example, files_of, render, setpath, write
from support import CANARIES, GOLDEN, assert_valid_against_crds, objects_of, secret_holders
from testcerts import write_cert

SA_KEY = "canary-sa-key-6b1d0e"
SA_PUB = "canary-sa-pub-2f9a7c"
INVENTORIES = [f"global-4c4c4544-0031-3910-8052-b4c04f4e323{i}" for i in (1, 2, 3)]
WORKERS = [f"global-4c4c4544-0031-3910-8052-b4c04f4e324{i}" for i in (1, 2)]


def manifest(out: Path) -> list[dict[str, Any]]:
    return objects_of((out / "global.yaml").read_text())


def imports(out: Path) -> list[dict[str, Any]]:
    from acp_install.yamlio import load_all

    cm = objects_of((out / "extra-resources.yaml").read_text())[0]
    resources: list[dict[str, Any]] = load_all(cm["data"]["resources.yaml"])[0][0]["resources"]
    return resources


def full_example_spec() -> dict[str, Any]:
    """The init example plus a worker group, a join CIDR and registry credentials."""
    data = example("baremetal")
    data["kubeOvnJoinCIDR"] = "100.64.0.0/16"
    data["credentials"]["registry"] = {"username": "registry-admin",
                                       "password": {"env": "REGISTRY_PASSWORD"}}
    data["platform"]["workers"] = [{"name": "global-worker", "replicas": 2,
                                    "inventories": [{"name": n} for n in WORKERS]}]
    return data


@pytest.fixture
def full_example() -> dict[str, Any]:
    return full_example_spec()


class TestBaremetalConformance(ProviderConformance):
    """The conformance suite on the init example: the sandbox's datacenter has exactly the hosts
    the example names, so the worker hosts of the full example would never register; the full
    example's golden files are checked below with the suite's own helpers."""

    provider_id = "baremetal"


def test_golden_files(tmp_path: Path, full_example: dict[str, Any]) -> None:
    check_golden(files_of(render(tmp_path, full_example)), GOLDEN / "baremetal")


def test_render_is_deterministic_across_processes(tmp_path: Path, full_example: dict[str, Any]) -> None:
    spec = write(tmp_path / "spec.yaml", full_example)
    a, b = (render_in_subprocess(spec, tmp_path / seed, seed) for seed in HASH_SEEDS)
    assert a and a == b


def dr_example(tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "sa.key").write_text(SA_KEY + "\n")
    (tmp_path / "sa.pub").write_text(SA_PUB + "\n")
    data = example("baremetal")
    data["dr"] = {"role": "primary", "primaryVIP": "192.168.1.100", "standbyVIP": "192.168.2.100",
                  "encryptionKey": {"env": "ENCRYPTION_KEY"}}
    data["platform"]["dr"] = {"serviceAccountKey": {"file": str(tmp_path / "sa.key")},
                              "serviceAccountPublicKey": {"file": str(tmp_path / "sa.pub")}}
    data["platform"]["documentedFields"] = {"encryptionProviderConfigRef": True}
    cert, key = write_cert(tmp_path / "certs", dns=["platform.example.com"],
                           ips=["192.168.1.100", "192.168.2.100"])
    data["console"] = {"cert": {"thirdParty": {"certificate": {"file": str(cert)},
                                               "privateKey": {"file": str(key)}}}}
    return data


# --- schema validity, golden files, determinism --------------------------------------------------


def test_every_object_validates_against_its_crd(tmp_path: Path, crd_registry: Any,
                                                full_example: dict[str, Any]) -> None:
    objects = manifest(render(tmp_path, full_example))
    kinds = [o["kind"] for o in objects]
    assert {"MachineRegistration", "SeedImage", "MachineInventoryPool", "BaremetalCluster",
            "BaremetalMachineTemplate", "KubeadmControlPlane", "Cluster", "KubeadmConfigTemplate",
            "MachineDeployment"} <= set(kinds)
    assert assert_valid_against_crds(crd_registry, objects) == len(objects)


def test_package_objects_are_what_step3_documents(tmp_path: Path, crd_registry: Any) -> None:
    docs = objects_of((render(tmp_path, example("baremetal")) / "appreleases.yaml").read_text())
    assert [(d["kind"], d["metadata"]["name"]) for d in docs] == [
        ("Issuer", "baremetal-bootstrap-selfsigned"), ("Certificate", "baremetal-bootstrap-ca"),
        ("Issuer", "baremetal-bootstrap-ca"), ("Certificate", "dex-tls-bootstrap"),
        ("AppRelease", "cluster-api-provider-kubeadm"),
        ("AppRelease", "cluster-api-provider-baremetal")]
    # cert-manager and AppRelease CRDs are not in ../shared/crds: nothing to validate against
    assert all(crd_registry.lookup(d["apiVersion"], d["kind"]) is None for d in docs)
    dex = docs[3]["spec"]
    assert dex["secretName"] == "dex.tls" and dex["commonName"] == "192.168.1.10"
    assert dex["ipAddresses"] == ["192.168.1.10", "127.0.0.1"]
    assert dex["dnsNames"] == ["global-alb2", "global-alb2.cpaas-system.svc",
                               "global-alb2.cpaas-system.svc.cluster.local"]
    ca = docs[1]["spec"]
    assert ca["isCA"] and ca["duration"] == "87600h" and ca["renewBefore"] == "720h"
    assert ca["privateKey"] == {"algorithm": "RSA", "size": 2048}
    values = docs[5]["spec"]["values"]
    assert values["global"]["platformUrl"] == "https://192.168.1.10"
    assert values["global"]["host"] == "platform.example.com"
    assert values["global"]["ingress"] == {"ingressClassName": "global-alb2",
                                           "tls": {"secretName": "dex.tls"}}
    assert values["global"]["cluster"]["type"] == "Baremetal"
    assert values["handoffHook"] == {"controlPlaneVIP": "192.168.1.100",
                                     "delivery": {"enabled": True, "mode": "always"}}
    assert values["elemental"] == {
        "server": {"url": "https://192.168.1.10:12443"},
        "systemAgent": {"authMode": "shared", "serviceAccountName": "baremetal-system-agent"},
        "tls": {"agentTLSMode": "strict", "caCertSecretName": "dex.tls",
                "caCertSecretKey": "ca.crt"}}
    # the kubeadm AppRelease stays the common one
    assert docs[4]["spec"]["values"]["global"]["platformUrl"] == "https://platform.example.com"
    assert "handoffHook" not in docs[4]["spec"]["values"]


def test_waits_for_both_crds() -> None:
    from acp_install.plan import build_plan

    plan = build_plan(parse(example("baremetal"), provider=load_provider("baremetal")))
    assert plan.wait_crds == ("kubeadmcontrolplanes.controlplane.cluster.x-k8s.io",
                              "baremetalclusters.infrastructure.cluster.x-k8s.io",
                              "machineinventories.elemental.cattle.io")


def test_documented_fields_are_opt_in_and_rejected_by_the_crd_snapshot(
        tmp_path: Path, crd_registry: Any) -> None:
    data = example("baremetal")
    data["platform"]["documentedFields"] = {"poolMembersAsNames": True,
                                            "allocationPolicy": "Ordered"}
    data["platform"]["endpoint"]["vipMode"] = "arp"
    objects = manifest(render(tmp_path, data))
    pool = by_kind(objects, "MachineInventoryPool")[0]
    assert pool["spec"]["machineInventories"] == INVENTORIES
    template = by_kind(objects, "BaremetalMachineTemplate")[0]
    assert template["spec"]["template"]["spec"]["allocationPolicy"] == "Ordered"
    lb = by_kind(objects, "BaremetalCluster")[0]["spec"]["controlPlaneLoadBalancer"]
    assert lb["vipMode"] == "arp"
    errors = " ".join(str(e) for o in (pool, template, by_kind(objects, "BaremetalCluster")[0])
                      for e in crd_registry.validate(o, unknown="error"))
    assert "machineInventories[0]" in errors and "allocationPolicy" in errors and "vipMode" in errors




# --- Step 4 ----------------------------------------------------------------------------------------


def test_manifest_order_names_and_global_wiring(tmp_path: Path,
                                                full_example: dict[str, Any]) -> None:
    objects = manifest(render(tmp_path, full_example))
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("MachineRegistration", "global-machine-registration"),
        ("SeedImage", "global-seed-image"),
        ("MachineInventoryPool", "global-control-plane-pool"),
        ("BaremetalCluster", "global"),
        ("BaremetalMachineTemplate", "global-control-plane-template"),
        ("MachineInventoryPool", "global-worker-pool"),
        ("BaremetalMachineTemplate", "global-worker-template"),
        ("KubeadmControlPlane", "global-kcp"),
        ("Cluster", "global"),
        ("KubeadmConfigTemplate", "global-worker-bootstrap"),
        ("MachineDeployment", "global-worker"),
    ]
    assert all(o["metadata"]["namespace"] == "cpaas-system" for o in objects)
    pool = by_kind(objects, "MachineInventoryPool")[0]["spec"]
    assert pool == {"clusterName": "global",
                    "machineInventories": [{"name": n} for n in INVENTORIES]}
    cluster = by_kind(objects, "Cluster")[0]
    assert cluster["metadata"]["labels"] == {"cluster-type": "ProviderBaremetal",
                                             "is-global": "true"}
    assert cluster["metadata"]["annotations"] == {
        "capi.cpaas.io/resource-group-version": "infrastructure.cluster.x-k8s.io/v1beta1",
        "capi.cpaas.io/resource-kind": "BaremetalCluster",
        "cpaas.io/registry-address": "192.168.1.10:11443",
        "cpaas.io/kube-ovn-join-cidr": "100.64.0.0/16",
        "cpaas.io/sentry-deploy-type": "Baremetal",
        "cpaas.io/alb-address-type": "ClusterAddress",
        "cpaas.io/kube-ovn-version": "v4.3.11"}  # "Recommended", from the example
    assert cluster["spec"]["infrastructureRef"]["kind"] == "BaremetalCluster"
    kcp = by_kind(objects, "KubeadmControlPlane")[0]
    assert kcp["metadata"]["annotations"] == {"controlplane.cluster.x-k8s.io/skip-kube-proxy": ""}
    assert kcp["spec"]["replicas"] == 3
    assert kcp["spec"]["rolloutStrategy"]["rollingUpdate"] == {"maxSurge": 0}
    body = kcp["spec"]["kubeadmConfigSpec"]
    assert body["format"] == "cloud-config"
    assert body["clusterConfiguration"]["imageRepository"] == "cloud.alauda.io/alauda"
    assert "/etc/kubernetes/encryption-provider.conf" not in [f["path"] for f in body["files"]]
    for section in ("initConfiguration", "joinConfiguration"):
        args = body[section]["nodeRegistration"]["kubeletExtraArgs"]
        assert args == {"node-labels": "kube-ovn/role=master"}  # no provider-id/hostname
    text = (tmp_path / "out" / "global.yaml").read_text()
    assert "criSocket" not in text and "pod-infra-container-image" not in text
    md = by_kind(objects, "MachineDeployment")[0]["spec"]
    assert md["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}
    registration = by_kind(objects, "MachineRegistration")[0]
    assert "annotations" not in registration["metadata"]  # no system-agent-server-url
    install = registration["spec"]["config"]["elemental"]["install"]
    assert install["eject-cd"] is True and install["reboot"] is True
    seed = by_kind(objects, "SeedImage")[0]["spec"]
    assert seed["registrationRef"]["name"] == "global-machine-registration"


def test_internal_and_external_endpoints(tmp_path: Path, crd_registry: Any) -> None:
    lb = by_kind(manifest(render(tmp_path / "i", example("baremetal"))),
                 "BaremetalCluster")[0]["spec"]["controlPlaneLoadBalancer"]
    assert lb == {"type": "Internal", "host": "192.168.1.100", "port": 6443, "vrid": 51}
    data = example("baremetal")
    data["platform"]["endpoint"] = {"type": "External", "port": 8443}
    out = render(tmp_path / "e", data)
    cluster = by_kind(manifest(out), "BaremetalCluster")[0]
    assert cluster["spec"]["controlPlaneLoadBalancer"] == {"type": "External",
                                                           "host": "192.168.1.100", "port": 8443}
    assert "controlPlaneEndpoint" not in cluster["spec"]  # backfilled by the provider
    assert_valid_against_crds(crd_registry, [cluster])
    body = json.loads((out / "installer-config.json").read_text())
    assert body["cluster"]["features"]["ha"] == {"vip": "192.168.1.100", "vport": 8443,
                                                 "isThirdParty": True}


def test_naming_checker_owns_elemental_objects(tmp_path: Path) -> None:
    out = render(tmp_path, example("baremetal"))
    text = (out / "global.yaml").read_text().replace("global-seed-image", "seed-image")
    (tmp_path / "bad.yaml").write_text(text)
    assert main(["lint", str(tmp_path / "bad.yaml")]) != 0


# --- Step 7 ----------------------------------------------------------------------------------------


def test_step7_derived_from_rendered_objects(tmp_path: Path,
                                             full_example: dict[str, Any]) -> None:
    entries = imports(render(tmp_path, full_example))
    assert [e["resource"] for e in entries] == [
        "customresourcedefinitions.apiextensions.k8s.io",
        "baremetalclusters.infrastructure.cluster.x-k8s.io",
        "baremetalmachinetemplates.infrastructure.cluster.x-k8s.io",
        "baremetalmachines.infrastructure.cluster.x-k8s.io",
        "machineinventorypools.infrastructure.cluster.x-k8s.io",
        "machineinventories.elemental.cattle.io",
        "machineregistrations.elemental.cattle.io",
    ]
    assert len(entries[0]["names"]) == 7 and "seedimages.elemental.cattle.io" in entries[0]["names"]
    assert entries[1]["names"] == ["global"] and entries[1]["method"] == "etcdctl"
    assert entries[5]["names"] == sorted(INVENTORIES + WORKERS)
    assert entries[5]["etcdKeyBase"] == "/registry/elemental.cattle.io/machineinventories/cpaas-system/"
    assert entries[6]["names"] == ["global-machine-registration"]
    text = (tmp_path / "out" / "extra-resources.yaml").read_text()
    assert "seedimages.elemental.cattle.io/" not in text and "dex.tls" not in text
    assert "resource: seedimages" not in text and "resource: secrets" not in text


def test_step7_adds_runtime_secrets_from_live_objects() -> None:
    from acp_install_baremetal import render as bm

    loaded = parse(example("baremetal"), provider=load_provider("baremetal"))
    from acp_install.plan import build_plan

    rendered = list(build_plan(loaded).manifest)
    live = [
        {"kind": "MachineInventory", "metadata": {"name": INVENTORIES[0]},
         "status": {"plan": {"secretRef": {"name": "plan-a"}}}},
        {"kind": "BaremetalMachine", "metadata": {"name": "global-kcp-x"},
         "status": {"planSecretRef": {"name": "plan-b"}}},
        {"kind": "Machine", "metadata": {"name": "global-kcp-abcde"},
         "spec": {"bootstrap": {"dataSecretName": "global-kcp-abcde-data"}}},
        {"kind": "SeedImage", "metadata": {"name": "global-seed-image"}},
        {"kind": "Secret", "metadata": {"name": "global-machine-registration-token"}},
    ]
    entries = bm.import_entries(rendered + live)
    secrets = [e for e in entries if e.resource == "secrets"]
    assert [s.names for s in secrets] == [("plan-a", "plan-b"), ("global-kcp-abcde-data",)]
    assert all(s.method == "kubectl" for s in secrets)
    assert not [e for e in entries if "seedimages" in e.resource and e.method == "etcdctl"]
    # the draft branch's choice (§8 item 11)
    assert not [e for e in bm.import_entries(rendered + live, runtime_secrets=False)
                if e.resource == "secrets"]


# --- Step 8 ----------------------------------------------------------------------------------------


def test_installer_payload_differences(tmp_path: Path, canaries: dict[str, str]) -> None:
    def payload(provider_id: str, **over: Any) -> dict[str, Any]:
        data = example(provider_id)
        data.update(over)
        out = render(tmp_path / provider_id / str(len(over)), data)
        return dict(json.loads((out / "installer-config.json").read_text()))

    bm = payload("baremetal")
    assert bm["console"]["host"] == ["192.168.1.100"]
    assert bm["cluster"] == {"clusterCIDR": "100.3.0.0/16", "serviceCIDR": "100.4.0.0/16",
                             "features": {"ha": {"vip": "192.168.1.100", "vport": 6443,
                                                 "isThirdParty": True}}}
    assert bm["registry"]["domain"] == "platform.example.com:11443"
    assert bm["hostIP"] == "192.168.1.10"
    assert bm == payload("dcs")  # §5.7: "Body = DCS shape"
    for other in ("vsphere", "hcs"):
        try:
            theirs = payload(other)
        except AssertionError:  # pragma: no cover - plugin not installed or example broken
            continue
        assert theirs["console"]["host"] == [] and "cluster" not in theirs
        assert bm["console"]["globalHost"] == theirs["console"]["globalHost"]
    vip_registry = payload("baremetal", registryDomain="192.168.1.100:11443")
    assert vip_registry["registry"]["domain"] == "192.168.1.100:11443"  # non-DR: VIP is fine


# --- DR --------------------------------------------------------------------------------------------


def test_dr_delivery_by_reference_with_shared_sa_key(tmp_path: Path, canaries: dict[str, str]) -> None:
    out = render(tmp_path, dr_example(tmp_path))
    objects = manifest(out)
    assert [(o["kind"], o["metadata"]["name"]) for o in objects[:2]] == [
        ("Secret", "global-encryption-provider-config"), ("Secret", "global-sa-signing-key")]
    cluster = by_kind(objects, "BaremetalCluster")[0]
    assert cluster["spec"]["encryptionProviderConfigRef"] == {
        "name": "global-encryption-provider-config"}
    body = by_kind(objects, "KubeadmControlPlane")[0]["spec"]["kubeadmConfigSpec"]
    files = {f["path"]: f for f in body["files"]}
    assert "/etc/kubernetes/encryption-provider.conf" not in files
    assert files["/etc/kubernetes/pki/sa.key"]["permissions"] == "0600"
    assert files["/etc/kubernetes/pki/sa.key"]["contentFrom"] == {
        "secret": {"name": "global-sa-signing-key", "key": "sa.key"}}
    args = body["clusterConfiguration"]["apiServer"]["extraArgs"]
    assert args["service-account-issuer"] == "https://kubernetes.default.svc.cluster.local"
    assert args["audit-log-format"] == "json"  # merged with the documented base
    cm_args = body["clusterConfiguration"]["controllerManager"]["extraArgs"]
    assert cm_args["service-account-private-key-file"] == "/etc/kubernetes/pki/sa.key"
    # the KCP's contentFrom outlives the bootstrap cluster: the signing key follows it (Step 7)
    assert imports(out)[-1] == {"resource": "secrets",
                                "names": ["global-encryption-provider-config",
                                          "global-sa-signing-key"],
                                "method": "kubectl"}
    payload = json.loads((out / "installer-config.json").read_text())
    assert payload["registry"]["domain"] == "platform.example.com:11443"
    assert set(payload["console"]["cert"]) == {"thirdParty"}
    assert set(payload["console"]["cert"]["thirdParty"]) == {"certificate", "privateKey"}


def test_dex_tls_bootstrap_certificate_is_the_documented_one(tmp_path: Path) -> None:
    """global/install.mdx (Bare Metal Step 3): duration 87600h, renewBefore 720h, RSA 2048."""
    out = render(tmp_path, example("baremetal"))
    certs = {o["metadata"]["name"]: o for o in objects_of((out / "appreleases.yaml").read_text())
             if o["kind"] == "Certificate"}
    dex = certs["dex-tls-bootstrap"]["spec"]
    assert (dex["duration"], dex["renewBefore"]) == ("87600h", "720h")
    assert dex["privateKey"] == {"algorithm": "RSA", "size": 2048}
    assert dex["secretName"] == "dex.tls"


@pytest.mark.parametrize(("sans", "missing"), [
    ({"dns": ["platform.example.com"], "ips": ["192.168.1.100"]}, "192.168.2.100"),
    ({"dns": ["other.example.com"], "ips": ["192.168.1.100", "192.168.2.100"]},
     "platform.example.com"),
])
def test_dr_certificate_sans_must_cover_host_and_both_vips(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], sans: dict[str, list[str]],
        missing: str) -> None:
    data = dr_example(tmp_path)
    cert, key = write_cert(tmp_path / "short", **sans)
    data["console"]["cert"]["thirdParty"] = {"certificate": {"file": str(cert)},
                                             "privateKey": {"file": str(key)}}
    spec = write(tmp_path / "spec.yaml", data)
    assert main(["render", "-f", str(spec), "-o", str(tmp_path / "out")]) == 3
    err = capsys.readouterr().err
    assert "console.cert.thirdParty.certificate:" in err and missing in err
    assert "BEGIN" not in err  # the certificate text is never quoted
    assert not (tmp_path / "out").exists()


def test_dr_certificate_wildcard_covers_the_platform_host(tmp_path: Path) -> None:
    data = dr_example(tmp_path)
    cert, _key = write_cert(tmp_path / "wild", dns=["*.example.com"],
                           ips=["192.168.1.100", "192.168.2.100"])
    data["console"]["cert"]["thirdParty"]["certificate"] = {"file": str(cert)}
    render(tmp_path, data)


def test_encryption_config_opt_in_outside_dr(tmp_path: Path) -> None:
    """The documented non-DR opt-in: a pre-existing encryption-provider.conf by reference."""
    conf = tmp_path / "encryption-provider.conf"
    conf.write_text("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n")
    data = example("baremetal")
    data["platform"]["encryptionProviderConfig"] = {"file": str(conf)}
    data["platform"]["documentedFields"] = {"encryptionProviderConfigRef": True}
    out = render(tmp_path, data)
    objects = manifest(out)
    assert (objects[0]["kind"], objects[0]["metadata"]["name"]) == (
        "Secret", "global-encryption-provider-config")
    assert by_kind(objects, "BaremetalCluster")[0]["spec"]["encryptionProviderConfigRef"] == {
        "name": "global-encryption-provider-config"}
    assert {"resource": "secrets", "names": ["global-encryption-provider-config"],
            "method": "kubectl"} in imports(out)
    assert "EncryptionConfiguration" not in (out / "global.yaml").read_text()  # a placeholder


def test_encryption_config_opt_in_needs_the_documented_field(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = example("baremetal")
    data["platform"]["encryptionProviderConfig"] = {"env": "SOME_CONF"}
    spec = write(tmp_path / "spec.yaml", data)
    assert main(["validate", "-f", str(spec)]) == 3
    assert "platform.documentedFields.encryptionProviderConfigRef:" in capsys.readouterr().err


def test_secret_canaries(tmp_path: Path, canaries: dict[str, str],
                         capsys: pytest.CaptureFixture[str]) -> None:
    data = dr_example(tmp_path)
    data["credentials"]["registry"] = {"username": "r", "password": {"env": "REGISTRY_PASSWORD"}}
    values = [*canaries.values(), SA_KEY, SA_PUB]
    plain = render(tmp_path / "plain", data)
    revealed = render(tmp_path / "secret", data, "--include-secrets")
    holders = secret_holders(plain, revealed, values)
    assert holders == {"global.yaml", "installer-config.json", "dr/encryption-provider.conf"}
    assert SA_KEY in (revealed / "global.yaml").read_text()
    assert "dex.tls" not in (revealed / "extra-resources.yaml").read_text()
    captured = capsys.readouterr()
    for value in values:
        assert value not in captured.out + captured.err



# --- bad input -------------------------------------------------------------------------------------

BAD: list[tuple[str, Any, str]] = [
    ("platform.endpoint.type", "internal", "platform.endpoint.type"),
    ("platform.endpoint.vrid", 256, "platform.endpoint.vrid"),
    ("platform.endpoint.vrid", DELETE, "platform.endpoint.vrid"),
    ("platform.endpoint", {"type": "External", "vrid": 7}, "platform.endpoint.vrid"),
    ("platform.endpoint", {"type": "External", "vipMode": "arp"}, "platform.endpoint.vipMode"),
    ("platform.endpoint.vipMode", "vrrp", "platform.endpoint.vipMode"),
    ("platform.endpoint.port", 70000, "platform.endpoint.port"),
    ("controlPlaneVIP", "fd00::100", "controlPlaneVIP"),
    ("controlPlane.replicas", 1, "controlPlane.replicas"),
    ("controlPlane.format", "ignition", "controlPlane.format"),
    ("platform.controlPlane.inventories", [{"name": INVENTORIES[0]}, {"name": INVENTORIES[1]}],
     "platform.controlPlane.inventories"),
    ("platform.controlPlane.inventories[0].name", "cp-1", "platform.controlPlane.inventories[0].name"),
    ("platform.controlPlane.inventories[2].name", INVENTORIES[0],
     "platform.controlPlane.inventories[2].name"),
    ("platform.controlPlane.inventories[1].ip", "192.168.1.100",
     "platform.controlPlane.inventories[1].ip"),
    ("platform.registration.machineName", "cp-${System Information/UUID}",
     "platform.registration.machineName"),
    ("platform.registration.machineName", "global-cp", "platform.registration.machineName"),
    ("platform.registration.installDevice", "", "platform.registration.installDevice"),
    ("platform.registration.annotations",
     {"baremetal.cluster.io/system-agent-server-url": "https://192.168.1.100"},
     "platform.registration.annotations"),
    ("platform.registration.emulatedTPMSeed", 5, "platform.registration.emulatedTPMSeed"),
    ("platform.registration.maxSnaps", 1, "platform.registration.maxSnaps"),
    ("platform.registration.name", "machine-registration", "platform.registration.name"),
    ("platform.seedImage.name", "seed", "platform.seedImage.name"),
    ("platform.seedImage.type", "qcow2", "platform.seedImage.type"),
    ("platform.seedImage.cloudConfig",
     {"write_files": [{"path": "/etc/resolv.conf", "content": "nameserver 1.1.1.1"}]},
     "platform.seedImage.cloudConfig"),
    ("platform.imageCatalog", {"v1.33.7-2": "r/os:1"}, "platform.imageCatalog"),
    ("platform.agentTLSMode", "insecure", "platform.agentTLSMode"),
    ("platform.documentedFields.allocationPolicy", "Random",
     "platform.documentedFields.allocationPolicy"),
    ("registryDomain", "172.18.0.1:11443", "registryDomain"),
    ("platform.workers", [{"name": "global-worker", "replicas": 2,
                           "inventories": [{"name": INVENTORIES[0]}]}],
     "platform.workers[0].inventories"),
    ("platform.vrid", 5, "platform.vrid"),  # unknown key (typo of endpoint.vrid)
]


@pytest.mark.parametrize(("field", "value", "path"), BAD,
                         ids=[f"{i}-{b[0]}" for i, b in enumerate(BAD)])
def test_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], field: str, value: Any,
                   path: str) -> None:
    data = setpath(example("baremetal"), field, value)
    spec = write(tmp_path / "spec.yaml", data)
    out = tmp_path / "out"
    assert main(["render", "-f", str(spec), "-o", str(out)]) == 3
    err = capsys.readouterr().err
    assert f"{path}:" in err, err
    assert "fix:" in err and "Traceback" not in err
    assert not out.exists()


def test_dr_without_the_documented_ref_is_refused(tmp_path: Path, canaries: dict[str, str],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    data = dr_example(tmp_path)
    del data["platform"]["documentedFields"]
    del data["platform"]["dr"]
    data["registryDomain"] = "192.168.1.100:11443"
    spec = write(tmp_path / "spec.yaml", data)
    assert main(["render", "-f", str(spec), "-o", str(tmp_path / "out")]) == 3
    err = capsys.readouterr().err
    for path in ("platform.documentedFields.encryptionProviderConfigRef", "platform.dr:",
                 "registryDomain:"):
        assert path in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("endpoint", "extra"), [
    ({"type": "Internal", "vrid": 51}, " (an Internal VIP also needs at least 3)"),
    ({"type": "External"}, ""),
])
def test_too_few_replicas_is_one_finding_on_controlplane_replicas(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], endpoint: dict[str, Any],
        extra: str) -> None:
    data = setpath(example("baremetal"), "controlPlane.replicas", 2)
    data["platform"]["endpoint"] = endpoint
    assert main(["validate", "-f", str(write(tmp_path / "spec.yaml", data))]) == 3
    err = capsys.readouterr().err
    findings = [ln for ln in err.splitlines() if "controlPlane.replicas" in ln]
    assert len(findings) == 1, err
    assert findings[0].endswith(f"controlPlane.replicas: 2: a single or two-node Bare Metal "
                                f"control plane is unsupported{extra}")


def test_example_validates_with_only_expected_warnings(capsys: pytest.CaptureFixture[str],
                                                       tmp_path: Path) -> None:
    spec = write(tmp_path / "spec.yaml", example("baremetal"))
    assert main(["validate", "-f", str(spec)]) == 0


# --- gates -----------------------------------------------------------------------------------------


def _inventory(name: str, ip: str, **status: Any) -> dict[str, Any]:
    return {
        "kind": "MachineInventory",
        "metadata": {"name": name, "annotations": {}},
        "spec": {"observedNetwork": {"interfaces": [{"name": "eth0",
                                                     "addresses": [f"{ip}/24"]}]}},
        "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "Ok",
                                   "message": "", "lastTransitionTime": "2026-01-01T00:00:00Z"}],
                   "plan": {"secretRef": {"name": f"{name}-plan"}, "state": "Applied"},
                   **status},
    }


def _registered() -> dict[str, list[dict[str, Any]]]:
    return {"MachineInventory": [_inventory(n, f"192.168.10.{11 + i}")
                                 for i, n in enumerate(INVENTORIES)]}


def _gates(gate: str, snapshot: dict[str, Any], data: dict[str, Any] | None = None) -> list[Any]:
    provider = load_provider("baremetal")
    spec = parse(data or example("baremetal"), provider=provider).spec
    return provider.ready_gates(spec, gate, snapshot)


def test_registration_gate_opens_when_every_inventory_is_ready() -> None:
    assert _gates("control-plane", _registered()) == []


@pytest.mark.parametrize("breakage", ["missing", "not-ready", "no-plan", "plan-failed",
                                      "wrong-ip", "other-pool", "storage"])
def test_registration_gate_blocks(breakage: str) -> None:
    snap = _registered()
    inv = snap["MachineInventory"][1]
    if breakage == "missing":
        del snap["MachineInventory"][1]
    elif breakage == "not-ready":
        inv["status"]["conditions"][0]["status"] = "False"
    elif breakage == "no-plan":
        del inv["status"]["plan"]
    elif breakage == "plan-failed":
        inv["status"]["plan"]["state"] = "Failed"
    elif breakage == "wrong-ip":
        inv["spec"]["observedNetwork"]["interfaces"][0]["addresses"] = ["10.9.9.9/24"]
    elif breakage == "other-pool":
        inv["metadata"]["annotations"]["baremetal.alauda.io/pool"] = "global-other-pool"
    else:
        inv["spec"]["storage"] = {"volumes": [{"name": "data"}]}
        inv["status"]["storage"] = {"phase": "Unmanaged"}
    blocked = [f for f in _gates("control-plane", snap) if f.severity == "error"]
    assert blocked and all(INVENTORIES[1] in f.path for f in blocked), blocked


def _final_global() -> dict[str, list[dict[str, Any]]]:
    from acp_install_baremetal import render as bm

    snap = _registered()
    named = lambda kind, *names: [{"kind": kind, "metadata": {"name": n}} for n in names]  # noqa: E731
    snap["CustomResourceDefinition"] = named("CustomResourceDefinition", *bm.PROVIDER_CRDS)
    snap["BaremetalCluster"] = named("BaremetalCluster", "global")
    snap["MachineRegistration"] = named("MachineRegistration", "global-machine-registration")
    snap["MachineInventoryPool"] = named("MachineInventoryPool", "global-control-plane-pool")
    snap["BaremetalMachineTemplate"] = named("BaremetalMachineTemplate",
                                             "global-control-plane-template")
    snap["Secret"] = named("Secret", *(f"{n}-plan" for n in INVENTORIES))
    snap["Job"] = [{"kind": "Job", "metadata": {"name": "baremetal-system-agent-handoff"},
                    "status": {"succeeded": 1, "conditions": [{"type": "Complete",
                                                               "status": "True"}]}}]
    snap["ConfigMap"] = [{"kind": "ConfigMap",
                          "metadata": {"name": "baremetal-system-agent-handoff"},
                          "data": {"ready": "true", "profile": "shared/erebus",
                                   "config": "0123456789abcdef" * 4}}]
    return snap


def test_handoff_gate_passes_on_a_complete_final_cluster() -> None:
    assert _gates("handoff", _final_global()) == []


@pytest.mark.parametrize(("breakage", "where"), [
    ("no-job", "Job/baremetal-system-agent-handoff"),
    ("job-running", "Job/baremetal-system-agent-handoff"),
    ("job-failed", "Job/baremetal-system-agent-handoff"),
    ("not-ready", "data.ready"),
    ("no-profile", "data.profile"),
    ("bad-digest", "data.config"),
    ("no-configmap", "ConfigMap/baremetal-system-agent-handoff"),
    ("plan-secret-missing", f"Secret/{INVENTORIES[2]}-plan"),
    ("inventory-not-imported", f"MachineInventory/{INVENTORIES[0]}"),
    ("crd-not-imported", "CustomResourceDefinition/seedimages.elemental.cattle.io"),
])
def test_handoff_gate_blocks(breakage: str, where: str) -> None:
    snap = _final_global()
    cm = snap["ConfigMap"][0]["data"]
    job = snap["Job"][0]
    if breakage == "no-job":
        snap["Job"] = []
    elif breakage == "job-running":
        job["status"] = {"active": 1}
    elif breakage == "job-failed":
        job["status"] = {"failed": 1, "conditions": [{"type": "Failed", "status": "True"}]}
    elif breakage == "not-ready":
        cm["ready"] = "false"
    elif breakage == "no-profile":
        cm["profile"] = ""
    elif breakage == "bad-digest":
        cm["config"] = "0123456789ABCDEF" * 4
    elif breakage == "no-configmap":
        snap["ConfigMap"] = []
    elif breakage == "plan-secret-missing":
        snap["Secret"] = snap["Secret"][:2]
    elif breakage == "inventory-not-imported":
        del snap["MachineInventory"][0]
    else:
        snap["CustomResourceDefinition"] = snap["CustomResourceDefinition"][:-1]
    blocked = [f for f in _gates("handoff", snap) if f.severity == "error"]
    assert any(where in f.path for f in blocked), [f.path for f in blocked]
    assert all(f.fix for f in blocked)


def test_packages_gate_waits_for_dex_tls() -> None:
    ready = {"Certificate": [{"metadata": {"name": "dex-tls-bootstrap"},
                              "status": {"conditions": [{"type": "Ready", "status": "True"}]}}],
             "Secret": [{"metadata": {"name": "dex.tls"},
                         "data": {"tls.crt": "x", "tls.key": "y", "ca.crt": "z"}}]}
    assert _gates("packages", ready) == []
    ready["Secret"][0]["data"].pop("ca.crt")
    (blocked,) = _gates("packages", ready)
    assert blocked.path == "Secret/dex.tls" and "ca.crt" in blocked.message
    assert len(_gates("packages", {})) == 2


def test_bad_input_table_is_large_enough() -> None:
    assert len(BAD) >= 15 and CANARIES


def test_spec_reference_is_current() -> None:
    from acp_install.refdocs import spec_markdown

    path = Path(__file__).resolve().parent.parent / "docs/reference/spec-baremetal.md"
    assert path.read_text() == spec_markdown("baremetal"), "run: python -m acp_install.refdocs docs/reference"


def test_step7_key_bases_come_from_the_core_helper() -> None:
    """The etcd key base pattern lives in ImportEntry.etcd only, not re-implemented here."""
    package = Path(__file__).resolve().parent.parent / "plugins" / "baremetal" / "acp_install_baremetal"
    for source in package.glob("*.py"):
        assert "/registry/" not in source.read_text(), source.name
