"""Bare Metal objects as data: Step 3 certificates and values, Step 4 objects, Step 7 entries.

Pure functions of the spec (and, for Step 7, of the objects actually rendered or observed), so
``render`` output and the handoff gate agree on names.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from acp_install.provider import (
    ImportEntry,
    InstallSpec,
    KubeadmContribution,
    KubeadmFile,
    image_fields,
    kubeadm_base,
    object_meta,
    platform_of,
)

from .models import BaremetalPlatform, Pool

INFRA = "infrastructure.cluster.x-k8s.io/v1beta1"
INFRA_GROUP = "infrastructure.cluster.x-k8s.io"
ELEMENTAL = "elemental.cattle.io/v1beta1"
ELEMENTAL_GROUP = "elemental.cattle.io"
CERT_MANAGER = "cert-manager.io/v1"
RELEASE = "cluster-api-provider-baremetal"
PACKAGE = "acp_install_baremetal"
CP_POOL = "global-control-plane-pool"
CP_TEMPLATE = "global-control-plane-template"
DEX_TLS = "dex.tls"
BOOTSTRAP_PORT = 12443
SYSTEM_AGENT_SA = "baremetal-system-agent"
ENCRYPTION_SECRET = "global-encryption-provider-config"
SA_KEY_SECRET = "global-sa-signing-key"
SA_ISSUER = "https://kubernetes.default.svc.cluster.local"
SERVER_URL_ANNOTATION = "baremetal.cluster.io/system-agent-server-url"

#: CRDs the umbrella chart installs (§5.2 item 4), in the documented Step 7 order.
PROVIDER_CRDS = (
    "baremetalclusters.infrastructure.cluster.x-k8s.io",
    "baremetalmachines.infrastructure.cluster.x-k8s.io",
    "baremetalmachinetemplates.infrastructure.cluster.x-k8s.io",
    "machineinventorypools.infrastructure.cluster.x-k8s.io",
    "machineinventories.elemental.cattle.io",
    "machineregistrations.elemental.cattle.io",
    "seedimages.elemental.cattle.io",
)
WAIT_CRDS = ("baremetalclusters.infrastructure.cluster.x-k8s.io",
             "machineinventories.elemental.cattle.io")


def url_host(host: str) -> str:
    """An IP or name as it appears in a URL (IPv6 in brackets)."""
    try:
        return f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        return host


def bootstrap_url(spec: InstallSpec) -> str:
    return f"https://{url_host(spec.hostIP)}:{BOOTSTRAP_PORT}"


# --- Step 3 -------------------------------------------------------------------------------------


def bootstrap_certificates(spec: InstallSpec) -> tuple[dict[str, Any], ...]:
    """§5.2 item 1: the self-signed CA chain issuing ``dex.tls`` for ``https://HOST_IP:12443``.

    Applied (and Ready) before the AppRelease. Never imported by Step 7.
    """
    alb = spec.ingressClassName
    ns = spec.namespace
    return (
        {"apiVersion": CERT_MANAGER, "kind": "Issuer",
         "metadata": object_meta(spec, "baremetal-bootstrap-selfsigned"), "spec": {"selfSigned": {}}},
        {"apiVersion": CERT_MANAGER, "kind": "Certificate",
         "metadata": object_meta(spec, "baremetal-bootstrap-ca"),
         "spec": {"isCA": True, "commonName": "baremetal-bootstrap-ca",
                  "secretName": "baremetal-bootstrap-ca",
                  "duration": "87600h", "renewBefore": "720h",
                  "privateKey": {"algorithm": "RSA", "size": 2048},
                  "usages": ["cert sign", "crl sign"],
                  "issuerRef": {"name": "baremetal-bootstrap-selfsigned", "kind": "Issuer"}}},
        {"apiVersion": CERT_MANAGER, "kind": "Issuer",
         "metadata": object_meta(spec, "baremetal-bootstrap-ca"),
         "spec": {"ca": {"secretName": "baremetal-bootstrap-ca"}}},
        {"apiVersion": CERT_MANAGER, "kind": "Certificate",
         "metadata": object_meta(spec, "dex-tls-bootstrap"),
         "spec": {"secretName": DEX_TLS, "commonName": spec.hostIP,
                  "duration": "87600h", "renewBefore": "720h",
                  "privateKey": {"algorithm": "RSA", "size": 2048},
                  "ipAddresses": [spec.hostIP, "127.0.0.1"],
                  "dnsNames": [alb, f"{alb}.{ns}.svc", f"{alb}.{ns}.svc.cluster.local"],
                  "usages": ["digital signature", "key encipherment", "server auth"],
                  "issuerRef": {"name": "baremetal-bootstrap-ca", "kind": "Issuer"}}},
    )


def apprelease_values(spec: InstallSpec) -> dict[str, Any]:
    """§5.2 item 2: values deep-merged over the common ``global`` values."""
    p = platform_of(spec, BaremetalPlatform)
    handoff: dict[str, Any] = {"controlPlaneVIP": spec.controlPlaneVIP,
                               "delivery": {"enabled": True, "mode": "always"}}
    if p.directAPIServer:
        handoff["directAPIServer"] = True
    values: dict[str, Any] = {
        "global": {
            "ingress": {"ingressClassName": spec.ingressClassName,
                        "tls": {"secretName": DEX_TLS}},
            # the bootstrap host serves the platform until handoff, not the platform domain
            "platformUrl": f"https://{url_host(spec.hostIP)}",
        },
        "handoffHook": handoff,
        "elemental": {
            "server": {"url": bootstrap_url(spec)},
            "systemAgent": {"authMode": "shared", "serviceAccountName": SYSTEM_AGENT_SA},
            "tls": {"agentTLSMode": p.agentTLSMode, "caCertSecretName": DEX_TLS,
                    "caCertSecretKey": "ca.crt"},
        },
    }
    if p.imageCatalog:
        values["provider"] = {"imageCatalog": {"data": dict(sorted(p.imageCatalog.items()))}}
    return values


# --- Step 4 -------------------------------------------------------------------------------------


def machine_registration(spec: InstallSpec) -> dict[str, Any]:
    r = platform_of(spec, BaremetalPlatform).registration
    install: dict[str, Any] = {"device": r.installDevice, "eject-cd": True, "reboot": True,
                               "snapshotter": {"type": r.snapshotter, "maxSnaps": r.maxSnaps}}
    registration: dict[str, Any] = {"emulate-tpm": r.emulateTPM}
    if r.emulateTPM:
        registration["emulated-tpm-seed"] = -1 if r.emulatedTPMSeed is None else r.emulatedTPMSeed
    config: dict[str, Any] = {"elemental": {"install": install, "registration": registration}}
    if r.cloudConfig:
        config["cloud-config"] = r.cloudConfig
    if r.network:
        config["network"] = r.network
    labels = {
        "app.kubernetes.io/part-of": RELEASE,
        "pool.baremetal.alauda.io/eligible": "true",
        "elemental.cattle.io/serial-number": "${System Information/Serial Number}",
        **r.inventoryLabels,
    }
    annotations = {"annotations": dict(sorted(r.annotations.items()))} if r.annotations else {}
    return {
        "apiVersion": ELEMENTAL, "kind": "MachineRegistration",
        "metadata": object_meta(spec, r.name, **annotations),
        "spec": {
            "machineName": r.machineName,
            "machineInventoryLabels": labels,
            "machineInventoryAnnotations": {
                "elemental.cattle.io/machine-uuid": "${System Information/UUID}"},
            "config": config,
        },
    }


def seed_image(spec: InstallSpec) -> dict[str, Any]:
    p = platform_of(spec, BaremetalPlatform)
    s = p.seedImage
    body: dict[str, Any] = {
        "type": s.type,
        "baseImage": s.baseImage,
        "registrationRef": {"apiVersion": ELEMENTAL, "kind": "MachineRegistration",
                            "name": p.registration.name, "namespace": spec.namespace},
        "targetPlatform": s.targetPlatform,
        "size": s.size,
        "cleanupAfterMinutes": s.cleanupAfterMinutes,
    }
    if s.cloudConfig:
        body["cloud-config"] = s.cloudConfig
    return {"apiVersion": ELEMENTAL, "kind": "SeedImage", "metadata": object_meta(spec, s.name),
            "spec": body}


def inventory_pool(spec: InstallSpec, name: str, pool: Pool) -> dict[str, Any]:
    p = platform_of(spec, BaremetalPlatform)
    members: list[Any]
    if p.documentedFields.poolMembersAsNames:
        members = [inv.name for inv in pool.inventories]
    else:
        members = [{"name": inv.name, **({"hostname": inv.hostname} if inv.hostname else {})}
                   for inv in pool.inventories]
    return {"apiVersion": INFRA, "kind": "MachineInventoryPool", "metadata": object_meta(spec, name),
            "spec": {"clusterName": "global", "machineInventories": members}}


def machine_template(spec: InstallSpec, name: str, pool: str) -> dict[str, Any]:
    body: dict[str, Any] = {"machineInventoryPoolRef": {"name": pool}}
    policy = platform_of(spec, BaremetalPlatform).documentedFields.allocationPolicy
    if policy:
        body["allocationPolicy"] = policy
    return {"apiVersion": INFRA, "kind": "BaremetalMachineTemplate", "metadata": object_meta(spec, name),
            "spec": {"template": {"spec": body}}}


def baremetal_cluster(spec: InstallSpec) -> dict[str, Any]:
    p = platform_of(spec, BaremetalPlatform)
    e = p.endpoint
    lb: dict[str, Any] = {"type": e.type, "host": spec.controlPlaneVIP, "port": e.port}
    if e.type == "Internal":
        if e.vrid is not None:
            lb["vrid"] = e.vrid
        if e.vipMode is not None:
            lb["vipMode"] = e.vipMode
    # controlPlaneEndpoint stays empty: the provider backfills it (immutable once set)
    body: dict[str, Any] = {"controlPlaneLoadBalancer": lb}
    if spec.dr is None and p.encryptionProviderConfig is not None \
            and p.documentedFields.encryptionProviderConfigRef:
        body["encryptionProviderConfigRef"] = {"name": ENCRYPTION_SECRET}
    if p.networkType:
        body["networkType"] = p.networkType
    return {"apiVersion": INFRA, "kind": "BaremetalCluster", "metadata": object_meta(spec, "global"),
            "spec": body}


def kubeadm(spec: InstallSpec, *, worker: bool) -> KubeadmContribution:
    """The documented Bare Metal body (``templates/kcp-base.yaml``) with the spec's values
    (hostname, provider-id and criSocket are the provider's, never set here)."""
    p = platform_of(spec, BaremetalPlatform)
    base = kubeadm_base(PACKAGE, spec, worker=worker)
    users: tuple[dict[str, Any], ...] = ()
    if p.sshAuthorizedKeys:
        users = ({"name": "boot", "sudo": "ALL=(ALL) NOPASSWD:ALL", "shell": "/bin/bash",
                  "sshAuthorizedKeys": list(p.sshAuthorizedKeys)},)
    if worker:
        return attrs.evolve(base, users=users)
    images = image_fields(p.imageRepository, p.dnsImageTag, p.etcdImageTag)
    return attrs.evolve(base, users=users, cluster_configuration={**images, **base.cluster_configuration})


def cluster_annotations(spec: InstallSpec) -> dict[str, str]:
    """The global fragment's annotations and the create-cluster page's table (sentry-deploy-type
    and alb-address-type "Required: Yes", literals; kube-ovn-version "Recommended")."""
    p = platform_of(spec, BaremetalPlatform)
    annotations = {"cpaas.io/sentry-deploy-type": "Baremetal",
                   "cpaas.io/alb-address-type": "ClusterAddress"}
    if p.kubeOvnVersion:
        annotations["cpaas.io/kube-ovn-version"] = p.kubeOvnVersion
    return {**annotations, **p.clusterAnnotations}


def dr_kubeadm() -> KubeadmContribution:
    """§5.8: the shared service-account signing key, identical on both sides."""
    ref = {"secret": {"name": SA_KEY_SECRET}}
    return KubeadmContribution(
        files=(
            KubeadmFile("/etc/kubernetes/pki/sa.key", permissions="0600",
                        content_from={"secret": {**ref["secret"], "key": "sa.key"}}),
            KubeadmFile("/etc/kubernetes/pki/sa.pub", permissions="0644",
                        content_from={"secret": {**ref["secret"], "key": "sa.pub"}}),
        ),
        cluster_configuration={
            "apiServer": {"extraArgs": {
                "service-account-key-file": "/etc/kubernetes/pki/sa.pub",
                "service-account-signing-key-file": "/etc/kubernetes/pki/sa.key",
                "service-account-issuer": SA_ISSUER,
                "api-audiences": SA_ISSUER,
            }},
            "controllerManager": {"extraArgs": {
                "service-account-private-key-file": "/etc/kubernetes/pki/sa.key"}},
        },
    )


# --- Step 7 -------------------------------------------------------------------------------------


def _names(objects: Iterable[Mapping[str, Any]], kind: str) -> list[str]:
    return sorted({str(o["metadata"]["name"]) for o in objects if o.get("kind") == kind})


def pool_members(pool: Mapping[str, Any]) -> list[str]:
    """Inventory names of a MachineInventoryPool, whichever member form it uses (§8 item 7)."""
    out = []
    for item in (pool.get("spec") or {}).get("machineInventories") or []:
        out.append(str(item["name"]) if isinstance(item, Mapping) else str(item))
    return out


def import_entries(objects: Sequence[Mapping[str, Any]], *,
                   runtime_secrets: bool = True) -> list[ImportEntry]:
    """§5.6 from what is actually there: rendered objects, plus live ones when the engine has them.

    Plan Secrets (``MachineInventory.status.plan.secretRef``, ``BaremetalMachine.status.
    planSecretRef``) and kubeadm bootstrap-data Secrets (``Machine.spec.bootstrap.
    dataSecretName``) only exist at runtime: they are listed when ``objects`` holds live objects
    carrying them. SeedImages, the registration token Secret and ``dex.tls`` are never listed.
    """
    kinds = {o.get("kind") for o in objects}
    if "BaremetalCluster" not in kinds:
        return []
    entries = [ImportEntry("customresourcedefinitions.apiextensions.k8s.io",
                           names=PROVIDER_CRDS, method="kubectl"),
               ImportEntry.etcd("baremetalclusters.infrastructure.cluster.x-k8s.io",
                     _names(objects, "BaremetalCluster"))]
    if "BaremetalMachineTemplate" in kinds:
        # machines are created from templates with generated names: import all of them
        entries.append(ImportEntry.etcd("baremetalmachinetemplates.infrastructure.cluster.x-k8s.io"))
        entries.append(ImportEntry.etcd("baremetalmachines.infrastructure.cluster.x-k8s.io"))
    pools = [o for o in objects if o.get("kind") == "MachineInventoryPool"]
    if pools:
        entries.append(ImportEntry.etcd("machineinventorypools.infrastructure.cluster.x-k8s.io"))
        inventories = sorted({n for pool in pools for n in pool_members(pool)}
                             | set(_names(objects, "MachineInventory")))
        entries.append(ImportEntry.etcd("machineinventories.elemental.cattle.io", inventories))
    registrations = _names(objects, "MachineRegistration")
    if registrations:
        entries.append(ImportEntry.etcd("machineregistrations.elemental.cattle.io", registrations))
    if runtime_secrets:
        plan = sorted({n for n in (
            *(_get(o, "status", "plan", "secretRef", "name") for o in objects
              if o.get("kind") == "MachineInventory"),
            *(_get(o, "status", "planSecretRef", "name") for o in objects
              if o.get("kind") == "BaremetalMachine"),
        ) if n})
        data = sorted({n for n in (_get(o, "spec", "bootstrap", "dataSecretName") for o in objects
                                   if o.get("kind") == "Machine") if n})
        if plan:
            entries.append(ImportEntry("secrets", names=tuple(plan), method="kubectl"))
        if data:
            entries.append(ImportEntry("secrets", names=tuple(data), method="kubectl"))
    return entries


def _get(obj: Mapping[str, Any], *path: str) -> str | None:
    node: Any = obj
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return str(node) if node else None
