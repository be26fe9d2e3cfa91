"""Names and values derived from the spec, shared by rendering and the checks."""

from __future__ import annotations

from acp_install.provider import InstallSpec, SecretRef, platform_of

from .keys import GeneratedKey
from .models import DEFAULT_GENERATED_KEY_FILE, Machines, VspherePlatform, WorkerMachines

CP_POOL = "global-cp-pool"
CP_TEMPLATE = "global-cp-machine-template"


def pool_name(m: Machines) -> str:
    if m.poolName:
        return m.poolName
    return f"{m.name}-pool" if isinstance(m, WorkerMachines) else CP_POOL


def template_name(m: Machines) -> str:
    if m.templateName:
        return m.templateName
    return f"{m.name}-machine-template" if isinstance(m, WorkerMachines) else CP_TEMPLATE


def default_folder(spec: InstallSpec, m: Machines) -> str:
    """``/<dc>/vm/global``, or ``.../global/<role>`` on a DR side."""
    dc = platform_of(spec, VspherePlatform).vcenter.datacenter
    folder = f"/{dc}/vm/global"
    return f"{folder}/{spec.dr.role}" if spec.dr is not None else folder


def template_networks(m: Machines) -> list[str]:
    """Port groups of the template NICs: explicit, or the first slot's NICs in order."""
    if m.networks is not None:
        return list(m.networks)
    if not m.configs:
        return []
    net = m.configs[0].network
    return [net.primary.networkName, *(n.networkName for n in net.additional or [])]


def encryption_key(spec: InstallSpec) -> SecretRef:
    """DR: the shared ``dr.encryptionKey``; else the given key; else one generated once."""
    p = platform_of(spec, VspherePlatform)
    if spec.dr is not None:
        return spec.dr.encryptionKey
    if p.encryptionKey is not None:
        return p.encryptionKey
    return GeneratedKey(file=generated_key_file(spec))


def generated_key_file(spec: InstallSpec) -> str:
    """The generated key's location as written in the spec (``~`` unexpanded, so plain renders
    stay identical across machines); :class:`GeneratedKey` expands it when used."""
    p = platform_of(spec, VspherePlatform)
    if p.generatedKeyFile is not None:
        return p.generatedKeyFile
    return DEFAULT_GENERATED_KEY_FILE.format(vip=spec.controlPlaneVIP)


def nameservers(spec: InstallSpec) -> list[str]:
    p = platform_of(spec, VspherePlatform)
    if p.nameservers is not None:
        return list(p.nameservers)
    seen: dict[str, None] = {}
    for slot in p.controlPlane.configs:
        for ns in slot.network.primary.dns or []:
            seen.setdefault(ns)
    return list(seen)
