"""DCS objects as data: the Step 4 objects, the DCS part of the kubeadm body, Step 7 entries.

Pure functions of the spec (and, for Step 7, of the objects actually rendered), so ``render``
output and the import list agree on names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from acp_install.provider import (
    ImportEntry,
    InstallSpec,
    KubeadmContribution,
    ObjectRef,
    WorkerGroup,
    crd_data,
    encryption_config,
    image_fields,
    kubeadm_base,
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
PACKAGE = "acp_install_dcs"


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


def kubeadm(spec: InstallSpec, *, worker: bool) -> KubeadmContribution:
    """The documented DCS body (``templates/kcp-base.yaml``) with the spec's values: the boot
    user, and on the control plane the image repository and the CoreDNS / etcd tags."""
    p = platform_of(spec, DcsPlatform)
    base = kubeadm_base(PACKAGE, spec, worker=worker)
    users = ({"name": "boot", "sshAuthorizedKeys": list(p.sshAuthorizedKeys)},)
    if worker:
        return attrs.evolve(base, users=users)
    images = image_fields(p.imageRepository, p.dnsImageTag, p.etcdImageTag)
    return attrs.evolve(base, users=users, cluster_configuration={**images, **base.cluster_configuration})


def cluster_annotations(spec: InstallSpec) -> dict[str, str]:
    """The annotations the DCS create-cluster page's table marks required (beyond the core's
    infrastructure binding, registry address and join CIDR), and the worked example's."""
    p = platform_of(spec, DcsPlatform)
    # "Same value as KubeadmControlPlane.spec.version" (the Cluster annotation table)
    annotations = {"capi.cpaas.io/kubernetes": spec.k8sVersion}
    if p.nodesMode:
        annotations["cpaas.io/nodes-mode"] = p.nodesMode
    if p.kubeOvnVersion:
        annotations["cpaas.io/kube-ovn-version"] = p.kubeOvnVersion
    if p.osFamily:
        annotations["cpaas.io/os-family"] = p.osFamily
    return {**annotations, **p.clusterAnnotations}


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
                                   kubeadm(spec, worker=True)))
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
