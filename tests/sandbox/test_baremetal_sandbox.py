"""Bare Metal against the sandbox: emulated cert-manager and host registration.

The full install runs through the CLI entry point; kubectl (the real binary) reads the
certificates and the registered MachineInventory objects. Intermediate states are held by the
sandbox (``Sandbox.hold``) until the engine or the test has seen them, never raced.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from acp_install_baremetal.sandbox import HOST_REGISTRATION
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from acp_install.cli.main import main
from acp_install_sandbox import Hold, Sandbox

from sandbox_helpers import Kubectl, wait_for

NS = "cpaas-system"
INVENTORIES = [f"global-{h.uuid}" for h in HOST_REGISTRATION.hosts]
POOL = "global-control-plane-pool"

def install(tmp_path: Path, *extra: str) -> int:
    return main(
        [
            "install",
            "--sandbox",
            "--provider",
            "baremetal",
            "--workdir",
            str(tmp_path),
            *extra,
        ]
    )


# -- end to end ----------------------------------------------------------------------------------


def test_install_completes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sandbox_factory: Any
) -> None:
    """`acp-install install` against a running sandbox that holds the two objects the gates judge
    (the dex.tls Secret, the hosts' inventories) until the engine has read them held: each gate
    is observed closed, then open, however slow the machine."""
    sb = sandbox_factory(
        holds=[Hold("Secret", "dex.tls", NS, until="observed"), Hold("MachineInventory", None, NS, until="observed")],
    )
    monkeypatch.setenv("ACP_ADMIN_PASSWORD", "sandbox-test")
    spec = tmp_path / "spec.yaml"
    assert main(["init", "--provider", "baremetal", "-o", str(spec)]) == 0
    rc = main(["install", "-f", str(spec), "--kubeconfig", str(sb.kubeconfig_path), "--workdir", str(tmp_path / "w"),
               "--installer-address", f"{sb.address}:{sb.installer_port}", "--poll-interval", "0.1",
               "--timeout-scale", "0.1"])
    out = capsys.readouterr()
    text = out.out + out.err
    assert rc == 0, text
    assert sb.api.holds.active == ()  # both holds ended by the engine's reads, none by a test
    # each gate was observed closed, then opened (the next step ran)
    assert "gate packages: Secret/dex.tls: missing key(s)" in text
    assert "created AppRelease/cluster-api-provider-baremetal" in text
    assert f"MachineInventory/{INVENTORIES[0]}: not registered" in text  # the gate was observed closed
    assert "Cluster global: phase Provisioned" in text
    assert "gate packages open" in text and "gate control-plane open" in text
    assert "install complete" in text


def test_hosts_missing_stalls_on_the_control_plane_gate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = install(tmp_path, "--scenario", "hosts-missing", "--timeout", "control-plane=60")
    err = capsys.readouterr().err
    assert rc == 12, err
    assert "gate 'control-plane' still blocked" in err
    blocked = err.split("still blocked", 1)[1]
    assert f"MachineInventory/{INVENTORIES[2]}: not registered" in blocked
    assert INVENTORIES[0] not in blocked and INVENTORIES[1] not in blocked
    assert "boot the host from the SeedImage ISO" in blocked


# -- the emulation, object by object ---------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """``acp-install init`` + ``render`` of the Bare Metal example: the objects a user applies."""
    tmp = tmp_path_factory.mktemp("bm-render")
    mp = pytest.MonkeyPatch()
    mp.setenv("ACP_ADMIN_PASSWORD", "sandbox-test")
    try:
        assert main(["init", "--provider", "baremetal", "-o", str(tmp / "spec.yaml")]) == 0
        assert main(["render", "-f", str(tmp / "spec.yaml"), "-o", str(tmp / "out")]) == 0
    finally:
        mp.undo()
    out = {}
    for name in ("appreleases", "global"):
        out[name] = [d for d in yaml.safe_load_all((tmp / "out" / f"{name}.yaml").read_text()) if d]
    return out


BM = pytest.mark.sandbox(preinstall_crds=True)


@pytest.fixture
def bm(sandbox: Sandbox) -> Sandbox:
    """The test's sandbox (``@BM``: real CRDs served, fast), the one ``kubectl`` talks to."""
    return sandbox


def _apply(sb: Sandbox, objs: list[dict[str, Any]]) -> None:
    for obj in objs:
        sb.api.apply_object(obj, manager="test")


def _get(sb: Sandbox, api_version: str, kind: str, name: str, ns: str | None = NS) -> dict[str, Any] | None:
    rt = sb.kinds.by_kind(api_version, kind)
    assert rt is not None, kind
    return sb.store.try_get(rt, ns, name)


def _ready(obj: dict[str, Any] | None) -> bool:
    conds = ((obj or {}).get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds)


@BM
def test_cert_manager_issues_the_bootstrap_chain(
    bm: Sandbox, rendered: dict[str, list[dict[str, Any]]], kubectl: Kubectl
) -> None:
    certs = [o for o in rendered["appreleases"] if o["apiVersion"].startswith("cert-manager.io/")]
    assert [o["kind"] for o in certs] == ["Issuer", "Certificate", "Issuer", "Certificate"]
    _apply(bm, certs)  # served from startup: no AppRelease needed
    kubectl("wait", "--for=condition=Ready", "-n", NS, "--timeout=20s", "certificate/dex-tls-bootstrap")
    secret = json.loads(kubectl("get", "secret", "dex.tls", "-n", NS, "-o", "json").stdout)
    assert secret["type"] == "kubernetes.io/tls"
    data = {k: base64.b64decode(v) for k, v in secret["data"].items()}
    assert set(data) >= {"tls.crt", "tls.key", "ca.crt"}
    leaf = x509.load_pem_x509_certificate(data["tls.crt"])
    ca = x509.load_pem_x509_certificate(data["ca.crt"])
    leaf.verify_directly_issued_by(ca)  # the CA Issuer signed it with the CA Certificate's key
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert isinstance(ca.public_key(), rsa.RSAPublicKey) and ca.public_key().key_size == 2048
    assert ca.not_valid_after_utc - ca.not_valid_before_utc == dt.timedelta(hours=87600)
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("192.168.1.10") in sans.get_values_for_type(x509.IPAddress)
    assert "global-alb2.cpaas-system.svc" in sans.get_values_for_type(x509.DNSName)
    cert = _get(bm, "cert-manager.io/v1", "Certificate", "dex-tls-bootstrap")
    assert cert is not None and cert["status"]["revision"] == 1 and cert["status"]["notAfter"]
    # deleting the Secret makes cert-manager issue it again
    kubectl("delete", "secret", "dex.tls", "-n", NS)
    wait_for(lambda: _get(bm, "v1", "Secret", "dex.tls"), timeout=10)


@BM
def test_ca_issuer_waits_for_its_key_pair(bm: Sandbox) -> None:
    _apply(
        bm,
        [
            {
                "apiVersion": "cert-manager.io/v1",
                "kind": "Issuer",
                "metadata": {"name": "ca", "namespace": NS},
                "spec": {"ca": {"secretName": "no-such-ca"}},
            },
            {
                "apiVersion": "cert-manager.io/v1",
                "kind": "Certificate",
                "metadata": {"name": "c", "namespace": NS},
                "spec": {"secretName": "c-tls", "commonName": "x", "issuerRef": {"name": "ca", "kind": "Issuer"}},
            },
            {
                "apiVersion": "cert-manager.io/v1",
                "kind": "ClusterIssuer",
                "metadata": {"name": "self"},
                "spec": {"selfSigned": {}},
            },
        ],
    )
    issuer = wait_for(lambda: (i := _get(bm, "cert-manager.io/v1", "Issuer", "ca")) and i.get("status") and i)
    assert issuer["status"]["conditions"][0]["reason"] == "ErrGetKeyPair"
    cert = wait_for(lambda: (c := _get(bm, "cert-manager.io/v1", "Certificate", "c")) and c.get("status") and c)
    assert not _ready(cert) and "no-such-ca" in cert["status"]["conditions"][0]["message"]
    assert _get(bm, "v1", "Secret", "c-tls") is None
    wait_for(lambda: _ready(_get(bm, "cert-manager.io/v1", "ClusterIssuer", "self", None)))


def _registration_objects(rendered: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    kinds = ("MachineRegistration", "SeedImage", "MachineInventoryPool")
    return [o for o in rendered["global"] if o["kind"] in kinds]


@BM
def test_hosts_register_and_kubectl_sees_them(
    bm: Sandbox, rendered: dict[str, list[dict[str, Any]]], kubectl: Kubectl
) -> None:
    _apply(bm, _registration_objects(rendered))
    kubectl(
        "wait", "--for=jsonpath={.status.state}=Completed", "-n", NS, "--timeout=20s", "seedimage/global-seed-image"
    )
    wait_for(lambda: all(_ready(_get(bm, HOST_REGISTRATION.api_version, "MachineInventory", n)) for n in INVENTORIES))
    kubectl("wait", "--for=condition=Ready", "-n", NS, "--timeout=20s", "machineinventory", "--all")
    listed = json.loads(kubectl("get", "machineinventory.elemental.cattle.io", "-n", NS, "-o", "json").stdout)
    by_name = {i["metadata"]["name"]: i for i in listed["items"]}
    assert sorted(by_name) == sorted(INVENTORIES)
    first = by_name[INVENTORIES[0]]
    assert first["metadata"]["labels"]["pool.baremetal.alauda.io/eligible"] == "true"
    assert first["metadata"]["labels"]["elemental.cattle.io/serial-number"] == "SBX0001"
    assert first["metadata"]["annotations"]["elemental.cattle.io/machine-uuid"] == HOST_REGISTRATION.hosts[0].uuid
    assert first["metadata"]["annotations"]["baremetal.alauda.io/pool"] == POOL
    assert first["spec"]["observedNetwork"]["interfaces"][0]["addresses"] == ["192.168.10.11/24"]
    assert first["status"]["plan"]["state"] == "Applied"
    assert first["status"]["storage"]["phase"] == "Unmanaged"
    plan = kubectl("get", "secret", first["status"]["plan"]["secretRef"]["name"], "-n", NS, "-o", "json").stdout
    assert json.loads(plan)["type"] == "elemental.cattle.io/plan"
    # spares are in no pool
    assert "baremetal.alauda.io/pool" not in (by_name[INVENTORIES[4]]["metadata"].get("annotations") or {})
    pool = json.loads(kubectl("get", "machineinventorypool", POOL, "-n", NS, "-o", "json").stdout)
    assert pool["status"]["total"] == pool["status"]["available"] == 3
    assert _ready(pool)
    # what the engine's gate checks, with the provider's own gate function
    from acp_install_baremetal import gates

    snapshot = {"MachineInventory": listed["items"]}
    expected = [gates.ExpectedInventory(n, POOL, f"192.168.10.{11 + i}") for i, n in enumerate(INVENTORIES[:3])]
    assert gates.registration_gate(snapshot, expected) == []


@BM
def test_declared_storage_is_prepared_before_pooling(bm: Sandbox, rendered: dict[str, list[dict[str, Any]]]) -> None:
    _apply(bm, _registration_objects(rendered)[:2])
    api = HOST_REGISTRATION.api_version
    wait_for(lambda: _ready(_get(bm, api, "MachineInventory", INVENTORIES[0])))
    patch = {
        "spec": {
            "storage": {
                "volumes": [
                    {
                        "name": "data",
                        "source": {"deviceID": "wwn-0x5000c500a1b2c3d4"},
                        "filesystem": {"type": "xfs", "policy": "InitializeIfBlank"},
                        "mount": {"path": "/data", "required": True},
                    }
                ]
            }
        }
    }
    rt = bm.kinds.by_kind(api, "MachineInventory")
    assert rt is not None
    # Preparing lasts one host_boot: held there until the test has looked
    hold = bm.hold("MachineInventory", INVENTORIES[0], NS, at=("status.storage.phase", "Preparing"))
    bm.api.patch(rt, NS, INVENTORIES[0], json.dumps(patch).encode(), "application/merge-patch+json", manager="t")

    def storage() -> dict[str, Any]:
        inv = _get(bm, api, "MachineInventory", INVENTORIES[0]) or {}
        return dict((inv.get("status") or {}).get("storage") or {})

    preparing = wait_for(lambda: (s := storage()).get("phase") == "Preparing" and s)
    assert "pendingSpecHash" in preparing and "appliedSpecHash" not in preparing
    bm.release(hold)
    prepared = wait_for(lambda: (s := storage()).get("phase") == "Prepared" and s)
    assert prepared["appliedSpecHash"] == preparing["pendingSpecHash"] and "pendingSpecHash" not in prepared


@BM
def test_an_inventory_belongs_to_one_pool(bm: Sandbox, rendered: dict[str, list[dict[str, Any]]]) -> None:
    _apply(bm, _registration_objects(rendered))
    wait_for(
        lambda: (
            ((_get(bm, HOST_REGISTRATION.api_version, "MachineInventory", INVENTORIES[0]) or {}).get("metadata") or {})
            .get("annotations", {})
            .get("baremetal.alauda.io/pool")
        )
    )
    other = {
        "apiVersion": "infrastructure.cluster.x-k8s.io/v1beta1",
        "kind": "MachineInventoryPool",
        "metadata": {"name": "global-other-pool", "namespace": NS},
        "spec": {"clusterName": "global", "machineInventories": [{"name": INVENTORIES[0]}, {"name": "global-nope"}]},
    }
    _apply(bm, [other])
    pool = wait_for(
        lambda: (
            (p := _get(bm, "infrastructure.cluster.x-k8s.io/v1beta1", "MachineInventoryPool", "global-other-pool"))
            and p.get("status")
            and p
        )
    )
    valid = next(c for c in pool["status"]["conditions"] if c["type"] == "MembersValid")
    assert valid["status"] == "False"
    assert "not registered: global-nope" in valid["message"] and f"{INVENTORIES[0]} (pool {POOL})" in valid["message"]


def test_hosts_missing_registers_fewer_hosts(sandbox_factory: Any, rendered: dict[str, list[dict[str, Any]]]) -> None:
    sb = sandbox_factory(preinstall_crds=True, scenario="hosts-missing")
    _apply(sb, _registration_objects(rendered))
    api = HOST_REGISTRATION.api_version
    wait_for(lambda: _ready(_get(sb, api, "MachineInventory", INVENTORIES[1])))
    pool = wait_for(
        lambda: (
            (p := _get(sb, "infrastructure.cluster.x-k8s.io/v1beta1", "MachineInventoryPool", POOL))
            and (p.get("status") or {}).get("available") == 2
            and p
        )
    )
    assert not _ready(pool) and f"not registered: {INVENTORIES[2]}" in pool["status"]["conditions"][-1]["message"]
    rt = sb.kinds.by_kind(api, "MachineInventory")
    assert rt is not None and len(sb.store.list(rt)[0]) == 2
