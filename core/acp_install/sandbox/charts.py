"""What each provider chart installs: the one table that names providers in the sandbox.

The sandbox emulates what the kubeadm and infrastructure provider charts do when their
AppRelease is applied (seed Step 3: their CRDs appear). The rule "the core names no provider"
does not apply to the sandbox, but the names live here only, as data.

Each chart maps to a directory under the CRD directory (``../shared/crds`` layout) and, for
runs without a CRD directory, to the kinds registered schemaless instead.
"""

from __future__ import annotations

import attrs

__all__ = [
    "CHARTS",
    "HOST_REGISTRATION",
    "ChartCRDs",
    "Host",
    "HostRegistration",
    "SchemalessKind",
    "chart_for",
]

CAPI = "cluster.x-k8s.io"
INFRA = "infrastructure.cluster.x-k8s.io"


@attrs.frozen
class SchemalessKind:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool = True


@attrs.frozen
class ChartCRDs:
    """The CRDs one chart installs."""

    release: str  # AppRelease / chart release name, e.g. cluster-api-provider-dcs
    crd_dir: str  # relative to the CRD directory
    kinds: tuple[SchemalessKind, ...]


def _k(group: str, kind: str, plural: str | None = None, version: str = "v1beta1") -> SchemalessKind:
    return SchemalessKind(group, version, kind, plural or kind.lower() + "s")


CHARTS: tuple[ChartCRDs, ...] = (
    ChartCRDs(
        "cluster-api-provider-kubeadm",
        "cluster_api",
        (
            _k(CAPI, "Cluster"),
            _k(CAPI, "ClusterClass", "clusterclasses"),
            _k(CAPI, "Machine"),
            _k(CAPI, "MachineSet"),
            _k(CAPI, "MachineDeployment"),
            _k(CAPI, "MachinePool"),
            _k(CAPI, "MachineHealthCheck"),
            _k(CAPI, "MachineDrainRule"),
            _k("bootstrap." + CAPI, "KubeadmConfig"),
            _k("bootstrap." + CAPI, "KubeadmConfigTemplate"),
            _k("controlplane." + CAPI, "KubeadmControlPlane"),
            _k("controlplane." + CAPI, "KubeadmControlPlaneTemplate"),
            _k("addons." + CAPI, "ClusterResourceSet"),
            _k("addons." + CAPI, "ClusterResourceSetBinding"),
        ),
    ),
    ChartCRDs(
        "cluster-api-provider-dcs",
        "providers/huawei-dcs",
        (
            _k(INFRA, "DCSCluster"),
            _k(INFRA, "DCSMachine"),
            _k(INFRA, "DCSMachineTemplate"),
            _k(INFRA, "DCSIpHostnamePool"),
        ),
    ),
    ChartCRDs(
        "cluster-api-provider-vsphere",
        "providers/vmware-vsphere",
        (
            _k(INFRA, "VSphereCluster"),
            _k(INFRA, "VSphereMachine"),
            _k(INFRA, "VSphereMachineTemplate"),
            _k(INFRA, "VSphereMachineConfigPool"),
            _k(INFRA, "VSphereVM"),
            _k(INFRA, "VSphereClusterTemplate"),
            _k(INFRA, "VSphereDeploymentZone"),
            _k(INFRA, "VSphereFailureDomain"),
            SchemalessKind(INFRA, "v1beta1", "VSphereClusterIdentity", "vsphereclusteridentities", False),
        ),
    ),
    ChartCRDs(
        "cluster-api-provider-hcs",
        "providers/huawei-cloud-stack",
        (
            _k(INFRA, "HCSCluster"),
            _k(INFRA, "HCSMachine"),
            _k(INFRA, "HCSMachineTemplate"),
            _k(INFRA, "HCSMachineConfigPool"),
        ),
    ),
    ChartCRDs(
        "cluster-api-provider-baremetal",
        "providers/bare-metal",
        (
            _k(INFRA, "BaremetalCluster"),
            _k(INFRA, "BaremetalMachine"),
            _k(INFRA, "BaremetalMachineTemplate"),
            _k(INFRA, "MachineInventoryPool"),
            _k("elemental.cattle.io", "MachineInventory", "machineinventories"),
            _k("elemental.cattle.io", "MachineRegistration"),
            _k("elemental.cattle.io", "SeedImage"),
        ),
    ),
)

# Kinds whose presence tells the CAPI simulator to wait for registered hosts first.
INVENTORY_KIND = ("elemental.cattle.io", "MachineInventory")


@attrs.frozen
class Host:
    """A physical host of the sandbox's datacenter: SMBIOS identity and its one NIC."""

    uuid: str
    serial: str
    address: str  # CIDR, as the host's agent reports it
    mac: str
    gateway: str = "192.168.10.1"
    interface: str = "eth0"
    manufacturer: str = "Dell Inc."
    product: str = "PowerEdge R650"


@attrs.frozen
class HostRegistration:
    """The kinds and conventions of host registration (seed ISO -> registered inventory -> pool).

    :mod:`.controllers.hosts` is generic over this record: which kinds play registration, seed
    image, inventory and pool, which annotation a pool writes on its members, the plan Secret
    type, the ``machineName`` template variables and the hosts that boot.
    """

    api_version: str
    registration_kind: str
    seed_image_kind: str
    inventory_kind: str
    pool_api_version: str
    pool_kind: str
    pool_annotation: str  # written by the pool controller on each member: <pool name>
    plan_secret_type: str
    template_vars: tuple[tuple[str, str], ...]  # ${...} variable -> Host attribute
    server_url_value: tuple[str, ...]  # where the chart's AppRelease values hold the server URL
    hosts: tuple[Host, ...]
    default_machine_name: str = "m-${System Information/UUID}"
    inventory_labels_field: str = "machineInventoryLabels"  # registration spec fields copied
    inventory_annotations_field: str = "machineInventoryAnnotations"  # onto each inventory
    download_path: str = "seedimage"  # URL segment of the built seed image


def _host(n: int) -> Host:
    return Host(
        uuid=f"4c4c4544-0031-3910-8052-b4c04f4e32{0x30 + n:02x}",
        serial=f"SBX{n:04d}",
        address=f"192.168.10.{10 + n}/24",
        mac=f"52:54:00:10:0a:{10 + n:02x}",
    )


#: Bare Metal: elemental-operator registration, cluster-api-provider-baremetal pools. The six
#: hosts of the sandbox datacenter; the first three are the ones the provider's example spec
#: names (``global-<SMBIOS UUID>`` at 192.168.10.11-13), the others are spares for worker pools.
HOST_REGISTRATION = HostRegistration(
    api_version="elemental.cattle.io/v1beta1",
    registration_kind="MachineRegistration",
    seed_image_kind="SeedImage",
    inventory_kind="MachineInventory",
    pool_api_version=INFRA + "/v1beta1",
    pool_kind="MachineInventoryPool",
    pool_annotation="baremetal.alauda.io/pool",
    plan_secret_type="elemental.cattle.io/plan",
    template_vars=(
        ("${System Information/UUID}", "uuid"),
        ("${System Information/Serial Number}", "serial"),
        ("${System Information/Manufacturer}", "manufacturer"),
        ("${System Information/Product Name}", "product"),
    ),
    server_url_value=("elemental", "server", "url"),
    hosts=tuple(_host(n) for n in range(1, 7)),
)


def chart_for(release: str) -> ChartCRDs | None:
    """The chart an AppRelease installs, by release name (``spec.source.charts[].releaseName``
    or the AppRelease name); chart names like ``ait/chart-cluster-api-provider-dcs`` also match."""
    name = release.rsplit("/", 1)[-1].removeprefix("chart-")
    return next((c for c in CHARTS if c.release == name), None)


# Infrastructure cluster kinds whose machines need registered hosts (elemental
# MachineInventory objects) before they can provision.
INVENTORY_GATED_INFRA = frozenset({"BaremetalCluster"})
