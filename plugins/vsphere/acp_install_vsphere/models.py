"""The ``platform:`` section of a VMware vSphere install spec.

Field names follow the CAPV fork's CRDs (``VSphereMachineConfigPool``, ``VSphereMachineTemplate``,
``VSphereCluster``) so the provider documentation applies as is; sizes use the CRD's units
(memory in MiB, disks in GiB).
"""

from __future__ import annotations

import attrs

from acp_install.provider import SecretRef, doc, matrix_field

#: Where a fresh encryption key is generated when neither ``encryptionKey`` nor
#: ``generatedKeyFile`` is given: in the home directory of the user running acp-install, one
#: file per control plane VIP, so every render and apply of the same cluster finds the same key
#: whatever the current directory (``{vip}`` is replaced by ``controlPlaneVIP``).
DEFAULT_GENERATED_KEY_FILE = "~/.acp-install/{vip}/global-encryption-key"


@attrs.frozen
class VCenter:
    """The vCenter the global cluster runs on; its account goes into ``global-vsphere-credentials``."""

    server: str = attrs.field(metadata=doc("vCenter IP or FQDN (port 443 assumed; no scheme)."))
    thumbprint: str = attrs.field(
        metadata=doc("SHA-1 fingerprint of the vCenter certificate, colon separated "
                     "(openssl x509 -noout -fingerprint -sha1).")
    )
    username: str = attrs.field(metadata=doc("vCenter user, e.g. administrator@vsphere.local."))
    password: SecretRef = attrs.field(metadata=doc("Password reference: {file: ...} or {env: ...}."))
    datacenter: str = attrs.field(
        metadata=doc("Default datacenter (pool datacenter, CPI datacenters, default folder).")
    )


@attrs.frozen
class Nic:
    """A NIC of a pool slot (``configs[].network.primary`` / ``additional[]``)."""

    networkName: str = attrs.field(metadata=doc("vSphere port group; required by the pool webhook."))
    ip: str | None = attrs.field(default=None, metadata=doc("Static address in CIDR form, e.g. 10.0.0.11/24."))
    gateway: str | None = attrs.field(default=None, metadata=doc("Gateway (plain IP)."))
    dns: list[str] | None = attrs.field(default=None, metadata=doc("DNS servers."))
    deviceName: str | None = attrs.field(default=None, metadata=doc("Guest device name, e.g. eth0."))
    ipv6: str | None = None
    ipv6Gateway: str | None = None


@attrs.frozen
class SlotNetwork:
    """``configs[].network``: the primary NIC (its IP feeds kubelet node-ip) and extra NICs in order."""

    primary: Nic
    additional: list[Nic] | None = None


@attrs.frozen
class PersistentDisk:
    """A pool-managed disk that survives machine replacement (``configs[].persistentDisks[]``)."""

    name: str = attrs.field(metadata=doc("Unique in the slot, e.g. var-lib-etcd."))
    sizeGiB: int = attrs.field(metadata=doc("Size in GiB (>= 100 recommended)."))
    mountPath: str | None = attrs.field(
        default=None, metadata=doc("Mount path; unset = raw device /dev/disk/by-capv/<name>.")
    )
    fsFormat: str | None = attrs.field(default=None, metadata=doc("Filesystem (default ext4)."))
    wipeFilesystem: bool | None = attrs.field(
        default=None, metadata=doc("Wipe on reuse; must be true for /var/lib/etcd.")
    )
    datastore: str | None = None
    mountOptions: list[str] | None = None
    storagePolicy: str | None = None
    unitNumber: int | None = attrs.field(default=None, metadata=doc("SCSI unit 0-15 except 7."))


@attrs.frozen
class Slot:
    """One node slot of a ``VSphereMachineConfigPool`` (``configs[]``)."""

    hostname: str = attrs.field(metadata=doc("DNS-1123 node name (also the kubelet cert SAN)."))
    network: SlotNetwork = attrs.field(metadata=doc("Static network of the node."))
    persistentDisks: list[PersistentDisk] = attrs.field(
        factory=list, metadata=doc("Disks kept across machine replacement.")
    )
    datacenter: str | None = attrs.field(default=None, metadata=doc("Overrides vcenter.datacenter."))


@attrs.frozen
class Machines:
    """A ``VSphereMachineTemplate`` and its ``VSphereMachineConfigPool``."""

    template: str = attrs.field(metadata=doc("VM template (OVA image) name; must exist in each target DC."))
    numCPUs: int = attrs.field(metadata=doc("vCPU count."))
    memoryMiB: int = attrs.field(metadata=doc("Memory in MiB."))
    datastore: str = attrs.field(metadata=doc("System-disk datastore."))
    configs: list[Slot] = attrs.field(metadata=doc("One slot per node: hostname, IP, persistent disks."))
    diskGiB: int | None = attrs.field(
        default=None, metadata=doc("System disk only (>= template disk; fullClone only).")
    )
    folder: str | None = attrs.field(
        default=None,
        metadata=doc("VM folder /<dc>/vm/global (DR: .../global/primary|standby); derived when unset."),
    )
    cloneMode: str | None = attrs.field(default=None, metadata=doc("linkedClone (default) or fullClone."))
    powerOffMode: str | None = attrs.field(default=None, metadata=doc("hard (default), soft or trySoft."))
    networks: list[str] | None = attrs.field(
        default=None,
        metadata=doc("Template NIC port groups in slot NIC order; derived from the first slot when unset."),
    )
    resourcePool: str | None = None
    storagePolicyName: str | None = None
    releaseDelayHours: int | None = attrs.field(
        default=None, metadata=doc("Reclaim delay for released slots (default 24).")
    )
    poolName: str | None = attrs.field(default=None, metadata=doc("VSphereMachineConfigPool name."))
    templateName: str | None = attrs.field(default=None, metadata=doc("VSphereMachineTemplate name."))


@attrs.frozen
class WorkerMachines(Machines):
    """A worker group: its MachineDeployment is ``name``; pool and template names derive from it."""

    name: str = attrs.field(default="global-worker", metadata=doc("MachineDeployment name."))
    replicas: int = attrs.field(default=1, metadata=doc("Worker count (<= slots)."))
    failureDomain: str | None = attrs.field(
        default=None,
        metadata=doc("Pin the group to one deployment target: a failureDomains.domains[]."
                     "deploymentZone name (MachineDeployment spec.template.spec.failureDomain; "
                     "a VSphereDeploymentZone name, never a VSphereFailureDomain name)."),
    )


@attrs.frozen
class FailureDomain:
    """One ``VSphereFailureDomain`` and the ``VSphereDeploymentZone`` that references it.

    The create-cluster page's "Multiple datacenters and failure domains" (``18-failure-domains.
    yaml``): region tag on the datacenter, zone tag on the compute cluster, both auto-configured.
    """

    name: str = attrs.field(metadata=doc("VSphereFailureDomain name (global-...; cluster-scoped)."))
    deploymentZone: str = attrs.field(
        metadata=doc("VSphereDeploymentZone name (global-...; cluster-scoped); what workers' "
                     "failureDomain names.")
    )
    region: str = attrs.field(metadata=doc("Region tag value, e.g. region-a."))
    zone: str = attrs.field(metadata=doc("Zone tag value, e.g. zone-1."))
    computeCluster: str = attrs.field(metadata=doc("topology.computeCluster."))
    datastore: str = attrs.field(metadata=doc("topology.datastore (default datastore of the zone)."))
    datacenter: str | None = attrs.field(
        default=None, metadata=doc("topology.datacenter; default vcenter.datacenter.")
    )
    networks: list[str] | None = attrs.field(
        default=None,
        metadata=doc("topology.networks; default the control plane's template NIC networks."),
    )
    resourcePool: str | None = attrs.field(
        default=None, metadata=doc("placementConstraint.resourcePool of the deployment zone.")
    )
    folder: str | None = attrs.field(
        default=None, metadata=doc("placementConstraint.folder of the deployment zone.")
    )
    controlPlane: bool = attrs.field(
        default=True, metadata=doc("Whether control plane machines may be placed in this zone.")
    )
    regionType: str = attrs.field(default="Datacenter", metadata=doc("region.type."))
    zoneType: str = attrs.field(default="ComputeCluster", metadata=doc("zone.type."))
    autoConfigure: bool = attrs.field(
        default=True, metadata=doc("region/zone autoConfigure (CAPV creates the tags).")
    )


@attrs.frozen
class FailureDomains:
    """Failure domains: enabled together with ``VSphereCluster.spec.failureDomainSelector`` and
    the CPI ``[Labels]`` block (the page: "Adding either one alone leaves the cluster in an
    inconsistent state"), so one section renders all three."""

    domains: list[FailureDomain] = attrs.field(metadata=doc("One entry per datacenter/compute cluster."))
    regionTagCategory: str = attrs.field(
        default="k8s-region", metadata=doc("region.tagCategory, also the CPI [Labels] region key.")
    )
    zoneTagCategory: str = attrs.field(
        default="k8s-zone", metadata=doc("zone.tagCategory, also the CPI [Labels] zone key.")
    )
    controlPlaneSelector: dict[str, str] | None = attrs.field(
        default=None,
        metadata=doc("matchLabels of VSphereCluster.spec.failureDomainSelector; unset renders {} "
                     "(every deployment zone with controlPlane: true)."),
    )
    importAtStep7: bool = attrs.field(
        default=True,
        metadata=doc("Import the failure domains and deployment zones at Step 7 (kubectl, by "
                     "name) so the handed-off VSphereCluster still finds its zones; see "
                     "docs/decisions.md."),
    )


@attrs.frozen
class Cpi:
    """The vSphere cloud controller manager delivered by ClusterResourceSet."""

    imageTag: str = attrs.field(metadata=doc("Tag of ait/cloud-provider-vsphere in the provider package."))
    imageRegistry: str | None = attrs.field(
        default=None, metadata=doc("Registry of the CPI image; default nodeRegistryAddress.")
    )
    imagePullSecrets: list[str] = attrs.field(
        factory=list, metadata=doc("Pull secrets of the CPI DaemonSet in the new cluster's kube-system.")
    )


@attrs.frozen
class VspherePlatform:
    """Everything vSphere-specific."""

    vcenter: VCenter = attrs.field(metadata=doc("vCenter endpoint and account."))
    controlPlane: Machines = attrs.field(metadata=doc("Control plane machines."))
    cpi: Cpi = attrs.field(metadata=doc("vSphere CPI (cloud controller manager)."))
    failureDomains: FailureDomains | None = attrs.field(
        default=None,
        metadata=doc("Multiple datacenters / failure domains; unset is the single-datacenter "
                     "baseline (no failureDomainSelector, no CPI [Labels])."),
    )
    sshAuthorizedKeys: list[str] = attrs.field(
        factory=list, metadata=doc("Public keys for user 'boot'.")
    )
    workers: list[WorkerMachines] = attrs.field(factory=list, metadata=doc("Worker groups."))
    nameservers: list[str] | None = attrs.field(
        default=None,
        metadata=doc("/etc/resolv.conf nameservers; default: the slots' primary DNS."),
    )
    imageRepository: str | None = attrs.field(
        default=None,
        metadata=doc("kubeadm imageRepository (must match the images preloaded in the template); "
                     "default <nodeRegistryAddress>/tkestack."),
    )
    encryptionKey: SecretRef | None = attrs.field(
        default=None,
        metadata=doc("base64 aescbc key of /etc/kubernetes/encryption-provider.conf; unset = "
                     "generated once into generatedKeyFile. Ignored with dr: (dr.encryptionKey)."),
    )
    generatedKeyFile: str | None = attrs.field(
        default=None,
        metadata=doc("Where the key is generated (0600) on first use when encryptionKey is unset; "
                     "an absolute or ~ path (a relative one is rejected: it would depend on the "
                     "current directory). Default ~/.acp-install/<controlPlaneVIP>/"
                     "global-encryption-key. Back the file up: losing it breaks new control "
                     "planes."),
    )
    dnsImageTag: str | None = matrix_field("coredns", " (must match the image preloaded in the template)")
    etcdImageTag: str | None = matrix_field("etcd", " (must match the image preloaded in the template)")
    kubeOvnVersion: str | None = matrix_field("kubeOvnChart", where=" (create-cluster guide)")
    sentryDeployType: str | None = attrs.field(
        default="Baremetal",
        metadata=doc("cpaas.io/sentry-deploy-type Cluster annotation (the create-cluster guide's "
                     "literal Baremetal); null omits it."),
    )
    clusterAnnotations: dict[str, str] = attrs.field(
        factory=dict,
        metadata=doc("Further Cluster annotations; they override the rendered ones of the same key."),
    )
