"""Real kubectl against the sandbox: apply, server-side apply, get, wait, delete, validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from acp_install_sandbox import Sandbox

from sandbox_helpers import Kubectl, make_kubectl
from sandbox_manifests import NS, apprelease, global_manifest, kcp, to_yaml

CM = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: demo
  namespace: default
  labels: {app: demo}
data: {a: "1"}
---
apiVersion: v1
kind: Secret
metadata:
  name: demo
  namespace: default
stringData: {password: hunter2}
"""


def test_apply_get_label_delete(kubectl: Kubectl, tmp_path: Path) -> None:
    f = tmp_path / "cm.yaml"
    f.write_text(CM)
    out = kubectl("apply", "-f", str(f)).stdout
    assert "configmap/demo created" in out and "secret/demo created" in out
    f.write_text(CM.replace('a: "1"', 'a: "2"'))
    assert "configmap/demo configured" in kubectl("apply", "-f", str(f)).stdout
    got = yaml.safe_load(kubectl("get", "configmap", "demo", "-o", "yaml").stdout)
    assert got["data"] == {"a": "2"}
    assert "kubectl.kubernetes.io/last-applied-configuration" in got["metadata"]["annotations"]
    secret = json.loads(kubectl("get", "secret", "demo", "-o", "json").stdout)
    assert "stringData" not in secret and secret["data"]["password"] == "aHVudGVyMg=="
    names = kubectl("get", "configmaps", "-l", "app=demo", "-o", "name").stdout.split()
    assert names == ["configmap/demo"]
    assert kubectl("get", "configmaps", "-l", "app=other", "-o", "name").stdout.strip() == ""
    assert "deleted" in kubectl("delete", "-f", str(f)).stdout
    assert kubectl("get", "configmap", "demo", check=False).returncode == 1


def test_server_side_apply_and_wait(sandbox: Sandbox, kubectl: Kubectl, tmp_path: Path) -> None:
    f = tmp_path / "ar.yaml"
    f.write_text(to_yaml([apprelease("cluster-api-provider-kubeadm")]))
    out = kubectl("apply", "--server-side", "-f", str(f)).stdout
    assert "serverside-applied" in out
    kubectl("wait", "--for=condition=Ready", "-n", NS, "--timeout=20s", "apprelease/cluster-api-provider-kubeadm")
    assert any(w.manager == "kubectl" and w.verb == "apply" for w in sandbox.recorder.writes_of("AppRelease"))
    # the table printer shows columns; kubectl get of an unknown kind fails cleanly
    assert "cluster-api-provider-kubeadm" in kubectl("get", "appreleases", "-A").stdout


def test_invalid_object_rejected_naming_field(sandbox: Sandbox, kubectl: Kubectl, tmp_path: Path) -> None:
    f = tmp_path / "ar.yaml"
    f.write_text(to_yaml([apprelease("cluster-api-provider-kubeadm")]))
    kubectl("apply", "-f", str(f))
    kubectl("wait", "--for=condition=Ready", "-n", NS, "--timeout=20s", "apprelease/cluster-api-provider-kubeadm")
    bad = kcp()
    bad["spec"]["kubeadmConfigSpec"]["format"] = "yaml"
    f.write_text(to_yaml([bad]))
    proc = kubectl("apply", "-f", str(f), check=False)
    assert proc.returncode != 0
    assert "is invalid" in proc.stderr and "spec.kubeadmConfigSpec.format" in proc.stderr
    # kubectl's default validation is server-side Strict: unknown fields are errors
    typo = kcp()
    typo["spec"]["replicaz"] = 3
    f.write_text(to_yaml([typo]))
    proc = kubectl("apply", "--server-side", "-f", str(f), check=False)
    assert proc.returncode != 0 and 'unknown field "spec.replicaz"' in proc.stderr
    assert kubectl("apply", "--validate=false", "-f", str(f)).returncode == 0


@pytest.mark.sandbox(preinstall_crds=True)
def test_global_manifest_applies_with_real_crds(kubectl: Kubectl, tmp_path: Path) -> None:
    f = tmp_path / "global.yaml"
    f.write_text(to_yaml(global_manifest()))
    out = kubectl("apply", "-f", str(f)).stdout
    assert "cluster.cluster.x-k8s.io/global created" in out
    assert "dcscluster.infrastructure.cluster.x-k8s.io/global created" in out


def test_two_sandboxes_side_by_side(sandbox_factory: object, tmp_path: Path) -> None:
    a = sandbox_factory()  # type: ignore[operator]
    b = sandbox_factory()  # type: ignore[operator]
    assert a.address != b.address and a.installer_port == b.installer_port == 8080
    for sb in (a, b):
        run = make_kubectl(sb, tmp_path / sb.address)
        ip = run(
            "get", "pods", "-n", NS, "-l", "service_name=cpaas-installer", "-o", "jsonpath={.items[0].status.podIP}"
        ).stdout
        assert ip == sb.address
