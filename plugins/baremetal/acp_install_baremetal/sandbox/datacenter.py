"""The sandbox datacenter of Bare Metal: six hosts and the host-registration conventions.

Hosts are never created by this infrastructure provider: a person boots each one from a seed
ISO, it registers with elemental-operator as a MachineInventory, and cluster-api-provider-
baremetal's pools lend those inventories to Machines. :mod:`.hosts` is generic over the record
below (which kinds play registration, seed image, inventory and pool).
"""

from __future__ import annotations

import attrs

__all__ = ["HOST_REGISTRATION", "INFRA", "Host", "HostRegistration"]

INFRA = "infrastructure.cluster.x-k8s.io"


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
