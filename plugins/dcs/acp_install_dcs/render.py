"""DCS objects as data: the Step 4 objects, the DCS part of the kubeadm body, Step 7 entries.

Pure functions of the spec (and, for Step 7, of the objects actually rendered), so ``render``
output and the import list agree on names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from acp_install.provider import (
    ImportEntry,
    InstallSpec,
    KubeadmContribution,
    ObjectRef,
    WorkerGroup,
    crd_data,
    encryption_config,
    object_meta,
    platform_of,
    secret_object,
    worker_group,
)

from .models import DcsPlatform, Machines

INFRA = "infrastructure.cluster.x-k8s.io/v1beta1"
FORMAT = "ignition"
RELEASE = "cluster-api-provider-dcs"
CP_POOL = "global-cp-pool"
CP_TEMPLATE = "global-cp-template"
ENCRYPTION_SECRET = "encryption-provider-config"
PRE_KUBEADM = (
    'while ! ip route | grep -q "default via"; do sleep 1; done; echo "NetworkManager started"',
    "mkdir -p /run/cluster-api && restorecon -Rv /run/cluster-api",
    "if [ -f /etc/disk-setup.sh ]; then bash /etc/disk-setup.sh; fi",
)
KUBELET_ARGS = {
    # PROVIDER_ID and NODE_IP are literals the DCS provider replaces at join time
    "provider-id": "PROVIDER_ID",
    "volume-plugin-dir": "/opt/libexec/kubernetes/kubelet-plugins/volume/exec/",
    "protect-kernel-defaults": "true",
}


def ip_hostname_pool(spec: InstallSpec, name: str, machines: Machines) -> dict[str, Any]:
    return {"apiVersion": INFRA, "kind": "DCSIpHostnamePool", "metadata": object_meta(spec, name),
            "spec": {"pool": crd_data(machines.pool)}}


def machine_template(spec: InstallSpec, name: str, pool: str, m: Machines) -> dict[str, Any]:
    vm: dict[str, Any] = {}
    for key in ("dvSwitchName", "portGroupName", "portGroupUrn", "cdRomDatastoreName",
                "cdRomDatastoreClusterName"):
        if getattr(m, key) is not None:
            vm[key] = getattr(m, key)
    vm["dcsMachineCpuSpec"] = {"quantity": m.cpu}
    vm["dcsMachineMemorySpec"] = {"quantity": m.memoryMB}
    vm["dcsMachineDiskSpec"] = crd_data(m.disks)
    body: dict[str, Any] = {"vmTemplateName": m.vmTemplateName}
    if m.location is not None:
        body["location"] = crd_data(m.location)
    if m.resource is not None:
        body["resource"] = crd_data(m.resource)
    body["vmConfig"] = vm
    body["ipHostPoolRef"] = {"name": pool}
    return {"apiVersion": INFRA, "kind": "DCSMachineTemplate", "metadata": object_meta(spec, name),
            "spec": {"template": {"spec": body}}}


def credential_secret(spec: InstallSpec) -> dict[str, Any]:
    c = platform_of(spec, DcsPlatform).credentials
    data: dict[str, Any] = {"authUser": c.authUser, "authKey": c.authKey, "endpoint": c.endpoint}
    if c.site is not None:
        data["site"] = c.site
    if c.userType is not None:
        data["userType"] = c.userType
    return secret_object(spec, spec.providerSecretName, data, type=c.secretType)


def dcs_cluster(spec: InstallSpec) -> dict[str, Any]:
    p = platform_of(spec, DcsPlatform)
    endpoint = {"host": spec.controlPlaneVIP, "port": p.loadBalancer.port}
    body: dict[str, Any] = {
        "controlPlaneLoadBalancer": {"type": p.loadBalancer.type, **endpoint},
        "controlPlaneEndpoint": dict(endpoint),
        "credentialSecretRef": {"name": spec.providerSecretName},
        "networkType": "kube-ovn",
    }
    if p.credentials.site is not None:
        body["site"] = p.credentials.site
    if p.controlPlaneHA is not None:
        body["controlPlaneHA"] = {"enabled": p.controlPlaneHA}
    annotations = {"cpaas.io/registry-address": spec.node_registry_address}
    return {"apiVersion": INFRA, "kind": "DCSCluster",
            "metadata": object_meta(spec, "global", annotations=annotations), "spec": body}


def kubeadm(p: DcsPlatform, *, worker: bool) -> KubeadmContribution:
    users = ({"name": "boot", "sshAuthorizedKeys": list(p.sshAuthorizedKeys)},)
    join_args = {**KUBELET_ARGS, "node-ip": "NODE_IP"}
    if worker:
        return KubeadmContribution(
            users=users, pre_kubeadm_commands=PRE_KUBEADM,
            join_configuration={"nodeRegistration": {"kubeletExtraArgs": join_args}},
            kubelet_config={"clientCAFile": "/etc/kubernetes/pki/ca.crt"},
        )
    cp_args = {"node-labels": "kube-ovn/role=master"}
    cluster_cfg: dict[str, Any] = {}
    if p.imageRepository:
        cluster_cfg["imageRepository"] = p.imageRepository
    if p.dnsImageTag:
        cluster_cfg["dns"] = {"imageTag": p.dnsImageTag}
    if p.etcdImageTag:
        cluster_cfg["etcd"] = {"local": {"imageTag": p.etcdImageTag}}
    return KubeadmContribution(
        users=users,
        pre_kubeadm_commands=PRE_KUBEADM,
        cluster_configuration=cluster_cfg,
        init_configuration={"nodeRegistration": {"kubeletExtraArgs": {**cp_args, **KUBELET_ARGS}}},
        join_configuration={"nodeRegistration": {"kubeletExtraArgs": {**cp_args, **join_args}}},
        kubelet_config={"clientCAFile": "/etc/kubernetes/pki/ca.crt"},
    )



def manifest_objects(spec: InstallSpec) -> tuple[list[dict[str, Any]], list[WorkerGroup]]:
    """Provider objects in the documented order, and the worker groups the core wires."""
    p = platform_of(spec, DcsPlatform)
    objects = [credential_secret(spec), ip_hostname_pool(spec, CP_POOL, p.controlPlane),
               machine_template(spec, CP_TEMPLATE, CP_POOL, p.controlPlane)]
    groups = []
    for w in p.workers:
        pool, template = f"{w.name}-pool", f"{w.name}-template"
        objects += [ip_hostname_pool(spec, pool, w), machine_template(spec, template, pool, w)]
        groups.append(worker_group(w, ObjectRef(INFRA, "DCSMachineTemplate", template),
                                   kubeadm(p, worker=True)))
    objects.insert(3, dcs_cluster(spec))
    return objects, groups


def import_entries(spec: InstallSpec, objects: Sequence[Mapping[str, Any]]) -> list[ImportEntry]:
    """The credential Secret the DCSCluster actually references (current docs)."""
    if not platform_of(spec, DcsPlatform).importExtraResources:
        return []
    names = sorted({
        o["spec"]["credentialSecretRef"]["name"] for o in objects
        if o.get("kind") == "DCSCluster" and o.get("spec", {}).get("credentialSecretRef")
    })
    return [ImportEntry("secrets", names=tuple(names), method="kubectl")] if names else []


def encryption_secret(spec: InstallSpec) -> dict[str, Any]:
    """The Secret the DR DCSCluster's ``encryptionProviderConfigRef`` names."""
    return secret_object(spec, ENCRYPTION_SECRET, {"encryption-provider.conf": encryption_config(spec)})
