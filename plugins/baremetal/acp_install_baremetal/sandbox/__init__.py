"""What Bare Metal teaches the sandbox: its chart, host registration, and the inventory gate.

Loaded only by ``acp-install-sandbox`` (entry-point group ``acp_install_sandbox.providers``);
the provider itself never imports it.

Host registration is simulated here (see :mod:`.hosts`): the sandbox's Cluster API simulator
holds the Machines of a ``BaremetalCluster`` until enough hosts have registered, through the
provisioning gate below. Scenario ``hosts-missing`` lets only two hosts boot. Scenario options
read by the controller (sandbox seconds): ``seed_image`` (seed image applied -> ISO built,
default 2), ``host_boot`` (between hosts booting; also register -> installed, default 2),
``hosts_booting`` (how many hosts boot; default all).
"""

from __future__ import annotations

from pathlib import Path

from acp_install_sandbox.provider import Api, Chart, SandboxProvider, Scenario

from .datacenter import HOST_REGISTRATION, HostRegistration
from .hosts import HostRegistrationController

__all__ = ["HOST_REGISTRATION", "HostRegistration", "HostRegistrationController", "declaration", "inventory_gate"]

CRDS = Path(__file__).resolve().parent.parent / "crds"


def inventory_gate(api: Api, namespace: str, wanted: int) -> str | None:
    """Machines wait until ``wanted`` hosts have registered an inventory in the namespace."""
    group = HOST_REGISTRATION.api_version.split("/")[0]
    have = 0
    for rt in api.kinds.all():
        if rt.group == group and rt.kind == HOST_REGISTRATION.inventory_kind:
            items, _ = api.store.list(rt, namespace)
            have = len(items)
    if have >= wanted:
        return None
    kind = HOST_REGISTRATION.inventory_kind
    return f"waiting for {kind}: {have} of {wanted} hosts registered in namespace {namespace}"


def declaration() -> SandboxProvider:
    return SandboxProvider(
        charts=(Chart("cluster-api-provider-baremetal", CRDS, versions=("v1.0.21",)),),
        controllers=(HostRegistrationController,),
        provisioning_gates={"BaremetalCluster": inventory_gate},
        scenarios=(
            Scenario(
                "hosts-missing",
                "only 2 hosts boot the seed image and register; a 3-host pool waits for the third",
                options={"hosts_booting": 2},
            ),
        ),
    )
