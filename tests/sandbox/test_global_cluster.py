"""The new global cluster the sandbox serves once the control plane is provisioned.

Observed as the seed's Verification and DR sections do: kubectl and curl (httpx) with the
kubeconfig read from the Cluster API Secret, the ``k8sadmin`` bearer token, label selectors.
"""

from __future__ import annotations

import base64
import json
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from acp_install_sandbox import Sandbox

from sandbox_helpers import Kubectl, global_kubeconfig, make_kubectl, wait_for
from sandbox_manifests import INSTALLER_PAYLOAD, NS, apprelease, global_manifest
from support import HTTP

Factory = Callable[..., Sandbox]
CONFIG = "/cpaas-installer/api/config/dcs"


def provision(sb: Sandbox, workers: int = 0) -> None:
    for r in ("cluster-api-provider-kubeadm", "cluster-api-provider-dcs"):
        sb.api.apply_object(apprelease(r), manager="test")
    manifest = global_manifest(workers=workers)
    wait_for(lambda: all(sb.kinds.by_kind(o["apiVersion"], o["kind"]) for o in manifest))
    for obj in manifest:
        sb.api.apply_object(obj, manager="test")


def installed(sb: Sandbox) -> None:
    """Step 8 and the wait for success (the installer waits for the control plane itself)."""
    assert HTTP.post(sb.installer_url + CONFIG, json=INSTALLER_PAYLOAD, timeout=5).status_code == 200
    wait_for(lambda: HTTP.get(sb.installer_url + "/cpaas-installer/api/progress", timeout=5).json()["status"]
             == "Success", timeout=30)


def on_global(sb: Sandbox, tmp_path: Path) -> tuple[Kubectl, Path]:
    path = global_kubeconfig(sb, tmp_path / "global.kubeconfig")
    return make_kubectl(sb, tmp_path / "cache-global", path), path


def nodes(kubectl: Kubectl) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(kubectl("get", "nodes", "-o", "json").stdout)["items"]
    return items


def ready(node: dict[str, Any]) -> str:
    return next(c["status"] for c in node["status"]["conditions"] if c["type"] == "Ready")


def test_kubeconfig_secret_reaches_a_second_api_with_its_own_ca(sandbox_factory: Factory, tmp_path: Path) -> None:
    sb = sandbox_factory()
    assert sb.global_cluster is None  # nothing before the control plane
    provision(sb, workers=1)
    kubectl, path = on_global(sb, tmp_path)
    minialauda = make_kubectl(sb, tmp_path / "cache")
    secret = json.loads(minialauda("get", "secret", "global-kubeconfig", "-n", NS, "-o", "json").stdout)
    assert secret["type"] == "cluster.x-k8s.io/secret" and list(secret["data"]) == ["value"]
    assert secret["metadata"]["labels"]["cluster.x-k8s.io/cluster-name"] == "global"
    assert secret["metadata"]["ownerReferences"][0]["kind"] == "Cluster"
    config = yaml.safe_load(path.read_text())
    server = config["clusters"][0]["cluster"]["server"]
    host = server.removeprefix("https://").rsplit(":", 1)[0]
    assert server != sb.server_url and host != sb.address and host.startswith("127.")
    ca = base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"])
    assert ca != sb.ca_pem
    # one Ready Node per Machine, as kubectl shows them
    wait_for(lambda: len([n for n in nodes(kubectl) if ready(n) == "True"]) == 4, timeout=20)
    assert "control-plane" in kubectl("get", "nodes", "--show-labels").stdout
    # kubectl's Node columns: STATUS Ready (not the condition's "True"), ROLES from the role labels
    header, *rows = (line.split() for line in kubectl("get", "nodes").stdout.splitlines())
    assert header == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"], header
    assert [r[1] for r in rows] == ["Ready"] * 4, rows
    assert sorted(r[2] for r in rows).count("control-plane") == 3, rows
    assert all(r[4].startswith("v1.") for r in rows), rows
    # minialauda's CA does not verify the new cluster, minialauda's token is not its token
    with pytest.raises(httpx.ConnectError):
        httpx.get(server + "/version", verify=ssl.create_default_context(cadata=sb.ca_pem.decode()), timeout=5)
    ctx = ssl.create_default_context(cadata=ca.decode())
    assert httpx.get(server + "/api/v1/nodes", verify=ctx, timeout=5,
                     headers={"Authorization": f"Bearer {sb.token}"}).status_code == 401
    assert minialauda("get", "nodes", "-o", "name").stdout.strip() == ""  # minialauda has no such Nodes


def test_after_the_installer_the_verification_and_dr_apis(sandbox_factory: Factory, tmp_path: Path) -> None:
    sb = sandbox_factory()
    provision(sb)
    installed(sb)
    kubectl, path = on_global(sb, tmp_path)
    # the seed's Verification commands
    phase = kubectl("get", "clusters.platform.tkestack.io", "global", "-o", "jsonpath={.status.phase}").stdout
    assert phase == "Running"
    assert "global" in kubectl("get", "clustermodule", "global").stdout
    pods = json.loads(kubectl("get", "pods", "-n", "cpaas-system", "-o", "json").stdout)["items"]
    services = {p["metadata"]["labels"]["service_name"] for p in pods}
    assert {"alertmanager", "vmselect", "vminsert", "cpaas-elasticsearch", "cluster-transformer"} <= services
    assert all(p["status"]["phase"] == "Running" for p in pods)
    name = pods[0]["metadata"]["name"]
    assert "started on node" in kubectl("logs", "-n", "cpaas-system", name).stdout
    # the DR section: the k8sadmin token (base64 in the Secret) calls the ModuleInfo API
    token_b64 = kubectl("get", "secret", "-n", "cpaas-system", "k8sadmin", "-o", "jsonpath={.data.token}").stdout
    token = base64.b64decode(token_b64).decode()
    server = yaml.safe_load(path.read_text())["clusters"][0]["cluster"]["server"]
    assert sb.global_cluster is not None
    ctx = ssl.create_default_context(cadata=sb.global_cluster.ca_pem.decode())
    body = {"kind": "ModuleInfo", "apiVersion": "cluster.alauda.io/v1alpha1",
            "metadata": {"name": "global-etcd-sync", "labels": {
                "cpaas.io/cluster-name": "global", "cpaas.io/module-name": "etcd-sync",
                "cpaas.io/module-type": "plugin"}},
            "spec": {"version": "v4.0.0", "config": {"active_cluster_vip": "127.0.0.9",
                                                     "active_cluster_token": "cGxhbnRlZA=="}}}
    r = httpx.post(server + "/apis/cluster.alauda.io/v1alpha1/moduleinfoes", json=body, verify=ctx, timeout=5,
                   headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    wait_for(lambda: kubectl("get", "moduleinfoes", "global-etcd-sync", "-o", "jsonpath={.status.phase}").stdout
             == "Running")
    # the DR restart by label selector: the Pods come back under new names
    before = {p["metadata"]["name"] for p in pods}
    kubectl("delete", "po", "-n", "cpaas-system", "-l", "service_name in (alertmanager,vmselect,vminsert)")
    deleted = {w.name for w in sb.global_cluster.recorder.writes if w.verb == "delete" and w.kind == "Pod"}
    assert len(deleted) == 3 and deleted <= before

    def restarted() -> bool:
        now = json.loads(kubectl("get", "pods", "-n", "cpaas-system", "-l", "service_name=vmselect", "-o",
                                 "json").stdout)["items"]
        return len(now) == 1 and now[0]["metadata"]["name"] not in before

    wait_for(restarted)


def test_node_not_ready(sandbox_factory: Factory, tmp_path: Path) -> None:
    sb = sandbox_factory(scenario="node-not-ready")
    provision(sb)
    kubectl, _ = on_global(sb, tmp_path)
    wait_for(lambda: sorted(ready(n) for n in nodes(kubectl)) == ["False", "True", "True"], timeout=20)
    (bad,) = [n for n in nodes(kubectl) if ready(n) == "False"]
    status = {r.split()[0]: r.split()[1] for r in kubectl("get", "nodes").stdout.splitlines()[1:]}
    assert status[bad["metadata"]["name"]] == "NotReady", status
    cond = next(c for c in bad["status"]["conditions"] if c["type"] == "Ready")
    assert cond["reason"] == "KubeletNotReady" and "cni plugin not initialized" in cond["message"]
    assert "NodeNotReady" in kubectl("get", "events", "-n", "default").stdout


def test_module_blocked(sandbox_factory: Factory, tmp_path: Path) -> None:
    sb = sandbox_factory(scenario="module-blocked")
    provision(sb)
    installed(sb)  # the installer itself reports success
    kubectl, _ = on_global(sb, tmp_path)
    described = kubectl("describe", "clustermodule", "global").stdout
    assert "ModuleNotReady" in described and "module base is not healthy" in described
