"""HCS stall signals (§4.9) as pure functions over a snapshot of objects.

A snapshot maps a kind (``HCSCluster``, ``HCSMachine``...) to the objects of that kind, as
``acp_diagnose`` receives it; nothing here talks to a cluster.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from acp_install.provider import Diagnosis


def stalls(snapshot: Mapping[str, Any]) -> Iterator[Diagnosis]:
    """HCS stall signals (§4.9): control plane HA server group, ECS creation, hostnames."""
    for c in snapshot.get("HCSCluster", []):
        for cond in (c.get("status") or {}).get("conditions") or []:
            if cond.get("type") == "ControlPlaneHAReady" and cond.get("status") == "False":
                yield Diagnosis(
                    f"control plane HA not ready ({cond.get('reason', '')})",
                    str(cond.get("message", "")),
                    hint="check the server group quota and controlPlaneHA.policy "
                         "(soft-anti-affinity tolerates fewer hosts)",
                    object=f"HCSCluster/{c.get('metadata', {}).get('name', '')}")
    for m in snapshot.get("HCSMachine", []):
        for cond in (m.get("status") or {}).get("conditions") or []:
            if cond.get("type") == "MachineReady" and cond.get("status") == "False":
                yield Diagnosis(
                    f"ECS not ready ({cond.get('reason', '')})", str(cond.get("message", "")),
                    hint="check the flavor, image, AZ and EVS type names and the project quota",
                    object=f"HCSMachine/{m.get('metadata', {}).get('name', '')}")

