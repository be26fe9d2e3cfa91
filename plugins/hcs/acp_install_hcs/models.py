"""The ``platform:`` section of an HCS install spec.

Field names follow the HCS CRDs (``HCSCluster``, ``HCSMachineTemplate``, ``HCSMachineConfigPool``)
so the provider documentation applies as is; sizes are in GB, as in the CRDs. A few fields exist
only so that validation can say precisely why they must not be set (``controlPlaneEndpoint``).
"""

from __future__ import annotations

from typing import Any

import attrs

from acp_install.provider import SecretRef, SpecAlias, doc, matrix_field

#: The seed and older HCS docs call the credential Secret's name HCS_SECRET_NAME
#: (``hcsSecretName``); both are still accepted, with a warning, for HCS specs only.
SECRET_NAME_ALIASES = (
    SpecAlias(old="hcsSecretName", new="providerSecretName", env="HCS_SECRET_NAME"),
)


@attrs.frozen
class Credentials:
    """The HCS account stored in the credential Secret (``providerSecretName``)."""

    accessKey: str = attrs.field(metadata=doc("Access key ID (HCS My Settings > Access Keys)."))
    secretKey: SecretRef = attrs.field(
        metadata=doc("Secret access key reference: {file: ...} or {env: ...}; never a literal.")
    )
    projectID: str = attrs.field(metadata=doc("Resource Space ID (the ID, not the name)."))
    region: str = attrs.field(metadata=doc("Region value recognised by the provider (ask the HCS admin)."))
    externalGlobalDomain: str = attrs.field(metadata=doc("HCS platform domain, e.g. hcs.example.com."))
    schema: str | None = attrs.field(
        default=None, metadata=doc("IAM endpoint scheme; unset means https.")
    )


@attrs.frozen
class Named:
    """A named HCS resource (``vpc``, ``securityGroup``): the name must exist in HCS."""

    name: str = attrs.field(metadata=doc("Existing resource name."))
    id: str | None = attrs.field(default=None, metadata=doc("Resource ID, when known."))


@attrs.frozen
class Vpc(Named):
    """``HCSCluster.spec.network.vpc``."""

    cidr: str | None = attrs.field(default=None, metadata=doc("VPC CIDR, informational."))


@attrs.frozen
class Subnet:
    """An entry of ``HCSCluster.spec.network.subnets`` (the subnet inventory)."""

    name: str = attrs.field(metadata=doc("Subnet name; every subnet used elsewhere is listed here."))
    id: str | None = None
    neutronSubnetId: str | None = None
    cidr: str | None = attrs.field(default=None, metadata=doc("When set, IPs in it are checked."))
    gatewayIp: str | None = None
    primaryDNS: str | None = None
    secondaryDNS: str | None = None
    dhcp: bool | None = None


@attrs.frozen
class Network:
    """``HCSCluster.spec.network``: existing VPC, subnets and security group."""

    vpc: Vpc = attrs.field(metadata=doc("Existing VPC."))
    subnets: list[Subnet] = attrs.field(metadata=doc("Every subnet the cluster uses."))
    securityGroup: Named = attrs.field(metadata=doc("Existing security group."))


@attrs.frozen
class ElbIps:
    """One ``elbVirsubnetL4Ips`` / ``elbVirsubnetL7Ips`` group (Hybrid Load Balancing)."""

    subnetName: str = attrs.field(metadata=doc("Subnet of the ELB virtual IPs."))
    ips: list[str] = attrs.field(metadata=doc("Exactly two IPs."))


@attrs.frozen
class LoadBalancer:
    """``HCSCluster.spec.controlPlaneLoadBalancer``; the VIP address is the spec's controlPlaneVIP."""

    vipSubnetName: str = attrs.field(metadata=doc("Subnet holding controlPlaneVIP."))
    elbVirsubnetL4Ips: list[ElbIps] = attrs.field(metadata=doc("L4 ELB IPs, two per group."))
    elbVirsubnetL7Ips: list[ElbIps] = attrs.field(metadata=doc("L7 ELB IPs, two per group."))
    vipDomainName: str | None = attrs.field(
        default=None, metadata=doc("Optional domain; the HCS Private Zone must resolve it to the VIP.")
    )


@attrs.frozen
class ControlPlaneHA:
    """``HCSCluster.spec.controlPlaneHA`` (server-group placement of control plane ECSs)."""

    enabled: bool | None = attrs.field(default=None, metadata=doc("Required when the block is set."))
    policy: str | None = attrs.field(
        default=None, metadata=doc("anti-affinity or soft-anti-affinity; required with the block.")
    )


@attrs.frozen
class Volume:
    """An EVS volume of an ``HCSMachineTemplate`` (root or temporary data volume); size in GB."""

    size: int = attrs.field(metadata=doc("Size in GB (new EVS: 10-32768)."))
    type: str = attrs.field(metadata=doc("EVS type available in the AZ, e.g. SSD or SATA."))
    mountPath: str | None = attrs.field(default=None, metadata=doc("Mount path (data volumes)."))
    format: str | None = attrs.field(default=None, metadata=doc("Filesystem, e.g. xfs."))


@attrs.frozen
class NetworkAttachment:
    """A NIC of a pool config: an IP in a subnet (exactly one of subnetName / subnetId)."""

    ipAddress: str = attrs.field(metadata=doc("Static IP of the NIC."))
    subnetName: str | None = attrs.field(default=None, metadata=doc("Subnet name (preferred)."))
    subnetId: str | None = attrs.field(default=None, metadata=doc("Subnet ID."))


@attrs.frozen
class PersistentDisk:
    """A pool-managed EVS disk that survives machine replacement (``persistentDisks[]``)."""

    slot: int = attrs.field(metadata=doc("Slot number, contiguous from 0 per hostname."))
    size: int = attrs.field(metadata=doc("Size in GB (new EVS: 10-32768); immutable."))
    type: str = attrs.field(metadata=doc("EVS type in the AZ; immutable."))
    mountPath: str | None = attrs.field(default=None, metadata=doc("Empty = raw block device."))
    format: str | None = attrs.field(default=None, metadata=doc("Filesystem; provider default xfs."))
    mountOptions: list[str] | None = attrs.field(
        default=None, metadata=doc("Provider default defaults,noatime; editable.")
    )


@attrs.frozen
class PoolConfig:
    """One hostname/IP slot of an ``HCSMachineConfigPool`` (``spec.configs[]``)."""

    hostname: str = attrs.field(metadata=doc("Lowercase hostname or FQDN (no consecutive dots)."))
    networks: list[NetworkAttachment] = attrs.field(metadata=doc("NICs; at least one."))
    persistentDisks: list[PersistentDisk] | None = attrs.field(
        default=None, metadata=doc("Pool-managed disks, e.g. /var/cpaas.")
    )


@attrs.frozen
class Machines:
    """A machine template and its config pool."""

    imageName: str = attrs.field(metadata=doc("HCS image name of the Alauda OS image."))
    flavorName: str = attrs.field(metadata=doc("Flavor.Name recognised by the provider."))
    rootVolume: Volume = attrs.field(metadata=doc("Root EVS volume {type, size}."))
    pool: list[PoolConfig] = attrs.field(metadata=doc("One config per machine (>= replicas)."))
    availabilityZone: str | None = attrs.field(
        default=None, metadata=doc("ZoneName; unset = first available AZ; one AZ per template.")
    )
    dataVolumes: list[Volume] = attrs.field(
        factory=list, metadata=doc("Temporary volumes recreated with the ECS.")
    )
    keyPairName: str | None = attrs.field(default=None, metadata=doc("ECS key pair name."))


@attrs.frozen
class WorkerMachines(Machines):
    """A worker group: its MachineDeployment is ``name``; pool and template derive from it."""

    name: str = attrs.field(default="global-worker", metadata=doc("MachineDeployment name."))
    replicas: int = attrs.field(default=1, metadata=doc("Worker count (<= pool size)."))


@attrs.frozen
class HcsPlatform:
    """Everything HCS-specific."""

    credentials: Credentials = attrs.field(metadata=doc("HCS credentials (credential Secret)."))
    network: Network = attrs.field(metadata=doc("VPC, subnets and security group."))
    loadBalancer: LoadBalancer = attrs.field(metadata=doc("Control plane ELB."))
    controlPlane: Machines = attrs.field(metadata=doc("Control plane machines."))
    workers: list[WorkerMachines] = attrs.field(factory=list, metadata=doc("Worker groups."))
    controlPlaneHA: ControlPlaneHA | None = attrs.field(
        default=None, metadata=doc("Control plane anti-affinity (provider >= v1.0.2).")
    )
    imageRepository: str | None = attrs.field(
        default=None,
        metadata=doc("kubeadm clusterConfiguration.imageRepository; the HCS page leaves it to "
                     "'the approved release baseline', so it has no default and unset is a "
                     "warning (kubeadm would pull from registry.k8s.io)."),
    )
    dnsImageTag: str | None = matrix_field("coredns")
    etcdImageTag: str | None = matrix_field("etcd")
    kubeOvnVersion: str | None = matrix_field("kubeOvnChart", " (create-cluster page)")
    sentryDeployType: str | None = attrs.field(
        default="Baremetal",
        metadata=doc("cpaas.io/sentry-deploy-type Cluster annotation (the page: 'set to "
                     "Baremetal'); null omits it."),
    )
    albAddressType: str | None = attrs.field(
        default="ClusterAddress",
        metadata=doc("cpaas.io/alb-address-type Cluster annotation (the page: 'set to "
                     "ClusterAddress'); null omits it."),
    )
    clusterAnnotations: dict[str, str] = attrs.field(
        factory=dict,
        metadata=doc("Further Cluster annotations; they override the rendered ones of the same key."),
    )
    controlPlaneEndpoint: Any = attrs.field(
        default=None,
        metadata=doc("Never set: the HCS controller fills it once the ELB is ready."),
    )
