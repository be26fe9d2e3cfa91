"""Controllers and installer, observed through the API as a user would (kubectl, client, curl)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes import client

from acp_install_sandbox import Sandbox

from sandbox_helpers import api_client, global_kubeconfig, make_kubectl, wait_for
from sandbox_manifests import (
    INSTALLER_PAYLOAD,
    NS,
    apprelease,
    cluster,
    global_manifest,
    kcp,
    to_yaml,
)
from support import HTTP

Factory = Callable[..., Sandbox]
CONFIG = "/cpaas-installer/api/config/dcs"
PROGRESS = "/cpaas-installer/api/progress"


def install_charts(sb: Sandbox, *releases: str) -> None:
    for r in releases:
        sb.api.apply_object(apprelease(r), manager="test")
    kube = api_client(sb)
    ext = client.ApiextensionsV1Api(kube)
    wait_for(
        lambda: any(
            c.metadata.name == "kubeadmcontrolplanes.controlplane.cluster.x-k8s.io"
            for c in ext.list_custom_resource_definition().items
        )
    )


def apply_all(sb: Sandbox, objs: list[dict[str, Any]]) -> None:
    for obj in objs:
        sb.api.apply_object(obj, manager="test")


def custom_get(sb: Sandbox, plural: str, name: str, group: str = "cluster.x-k8s.io") -> Any:
    custom = client.CustomObjectsApi(api_client(sb))
    return custom.get_namespaced_custom_object(group, "v1beta1", NS, plural, name)


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any]:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == type_), {})


def machines(sb: Sandbox) -> list[dict[str, Any]]:
    custom = client.CustomObjectsApi(api_client(sb))
    return custom.list_namespaced_custom_object("cluster.x-k8s.io", "v1beta1", NS, "machines")["items"]


def progress(sb: Sandbox) -> httpx.Response:
    return HTTP.get(sb.installer_url + PROGRESS, timeout=5)


# -- AppRelease --------------------------------------------------------------------------------


def test_appreleases_make_provider_crds_appear(sandbox_factory: Factory, tmp_path: Path) -> None:
    sb = sandbox_factory()
    kubectl = make_kubectl(sb, tmp_path / "cache")
    f = tmp_path / "ar.yaml"
    f.write_text(to_yaml([apprelease("cluster-api-provider-kubeadm"), apprelease("cluster-api-provider-dcs")]))
    kubectl("apply", "-f", str(f))
    for crd in ("kubeadmcontrolplanes.controlplane.cluster.x-k8s.io", "dcsclusters.infrastructure.cluster.x-k8s.io"):
        wait_for(lambda crd=crd: crd in kubectl("get", "crd", crd, "--ignore-not-found").stdout)
    kubectl("wait", "--for=condition=Ready", "-n", NS, "--timeout=10s", "apprelease", "--all")
    assert kubectl("get", "crd", "vsphereclusters.infrastructure.cluster.x-k8s.io", check=False).returncode != 0
    ar = json.loads(kubectl("get", "apprelease", "-n", NS, "cluster-api-provider-dcs", "-o", "json").stdout)
    assert ar["status"]["phase"] == "Ready"


def test_shipped_schemas_without_crd_dir_and_unknown_chart(sandbox: Sandbox) -> None:
    """No CRD directory: a declared chart installs the schemas its distribution ships (served
    and enforced), an undeclared chart fails its AppRelease with ChartNotFound."""
    sandbox.api.apply_object(apprelease("cluster-api-provider-vsphere"), manager="t")
    sandbox.api.apply_object(apprelease("cluster-api-provider-nope"), manager="t")
    kube = api_client(sandbox)
    custom = client.CustomObjectsApi(kube)

    def status(name: str) -> Any:
        obj = custom.get_namespaced_custom_object("operator.alauda.io", "v1alpha1", NS, "appreleases", name)
        return (obj.get("status") or {}).get("phase") in ("Ready", "Failed") and obj["status"]

    assert wait_for(lambda: status("cluster-api-provider-vsphere"))["phase"] == "Ready"
    failed = wait_for(lambda: status("cluster-api-provider-nope"))
    assert failed["phase"] == "Failed"
    assert condition({"status": failed}, "Ready")["reason"] == "ChartNotFound"
    crd = client.ApiextensionsV1Api(kube).read_custom_resource_definition(
        "vsphereclusters.infrastructure.cluster.x-k8s.io"
    )
    served = next(v for v in crd.spec.versions if v.served)
    assert not served.schema.open_apiv3_schema.x_kubernetes_preserve_unknown_fields
    assert "spec" in served.schema.open_apiv3_schema.properties
    bad = {"apiVersion": f"infrastructure.cluster.x-k8s.io/{served.name}", "kind": "VSphereCluster",
           "metadata": {"name": "global", "namespace": NS}, "spec": {"server": 7}}
    with pytest.raises(client.ApiException) as err:
        custom.create_namespaced_custom_object("infrastructure.cluster.x-k8s.io", served.name, NS,
                                               "vsphereclusters", bad)
    assert err.value.status == 422 and "spec.server" in err.value.body


# -- happy path --------------------------------------------------------------------------------


def test_happy_path_end_to_end(sandbox_factory: Factory, tmp_path: Path) -> None:
    sb = sandbox_factory()
    kubectl = make_kubectl(sb, tmp_path / "cache")
    install_charts(sb, "cluster-api-provider-kubeadm", "cluster-api-provider-dcs")
    wait_for(lambda: sb.kinds.by_kind("infrastructure.cluster.x-k8s.io/v1beta1", "DCSCluster"))
    f = tmp_path / "global.yaml"
    f.write_text(to_yaml(global_manifest(workers=2)))
    kubectl("apply", "--server-side", "-f", str(f))
    kubectl("wait", "--for=condition=Ready", "-n", NS, "--timeout=20s", "kubeadmcontrolplane/global-kcp")
    kubectl("wait", "--for=jsonpath={.status.phase}=Provisioned", "-n", NS, "--timeout=20s", "cluster/global")
    kcp_obj = custom_get(sb, "kubeadmcontrolplanes", "global-kcp", "controlplane.cluster.x-k8s.io")
    assert kcp_obj["status"]["readyReplicas"] == 3 and kcp_obj["status"]["ready"] is True
    wait_for(lambda: len([m for m in machines(sb) if m["status"].get("phase") == "Running"]) == 5)
    table = kubectl("get", "machines", "-n", NS).stdout
    assert table.count("Running") == 5 and "PHASE" in table
    dcs = custom_get(sb, "dcsclusters", "global", "infrastructure.cluster.x-k8s.io")
    assert dcs["status"]["ready"] is True
    # Step 8: installer address from the Pod, POST, poll to completion
    ip = kubectl(
        "get", "pods", "-n", NS, "-l", "service_name=cpaas-installer", "-o", "jsonpath={.items[0].status.podIP}"
    ).stdout
    url = f"http://{ip}:{sb.installer_port}"
    assert progress(sb).json()["type"] == "NotStarted"
    r = HTTP.post(url + CONFIG, json=INSTALLER_PAYLOAD, timeout=5)
    assert r.status_code == 200
    assert HTTP.post(url + CONFIG, json=INSTALLER_PAYLOAD, timeout=5).status_code == 409

    def done() -> Any:
        body = progress(sb).json()
        return body if body["status"] in ("Success", "Failed") else None

    final = wait_for(done, timeout=20)
    assert final["status"] == "Success" and final["type"] == "Complete"
    assert final["percent"] == 100
    steps = final["steps"]
    assert [s["name"] for s in steps] == ["Infrastructure", "ControlPlane", "NetworkAddons", "PlatformInstallation"]
    assert [s["status"] for s in steps] == ["Success"] * 4
    # each phase ran after the one before it (timestamps are RFC 3339 UTC: they sort as text)
    for before, after in itertools.pairwise(steps):
        assert before["startedAt"] <= before["finishedAt"] <= after["startedAt"]
    # the final state is on the NEW global cluster (seed: kubectl --kubeconfig <global-kubeconfig>)
    on_global = make_kubectl(sb, tmp_path / "cache-global", global_kubeconfig(sb, tmp_path / "global.kubeconfig"))
    cm = json.loads(on_global("get", "clustermodule", "global", "-o", "json").stdout)
    assert condition(cm, "Ready")["status"] == "True"
    assert kubectl("get", "clustermodule", "global", check=False).returncode != 0  # not on minialauda
    assert sb.recorder.installer_payloads == [INSTALLER_PAYLOAD]


def test_installer_rejects_bad_json(sandbox: Sandbox) -> None:
    r = HTTP.post(
        sandbox.installer_url + CONFIG, content=b"{nope", headers={"Content-Type": "application/json"}, timeout=5
    )
    assert r.status_code == 400
    assert HTTP.get(sandbox.installer_url + "/other", timeout=5).status_code == 404
    assert sandbox.recorder.installer_payloads == []


# -- stalls and faults (the seed's "Common Stalls" rows) --------------------------------------


def start_install(sb: Sandbox) -> None:
    install_charts(sb, "cluster-api-provider-kubeadm", "cluster-api-provider-dcs")
    wait_for(lambda: sb.kinds.by_kind("infrastructure.cluster.x-k8s.io/v1beta1", "DCSCluster"))
    apply_all(sb, global_manifest(workers=0))


def test_machines_pending(sandbox_factory: Factory, tmp_path: Path) -> None:
    sb = sandbox_factory(scenario="machines-pending")
    start_install(sb)
    kubectl = make_kubectl(sb, tmp_path / "cache")
    ms = wait_for(
        lambda: (m := machines(sb)) and len(m) == 3 and all(condition(x, "InfrastructureReady") for x in m) and m
    )
    for m in ms:
        assert m["status"]["phase"] == "Pending"
        cond = condition(m, "InfrastructureReady")
        assert cond["status"] == "False" and "insufficient quota" in cond["message"]
    described = kubectl("describe", "machine", "-n", NS, ms[0]["metadata"]["name"]).stdout
    assert "insufficient quota" in described
    events = kubectl("get", "events", "-n", NS, "-o", "json").stdout
    assert "InstanceProvisionFailed" in events
    kcp_obj = custom_get(sb, "kubeadmcontrolplanes", "global-kcp", "controlplane.cluster.x-k8s.io")
    assert condition(kcp_obj, "Ready").get("status") != "True"


def test_kcp_not_ready(sandbox_factory: Factory) -> None:
    sb = sandbox_factory(scenario="kcp-not-ready")
    start_install(sb)
    kcp_obj = wait_for(
        lambda: (
            (o := custom_get(sb, "kubeadmcontrolplanes", "global-kcp", "controlplane.cluster.x-k8s.io"))
            and condition(o, "Ready").get("reason") == "EtcdClusterUnhealthy"
            and o
        )
    )
    ready = condition(kcp_obj, "Ready")
    assert ready["status"] == "False" and ready["reason"] == "EtcdClusterUnhealthy"
    # the scenario's end state (not a sleep): the first member runs, the others never get past
    # Provisioned, and the KCP is still not Ready once they are all there
    end_state = ["Provisioned", "Provisioned", "Running"]
    wait_for(lambda: sorted(m["status"].get("phase") for m in machines(sb)) == end_state)
    again = custom_get(sb, "kubeadmcontrolplanes", "global-kcp", "controlplane.cluster.x-k8s.io")
    assert condition(again, "Ready")["status"] == "False"
    assert again["status"]["readyReplicas"] == 1 and again["status"]["replicas"] == 3


def test_image_pull(sandbox_factory: Factory, tmp_path: Path) -> None:
    """The seed's row: ``kubectl --kubeconfig <global-kubeconfig> describe pod -n kube-system``."""
    sb = sandbox_factory(scenario="image-pull")
    start_install(sb)
    assert json.loads(make_kubectl(sb, tmp_path / "c0")("get", "pods", "-n", "kube-system", "-o", "json").stdout
                      )["items"] == []  # not on minialauda
    kubectl = make_kubectl(sb, tmp_path / "cache", global_kubeconfig(sb, tmp_path / "global.kubeconfig"))

    def pulling() -> Any:
        pods = json.loads(kubectl("get", "pods", "-n", "kube-system", "-l", "app=kube-ovn-cni", "-o", "json").stdout)
        return pods["items"]

    pod = wait_for(pulling)[0]
    waiting = pod["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting["reason"] == "ImagePullBackOff" and "10.0.0.5:11443" in waiting["message"]
    assert "Failed to pull image" in kubectl("get", "events", "-n", "kube-system").stdout
    HTTP.post(sb.installer_url + CONFIG, json=INSTALLER_PAYLOAD, timeout=5)
    body = wait_for(
        lambda: (b := progress(sb).json())["type"] == "NetworkAddons" and "pulling image" in b["message"] and b,
        timeout=10,
    )
    assert body["status"] == "Running"


@pytest.mark.parametrize("scenario", ["installer-stall", "installer-fail", "installer-5xx"])
def test_installer_faults(sandbox_factory: Factory, scenario: str) -> None:
    sb = sandbox_factory(scenario=scenario)
    assert HTTP.post(sb.installer_url + CONFIG, json=INSTALLER_PAYLOAD, timeout=5).status_code == 200
    codes: list[int] = []

    def settled() -> Any:
        r = progress(sb)
        codes.append(r.status_code)
        if r.status_code != 200:
            return None
        b = r.json()
        if b["status"] in ("Success", "Failed"):
            return b
        if scenario == "installer-stall" and "waiting for module" in b["message"]:
            return b
        return None

    body = wait_for(settled, timeout=10)
    if scenario == "installer-stall":
        assert body["status"] == "Running" and body["type"] == "PlatformInstallation"
    elif scenario == "installer-fail":
        assert body["status"] == "Failed" and body["type"] == "PlatformInstallation"
        # a failed install may be retried
        assert HTTP.post(sb.installer_url + CONFIG, json=INSTALLER_PAYLOAD, timeout=5).status_code == 200
    else:
        assert codes[:3] == [503, 503, 503] and body["status"] == "Success"


def test_baremetal_waits_for_machine_inventory(sandbox_factory: Factory) -> None:
    sb = sandbox_factory()
    install_charts(sb, "cluster-api-provider-kubeadm", "cluster-api-provider-baremetal")
    wait_for(lambda: sb.kinds.by_kind("elemental.cattle.io/v1beta1", "MachineInventory"))
    apply_all(
        sb,
        [
            cluster("BaremetalCluster"),
            kcp(1, "BaremetalMachineTemplate"),
            {
                "apiVersion": "infrastructure.cluster.x-k8s.io/v1beta1",
                "kind": "BaremetalCluster",
                "metadata": {"name": "global", "namespace": NS},
                "spec": {},
            },
        ],
    )
    # the gate's message is written with the phase it keeps: Pending (no sleep needed to see it)
    ms = wait_for(lambda: (m := machines(sb)) and "MachineInventory" in condition(m[0], "InfrastructureReady").get(
        "message", "") and m)
    assert ms[0]["status"]["phase"] == "Pending"
    assert "0 of 1 hosts registered" in condition(ms[0], "InfrastructureReady")["message"]
    sb.api.apply_object(
        {
            "apiVersion": "elemental.cattle.io/v1beta1",
            "kind": "MachineInventory",
            "metadata": {"name": "host-1", "namespace": NS},
        },
        manager="t",
    )
    wait_for(lambda: machines(sb)[0]["status"]["phase"] == "Running")


def test_fixture_kubeconfig_is_private(sandbox: Sandbox) -> None:
    assert sandbox.kubeconfig_path.stat().st_mode & 0o777 == 0o600
    assert sandbox.token in sandbox.kubeconfig_path.read_text()
