"""The Kubernetes API server, judged by the official `kubernetes` client over TLS + token."""

from __future__ import annotations

import base64
import json
import ssl
import threading
import urllib.request
from typing import Any

import pytest
from kubernetes import client, dynamic, watch
from kubernetes.client.rest import ApiException

from acp_install_sandbox import Sandbox
from acp_install_sandbox.provider import BUILTIN

from sandbox_helpers import api_client, wait_for
from sandbox_manifests import NS, cluster, dcs_cluster, kcp

WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.io"},
    "spec": {
        "group": "example.io",
        "scope": "Namespaced",
        "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["size"],
                                "properties": {
                                    "size": {"type": "integer", "minimum": 1},
                                    "color": {"type": "string", "enum": ["red", "blue"]},
                                },
                            },
                            "status": {"type": "object", "properties": {"phase": {"type": "string"}}},
                        },
                    }
                },
            }
        ],
    },
}


def widget(name: str = "w1", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.io/v1",
        "kind": "Widget",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": "demo"}},
        "spec": {"size": 1, **spec},
    }


def raw(
    sb: Sandbox,
    method: str,
    path: str,
    body: bytes | None = None,
    token: str | None = None,
    content_type: str = "application/json",
) -> tuple[int, Any]:
    """A bare HTTPS request (for malformed bodies the clients refuse to send)."""
    ctx = ssl.create_default_context(cadata=sb.ca_pem.decode())
    req = urllib.request.Request(sb.server_url + path, data=body, method=method)
    req.add_header("Authorization", f"Bearer {token if token is not None else sb.token}")
    req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=5) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def add_widget_crd(kube: client.ApiClient) -> None:
    client.ApiextensionsV1Api(kube).create_custom_resource_definition(WIDGET_CRD)


# -- transport, auth, discovery --------------------------------------------------------------


def test_tls_and_token(sandbox: Sandbox, kube: client.ApiClient) -> None:
    assert client.VersionApi(kube).get_code().git_version.startswith("v1.32")
    bad = api_client(sandbox, token="wrong")
    with pytest.raises(ApiException) as err:
        client.CoreV1Api(bad).list_namespace()
    assert err.value.status == 401
    assert json.loads(err.value.body)["kind"] == "Status"
    status, body = raw(sandbox, "GET", "/api/v1/namespaces", token="")
    assert status == 401 and body["reason"] == "Unauthorized"
    # the kubeconfig pins the sandbox CA: a default (system CA) context must not trust it
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(sandbox.server_url + "/version", timeout=5)


def test_discovery(kube: client.ApiClient) -> None:
    groups = {g.name for g in client.ApisApi(kube).get_api_versions().groups}
    assert {"apiextensions.k8s.io", "operator.alauda.io", "cluster.alauda.io"} <= groups
    core = {r.name for r in client.CoreV1Api(kube).get_api_resources().resources}
    assert {"namespaces", "secrets", "configmaps", "pods", "events", "pods/status"} <= core
    names = {ns.metadata.name for ns in client.CoreV1Api(kube).list_namespace().items}
    assert {"default", "kube-system", "cpaas-system"} <= names


def test_crd_makes_kind_servable(kube: client.ApiClient) -> None:
    custom = client.CustomObjectsApi(kube)
    with pytest.raises(ApiException) as err:
        custom.list_namespaced_custom_object("example.io", "v1", "default", "widgets")
    assert err.value.status == 404
    add_widget_crd(kube)
    crd = client.ApiextensionsV1Api(kube).read_custom_resource_definition("widgets.example.io")
    assert {c.type: c.status for c in crd.status.conditions}["Established"] == "True"
    res = client.ApisApi(kube).get_api_versions()
    assert "example.io" in {g.name for g in res.groups}
    custom.create_namespaced_custom_object("example.io", "v1", "default", "widgets", widget())
    assert (
        custom.list_namespaced_custom_object("example.io", "v1", "default", "widgets")["items"][0]["metadata"]["name"]
        == "w1"
    )
    # deleting the CRD removes the kind and its objects
    client.ApiextensionsV1Api(kube).delete_custom_resource_definition("widgets.example.io")
    with pytest.raises(ApiException) as err:
        custom.list_namespaced_custom_object("example.io", "v1", "default", "widgets")
    assert err.value.status == 404


# -- core kinds ------------------------------------------------------------------------------


def test_secret_string_data_folded(kube: client.ApiClient) -> None:
    core = client.CoreV1Api(kube)
    core.create_namespaced_secret(
        NS,
        {
            "metadata": {"name": "creds"},
            "stringData": {"password": "s3cret"},
            "data": {"user": base64.b64encode(b"admin").decode()},
        },
    )
    got = core.read_namespaced_secret("creds", NS)
    assert base64.b64decode(got.data["password"]) == b"s3cret"
    assert base64.b64decode(got.data["user"]) == b"admin"
    assert got.type == "Opaque"
    assert got.metadata.uid and got.metadata.resource_version and got.metadata.creation_timestamp


def test_configmap_crud_conflict_and_patches(kube: client.ApiClient) -> None:
    core = client.CoreV1Api(kube)
    cm = core.create_namespaced_config_map(
        NS, {"metadata": {"name": "cfg", "labels": {"tier": "a"}}, "data": {"k": "v"}}
    )
    assert cm.metadata.namespace == NS  # from the URL
    stale_rv = cm.metadata.resource_version
    cm.data["k"] = "v2"
    updated = core.replace_namespaced_config_map("cfg", NS, cm)
    assert updated.metadata.resource_version != stale_rv
    cm.metadata.resource_version = stale_rv
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_config_map("cfg", NS, cm)
    assert err.value.status == 409 and json.loads(err.value.body)["reason"] == "Conflict"
    core.patch_namespaced_config_map("cfg", NS, {"data": {"extra": "1"}})  # strategic
    patched = core.read_namespaced_config_map("cfg", NS)
    assert patched.data == {"k": "v2", "extra": "1"}
    core.delete_namespaced_config_map("cfg", NS)
    with pytest.raises(ApiException) as err:
        core.read_namespaced_config_map("cfg", NS)
    assert err.value.status == 404


def test_installer_pod_and_selectors(sandbox: Sandbox, kube: client.ApiClient) -> None:
    core = client.CoreV1Api(kube)
    pods = core.list_namespaced_pod(NS, label_selector="service_name=cpaas-installer").items
    assert [p.metadata.name for p in pods] == ["cpaas-installer"]
    assert pods[0].status.pod_ip == sandbox.address
    for name, labels in [("a", {"env": "prod", "tier": "web"}), ("b", {"env": "dev"}), ("c", {"tier": "db"})]:
        core.create_namespaced_config_map("default", {"metadata": {"name": name, "labels": labels}})

    def names(**kw: str) -> list[str]:
        return sorted(c.metadata.name for c in core.list_namespaced_config_map("default", **kw).items)

    assert names(label_selector="env=prod") == ["a"]
    assert names(label_selector="env!=prod") == ["b", "c"]
    assert names(label_selector="env in (prod,dev)") == ["a", "b"]
    assert names(label_selector="env notin (prod)") == ["b", "c"]
    assert names(label_selector="tier") == ["a", "c"]
    assert names(label_selector="!tier") == ["b"]
    assert names(label_selector="env=prod,tier=web") == ["a"]
    assert names(field_selector="metadata.name=b") == ["b"]
    assert names(field_selector="metadata.name!=b") == ["a", "c"]
    assert [
        c.metadata.name
        for c in core.list_config_map_for_all_namespaces(
            field_selector="metadata.namespace=default,metadata.name=a"
        ).items
    ] == ["a"]
    with pytest.raises(ApiException) as err:
        core.list_namespaced_config_map("default", label_selector="env in prod")
    assert err.value.status == 400


def test_namespace_required_and_deletion_cascades(kube: client.ApiClient) -> None:
    core = client.CoreV1Api(kube)
    with pytest.raises(ApiException) as err:
        core.create_namespaced_config_map("nope", {"metadata": {"name": "x"}})
    assert err.value.status == 404
    core.create_namespace({"metadata": {"name": "scratch"}})
    core.create_namespaced_config_map("scratch", {"metadata": {"name": "x"}})
    core.delete_namespace("scratch")
    assert core.list_namespaced_config_map("scratch").items == []


def test_malformed_bodies_get_400(sandbox: Sandbox) -> None:
    status, body = raw(sandbox, "POST", f"/api/v1/namespaces/{NS}/configmaps", b"{not json")
    assert status == 400 and body["kind"] == "Status" and body["reason"] == "BadRequest"
    status, body = raw(sandbox, "POST", f"/api/v1/namespaces/{NS}/configmaps", b"[1, 2]")
    assert status == 400
    status, _ = raw(
        sandbox,
        "PATCH",
        f"/api/v1/namespaces/{NS}/pods/cpaas-installer",
        b"\xff\xfe",
        content_type="application/merge-patch+json",
    )
    assert status == 400
    status, body = raw(sandbox, "GET", "/apis/nope.io/v1/things")
    assert status == 404 and body["kind"] == "Status"
    # and the server is still fine
    assert raw(sandbox, "GET", "/api/v1/namespaces")[0] == 200


# -- custom resources ------------------------------------------------------------------------


def test_custom_resource_patch_flavours_and_generation(kube: client.ApiClient) -> None:
    add_widget_crd(kube)
    custom = client.CustomObjectsApi(kube)
    args = ("example.io", "v1", "default", "widgets")
    created = custom.create_namespaced_custom_object(*args, widget())
    assert created["metadata"]["generation"] == 1
    merged = custom.patch_namespaced_custom_object(*args, "w1", {"spec": {"color": "red"}})
    assert merged["spec"] == {"size": 1, "color": "red"}
    assert merged["metadata"]["generation"] == 2
    widgets = dynamic.DynamicClient(custom.api_client).resources.get(api_version="example.io/v1", kind="Widget")
    jp = widgets.patch(
        name="w1",
        namespace="default",
        body=[{"op": "replace", "path": "/spec/size", "value": 5}, {"op": "remove", "path": "/spec/color"}],
        content_type="application/json-patch+json",
    ).to_dict()
    assert jp["spec"] == {"size": 5}
    # status subresource: status written only there; spec changes ignored there
    with_status = custom.patch_namespaced_custom_object_status(
        *args, "w1", {"status": {"phase": "Ready"}, "spec": {"size": 9}}
    )
    assert with_status["status"] == {"phase": "Ready"} and with_status["spec"]["size"] == 5
    gen = with_status["metadata"]["generation"]
    ignored = custom.patch_namespaced_custom_object(*args, "w1", {"status": {"phase": "X"}})
    assert ignored["status"] == {"phase": "Ready"}
    assert ignored["metadata"]["generation"] == gen  # status and no-op spec: no bump
    labelled = custom.patch_namespaced_custom_object(*args, "w1", {"metadata": {"labels": {"x": "y"}}})
    assert labelled["metadata"]["generation"] == gen  # metadata only: no bump


def test_custom_resource_validation_422(kube: client.ApiClient) -> None:
    add_widget_crd(kube)
    custom = client.CustomObjectsApi(kube)
    args = ("example.io", "v1", "default", "widgets")
    with pytest.raises(ApiException) as err:
        custom.create_namespaced_custom_object(*args, widget(size="big", color="green"))
    assert err.value.status == 422
    body = json.loads(err.value.body)
    assert body["reason"] == "Invalid"
    assert {c["field"] for c in body["details"]["causes"]} == {"spec.size", "spec.color"}
    assert "spec.color" in body["message"]
    # unknown fields: pruned (with a warning) by default, like a structural schema
    created = custom.create_namespaced_custom_object(*args, widget(bogus=1))
    assert "bogus" not in created["spec"]


def test_delete_with_finalizers(kube: client.ApiClient) -> None:
    core = client.CoreV1Api(kube)
    core.create_namespaced_config_map("default", {"metadata": {"name": "held", "finalizers": ["example.io/hold"]}})
    core.delete_namespaced_config_map("held", "default")
    held = core.read_namespaced_config_map("held", "default")
    assert held.metadata.deletion_timestamp is not None
    core.patch_namespaced_config_map("held", "default", {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as err:
        core.read_namespaced_config_map("held", "default")
    assert err.value.status == 404


def test_server_side_apply_with_dynamic_client(sandbox: Sandbox, kube: client.ApiClient) -> None:
    dyn = dynamic.DynamicClient(kube)
    cms = dyn.resources.get(api_version="v1", kind="ConfigMap")
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "applied", "namespace": "default"},
        "data": {"a": "1"},
    }
    first = cms.server_side_apply(body=body, field_manager="acp-install")
    assert first.data.to_dict() == {"a": "1"}
    body["data"]["b"] = "2"
    second = cms.server_side_apply(body=body, field_manager="acp-install")
    assert second.data.to_dict() == {"a": "1", "b": "2"}
    managers = {(m.manager, m.operation) for m in second.metadata.managedFields}
    assert ("acp-install", "Apply") in managers
    assert any(
        w.verb == "apply" and w.manager == "acp-install" for w in sandbox.recorder.writes_of("ConfigMap", "applied")
    )


@pytest.mark.sandbox(preinstall_crds=True)
def test_preinstalled_capi_kinds_via_dynamic_client(kube: client.ApiClient) -> None:
    dyn = dynamic.DynamicClient(kube)
    clusters = dyn.resources.get(api_version="cluster.x-k8s.io/v1beta1", kind="Cluster")
    clusters.server_side_apply(body=cluster(), namespace=NS, field_manager="t")
    assert clusters.get(name="global", namespace=NS).spec.controlPlaneRef.name == "global-kcp"


# -- watch -----------------------------------------------------------------------------------


def test_watch_from_resource_version(kube: client.ApiClient) -> None:
    core = client.CoreV1Api(kube)
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", {"metadata": {"name": "w", "labels": {"watch": "me"}}})
    core.patch_namespaced_config_map("w", "default", {"data": {"x": "1"}})
    core.create_namespaced_config_map("default", {"metadata": {"name": "other"}})
    core.delete_namespaced_config_map("w", "default")
    seen = [
        (e["type"], e["object"].metadata.name)
        for e in watch.Watch().stream(
            core.list_namespaced_config_map,
            "default",
            resource_version=rv,
            label_selector="watch=me",
            timeout_seconds=1,
        )
    ]
    assert seen == [("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w")]


def test_watch_streams_live_events(kube: client.ApiClient) -> None:
    """An object created once the watch is established (its first event proves it) arrives live."""
    core = client.CoreV1Api(kube)
    core.create_namespaced_config_map("default", {"metadata": {"name": "before"}})
    seen = []
    w = watch.Watch()
    # timeout_seconds is only a hang guard here: the loop stops on the live event
    for e in w.stream(core.list_namespaced_config_map, "default", timeout_seconds=60):
        seen.append((e["type"], e["object"].metadata.name))
        if seen == [("ADDED", "before")]:
            core.create_namespaced_config_map("default", {"metadata": {"name": "live"}})
        if e["object"].metadata.name == "live":
            w.stop()
    assert seen == [("ADDED", "before"), ("ADDED", "live")]


def test_watch_ends_at_its_timeout(kube: client.ApiClient) -> None:
    """timeoutSeconds ends a quiet watch server-side (uncapped, it would run 30 min)."""
    core = client.CoreV1Api(kube)
    seen: list[Any] = []
    thread = threading.Thread(
        target=lambda: seen.extend(watch.Watch().stream(core.list_namespaced_config_map, "default",
                                                        timeout_seconds=1)),
        daemon=True,
    )
    thread.start()
    thread.join(timeout=120)  # expiry means "it hung", never "it was slow"
    assert not thread.is_alive(), "the watch ignored timeoutSeconds"
    assert seen == []


def test_watch_history_is_bounded(sandbox: Sandbox, kube: client.ApiClient) -> None:
    """One shared ring of the last 2000 events (docs/sandbox.md): a watch from before it is 410
    Expired, a watch from inside it still gets every event after its resourceVersion."""
    core = client.CoreV1Api(kube)
    oldest = core.list_namespaced_config_map("default").metadata.resource_version
    configmaps = next(rt for rt in BUILTIN if rt.plural == "configmaps")
    for i in range(2000):  # in process, so the test is about the ring, not HTTP throughput
        sandbox.api.create(configmaps, {"metadata": {"name": f"m{i}", "namespace": "default"}}, manager="t")
    recent = core.list_namespaced_config_map("default", label_selector="none=here").metadata.resource_version
    core.create_namespaced_config_map("default", {"metadata": {"name": "last"}})
    with pytest.raises(ApiException) as err:
        list(watch.Watch().stream(core.list_namespaced_config_map, "default", resource_version=oldest,
                                  timeout_seconds=5))
    assert err.value.status == 410
    w = watch.Watch()
    got = []
    for e in w.stream(core.list_namespaced_config_map, "default", resource_version=recent, timeout_seconds=60):
        got.append((e["type"], e["object"].metadata.name))
        w.stop()
    assert got == [("ADDED", "last")]


def test_concurrent_clients(sandbox: Sandbox) -> None:
    errors: list[BaseException] = []
    # Built here, not in the threads: the kubernetes client's kubeconfig loader shares one CA
    # temp file per content and names it before writing it, so concurrent loads can read it empty.
    clients = [api_client(sandbox) for _ in range(6)]

    def worker(n: int) -> None:
        try:
            kube = clients[n]
            core = client.CoreV1Api(kube)
            for i in range(10):
                core.create_namespaced_config_map("default", {"metadata": {"name": f"t{n}-{i}"}})
            kube.close()
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    kube = api_client(sandbox)
    assert len(client.CoreV1Api(kube).list_namespaced_config_map("default").items) == 60


def test_dcs_kinds_validated_with_real_crds(sandbox_factory: Any) -> None:
    sb = sandbox_factory(preinstall_crds=True)
    custom = client.CustomObjectsApi(api_client(sb))
    group, version = "infrastructure.cluster.x-k8s.io", "v1beta1"
    custom.create_namespaced_custom_object(group, version, NS, "dcsclusters", dcs_cluster())
    bad = kcp()
    bad["spec"]["kubeadmConfigSpec"]["format"] = "yaml"
    with pytest.raises(ApiException) as err:
        custom.create_namespaced_custom_object(
            "controlplane.cluster.x-k8s.io", version, NS, "kubeadmcontrolplanes", bad
        )
    assert err.value.status == 422
    causes = json.loads(err.value.body)["details"]["causes"]
    assert [c["field"] for c in causes] == ["spec.kubeadmConfigSpec.format"]
    wait_for(lambda: True)


def test_a_port_in_use_fails_the_start_instead_of_hanging_it() -> None:
    """The installer's port taken: start raises, and its cleanup stops servers that never
    served (``shutdown()`` of a server whose loop never ran waits forever)."""
    import subprocess
    import sys

    code = (
        "import socket, sys\n"
        "from acp_install_sandbox import Sandbox\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)\n"
        "try:\n"
        "    Sandbox(installer_port=s.getsockname()[1]).start()\n"
        "except OSError as err:\n"
        "    print('refused', err.errno)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("refused ")
