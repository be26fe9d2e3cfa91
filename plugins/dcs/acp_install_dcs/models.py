"""The ``platform:`` section of a DCS install spec.

Field names follow the DCS CRDs (``DCSIpHostnamePool``, ``DCSMachineTemplate``, ``DCSCluster``)
so the provider documentation applies as is; sizes use the CRD's units (memory in MB, disks
in GB).
"""

from __future__ import annotations

from typing import Literal

import attrs

from acp_install.provider import SecretRef, doc, matrix_field


@attrs.frozen
class Credentials:
    """The DCS API account stored in the credential Secret (``PROVIDER_SECRET_NAME``)."""

    authUser: str = attrs.field(metadata=doc("DCS API user (role administrator)."))
    authKey: SecretRef = attrs.field(metadata=doc("Password reference: {file: ...} or {env: ...}."))
    endpoint: str = attrs.field(metadata=doc("DCS REST endpoint, e.g. https://dcs.example:7443."))
    site: str | None = attrs.field(default=None, metadata=doc("DCS site ID (also DCSCluster.spec.site)."))
    userType: str | None = attrs.field(
        default=None, metadata=doc("interconnect (default) or domain.")
    )
    secretType: Literal["Opaque", "CloudCredential"] = attrs.field(
        default="Opaque",
        metadata=doc("Secret type; the YAML examples use Opaque, one table says CloudCredential."),
    )


@attrs.frozen
class PersistentDisk:
    """A pool-managed disk that survives machine replacement (``pool[].persistentDisk[]``)."""

    slot: int
    quantityGB: int
    datastoreName: str | None = None
    datastoreClusterName: str | None = None
    path: str | None = None
    format: str | None = None
    options: list[str] | None = None
    mountOptions: list[str] | None = None
    isThin: bool | None = None
    pciType: str | None = None


@attrs.frozen
class Nic:
    """An additional NIC of a pool slot (applied only at VM creation)."""

    ip: str
    mask: str
    gateway: str | None = None
    dns: str | None = None
    dvSwitchName: str | None = None
    portGroupName: str | None = None
    portGroupUrn: str | None = None
    ipv6: str | None = None


@attrs.frozen
class PoolSlot:
    """One static IP/hostname slot of a ``DCSIpHostnamePool``."""

    ip: str
    mask: str = attrs.field(metadata=doc("Prefix length as a string, e.g. \"24\"."))
    gateway: str
    hostname: str
    dns: str | None = attrs.field(default=None, metadata=doc("DNS servers separated by ';'."))
    machineName: str | None = None
    dvSwitchName: str | None = None
    portGroupName: str | None = None
    portGroupUrn: str | None = None
    ipv6: str | None = None
    additionNic: list[Nic] | None = None
    persistentDisk: list[PersistentDisk] | None = None


@attrs.frozen
class Disk:
    """A template disk (``vmConfig.dcsMachineDiskSpec[]``); sizes in GB, 0 = template size."""

    quantity: int
    systemVolume: bool | None = None
    path: str | None = None
    datastoreName: str | None = None
    datastoreClusterName: str | None = None
    datastoreUrn: str | None = None
    format: str | None = None
    options: list[str] | None = None
    mountOptions: list[str] | None = None
    wipeFilesystem: bool | None = None


@attrs.frozen
class Placement:
    """``location`` / ``resource`` of a DCSMachineTemplate."""

    type: str
    name: str | None = None
    urn: str | None = None


@attrs.frozen
class Machines:
    """A machine template and its IP/hostname pool."""

    vmTemplateName: str = attrs.field(metadata=doc("DCS VM template (MicroOS image)."))
    cpu: int = attrs.field(metadata=doc("vCPU count."))
    memoryMB: int = attrs.field(metadata=doc("Memory in MB."))
    disks: list[Disk] = attrs.field(metadata=doc("Template disks; exactly one systemVolume."))
    pool: list[PoolSlot] = attrs.field(metadata=doc("Static IP/hostname slots."))
    location: Placement | None = None
    resource: Placement | None = None
    dvSwitchName: str | None = None
    portGroupName: str | None = None
    portGroupUrn: str | None = None
    cdRomDatastoreName: str | None = None
    cdRomDatastoreClusterName: str | None = None


@attrs.frozen
class WorkerMachines(Machines):
    """A worker group: its MachineDeployment is ``name``; pool and template derive from it."""

    name: str = attrs.field(default="global-worker", metadata=doc("MachineDeployment name."))
    replicas: int = attrs.field(default=1, metadata=doc("Worker count (<= pool size)."))


@attrs.frozen
class LoadBalancer:
    """``DCSCluster.spec.controlPlaneLoadBalancer`` (host is the spec's controlPlaneVIP)."""

    type: str = attrs.field(default="external", metadata=doc("external (v1.0.21)."))
    port: int = 6443


@attrs.frozen
class DcsPlatform:
    """Everything DCS-specific."""

    credentials: Credentials = attrs.field(metadata=doc("DCS API credentials."))
    sshAuthorizedKeys: list[str] = attrs.field(
        metadata=doc("Public keys for user 'boot'; ignition rejects an empty list.")
    )
    controlPlane: Machines = attrs.field(metadata=doc("Control plane machines."))
    workers: list[WorkerMachines] = attrs.field(factory=list, metadata=doc("Worker groups."))
    loadBalancer: LoadBalancer = attrs.field(factory=LoadBalancer)
    controlPlaneHA: bool | None = attrs.field(
        default=None, metadata=doc("DRS anti-affinity for control plane VMs.")
    )
    imageRepository: str | None = attrs.field(
        default="cloud.alauda.io/alauda",
        metadata=doc("kubeadm imageRepository (the DCS global KCP's documented value)."),
    )
    dnsImageTag: str | None = matrix_field("coredns", " (or corednsTag of the cpaas.io/dcs-vm-template ConfigMap)")
    etcdImageTag: str | None = matrix_field("etcd", " (or etcdTag of the cpaas.io/dcs-vm-template ConfigMap)")
    kubeOvnVersion: str | None = matrix_field("kubeOvnChart", unset="required by the DCS docs, unset is a warning")
    osFamily: str | None = attrs.field(
        default=None,
        metadata=doc("cpaas.io/os-family Cluster annotation (OS family of the image, e.g. "
                     "slemicro; shown in the worked example)."),
    )
    nodesMode: str | None = attrs.field(
        default="self-managed",
        metadata=doc("cpaas.io/nodes-mode Cluster annotation (documented literal self-managed); "
                     "null omits it."),
    )
    clusterAnnotations: dict[str, str] = attrs.field(
        factory=dict,
        metadata=doc("Further Cluster annotations; they override the rendered ones of the same key."),
    )
    importExtraResources: bool = attrs.field(
        default=True,
        metadata=doc("Render dcs-import-extra-resources with the credential Secret (current docs); "
                     "false reproduces the older procedure's 'no ConfigMap' path."),
    )
