"""DCS rules, each with the spec field path and a fix, checked before anything is applied."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Sequence

from acp_install.provider import (
    COMPATIBILITY_TABLE,
    SSH_PUBLIC_KEY,
    VERSIONS_RULE,
    Finding,
    Findings,
    InstallSpec,
    acp_releases,
    annotation_findings,
    kcp_base_findings,
    netcheck,
    package_gate,
    platform_of,
    release,
    worker_findings,
)

from .models import DcsPlatform, Machines, PoolSlot
from .render import FORMAT

CP_DISKS = ("/var/lib/etcd", "/var/lib/kubelet", "/var/lib/containerd")
WORKER_DISKS = ("/var/lib/kubelet", "/var/lib/containerd")
findings = Findings(rule="dcs")


class _Taken:
    """Node IPs, hostnames and DCS VM names already used, across the control plane pool and
    every worker pool (each becomes a node or a VM of the same cluster)."""

    def __init__(self) -> None:
        self.ips: dict[str, str] = {}
        self.hostnames: dict[str, str] = {}
        self.machine_names: dict[str, str] = {}


def _unique(taken: dict[str, str], value: str, path: str, what: str, fix: str) -> Iterator[Finding]:
    if value in taken:
        yield findings.error(path, f"{what} {value!r} is already used by {taken[value]}", fix)
    else:
        taken[value] = path.rsplit(".", 1)[0]


def _check_gateway(slot: PoolSlot, sp: str) -> Iterator[Finding]:
    """§2.3: the gateway lies in the slot's subnet (ip/mask); skipped when ip or mask is bad."""
    if netcheck.ipv4_error(slot.ip) or netcheck.ip_error(slot.gateway) or \
            not re.fullmatch(r"\d{1,2}", slot.mask) or not 0 < int(slot.mask) <= 32:
        return
    net = ipaddress.ip_interface(f"{slot.ip}/{slot.mask}").network
    gateway = ipaddress.ip_address(slot.gateway)
    if gateway not in net:
        yield findings.error(f"{sp}.gateway", f"gateway {slot.gateway} is outside the slot's subnet {net} "
                             f"(ip {slot.ip}, mask {slot.mask})",
                             "give the gateway of the node's subnet, or correct mask (a prefix length)")
    elif str(gateway) == slot.ip:
        yield findings.error(f"{sp}.gateway", "the gateway is the node IP itself",
                             "give the subnet's router address as gateway")


def _prefix_ok(mask: str) -> bool:
    return bool(re.fullmatch(r"\d{1,2}", mask)) and 0 < int(mask) <= 32


def _check_nics(spec: InstallSpec, slot: PoolSlot, sp: str, taken: _Taken) -> Iterator[Finding]:
    """``additionNic[]`` as the infrastructure page describes it ("Additional NICs in the IP
    Pool"): dvSwitchName and portGroupName resolve the Port Group (required), ip and mask make the
    guest's static configuration (recommended), and nothing reserves the addresses."""
    for k, nic in enumerate(slot.additionNic or []):
        np = f"{sp}.additionNic[{k}]"
        for field in ("dvSwitchName", "portGroupName"):
            if not getattr(nic, field):
                yield findings.error(f"{np}.{field}", "missing: the provider resolves the additional "
                                     "NIC's Port Group from dvSwitchName and portGroupName",
                                     "give both (the DVS and Port Group must already exist)", "dcs-nic")
        if netcheck.ipv4_error(nic.ip):
            yield findings.error(f"{np}.ip", f"{nic.ip!r} is not an IPv4 address",
                                 "give the additional NIC's address (not the node IP)", "dcs-nic")
        else:
            if nic.ip == spec.controlPlaneVIP:
                yield findings.error(f"{np}.ip", "the control plane VIP is used as an additional NIC IP",
                                     "the VIP must be a free address", "dcs-nic")
            yield from _unique(taken.ips, nic.ip, f"{np}.ip", "IP",
                               "give every NIC its own IP (DCS reserves none of them)")
        if not _prefix_ok(nic.mask):
            yield findings.error(f"{np}.mask", f"{nic.mask!r} is not a prefix length",
                                 'write the prefix length as a string, e.g. mask: "24"', "dcs-nic")
        elif (netcheck.ipv4_error(nic.ip) is None and netcheck.ipv4_error(slot.ip) is None
              and _prefix_ok(slot.mask)
              and ipaddress.ip_interface(f"{nic.ip}/{nic.mask}").network
              == ipaddress.ip_interface(f"{slot.ip}/{slot.mask}").network):
            yield findings.warning(f"{np}.ip", f"{nic.ip}/{nic.mask} is on the node IP's own subnet",
                                   "an additional NIC belongs on a secondary network (storage, "
                                   "management, isolation)", "dcs-nic")
        if nic.gateway is not None:
            if netcheck.ip_error(nic.gateway):
                yield findings.error(f"{np}.gateway", f"{nic.gateway!r} is not an IP address",
                                     "give the additional network's gateway, or remove it", "dcs-nic")
            elif netcheck.ipv4_error(nic.ip) is None and _prefix_ok(nic.mask) and \
                    ipaddress.ip_address(nic.gateway) not in ipaddress.ip_interface(
                        f"{nic.ip}/{nic.mask}").network:
                yield findings.error(f"{np}.gateway", f"gateway {nic.gateway} is outside the NIC's "
                                     f"subnet {nic.ip}/{nic.mask}", "give the additional network's "
                                     "gateway, or remove it", "dcs-nic")
            else:
                yield findings.warning(f"{np}.gateway", "an additional NIC with a gateway can take over "
                                       "the default route from the primary NIC",
                                       "keep it only if the route behaviour was checked; remove it "
                                       "otherwise", "dcs-nic")
        for server in (nic.dns or "").split(";"):
            if server.strip() and netcheck.ip_error(server.strip()):
                yield findings.error(f"{np}.dns", f"{server.strip()!r} is not an IP address",
                                     "DNS server IPs separated by ';'", "dcs-nic")


def _check_machines(spec: InstallSpec, m: Machines, path: str, required: Sequence[str],
                    replicas: int, taken: _Taken) -> Iterator[Finding]:
    systems = [i for i, d in enumerate(m.disks) if d.systemVolume]
    if len(systems) != 1:
        yield findings.error(f"{path}.disks", f"{len(systems)} disks have systemVolume: true",
                             "mark exactly one disk systemVolume: true")
    paths = [d.path for d in m.disks if d.path]
    for need in required:
        if need not in paths:
            yield findings.error(f"{path}.disks", f"no template disk mounted at {need}",
                                 f"add a disk with path: {need}")
    for i, d in enumerate(m.disks):
        sel = [x for x in (d.datastoreName, d.datastoreClusterName, d.datastoreUrn) if x]
        if len(sel) > 1 or (not sel and not d.systemVolume):
            yield findings.error(f"{path}.disks[{i}]", "give exactly one of datastoreName, "
                                 "datastoreClusterName, datastoreUrn", "keep one datastore selector")
        if d.path == "/var/cpaas":
            yield findings.error(f"{path}.disks[{i}].path", "/var/cpaas on a template disk is not preserved "
                                 "across rolling replacement", "declare /var/cpaas as a pool persistentDisk")
        if d.quantity < 0:
            yield findings.error(f"{path}.disks[{i}].quantity", "must be >= 0", "size in GB (0 = template)")
    if len(m.pool) < replicas:
        yield findings.error(f"{path}.pool", f"{len(m.pool)} slot(s) for {replicas} replicas",
                             "add a pool slot per machine (pool size >= replicas)")
    for i, slot in enumerate(m.pool):
        sp = f"{path}.pool[{i}]"
        if netcheck.ipv4_error(slot.ip):
            yield findings.error(f"{sp}.ip", f"{slot.ip!r} is not an IPv4 address", "give the node IPv4")
        else:
            yield from _unique(taken.ips, slot.ip, f"{sp}.ip", "IP",
                               "give every slot its own IP")
        if slot.ip == spec.controlPlaneVIP:
            yield findings.error(f"{sp}.ip", "the control plane VIP is used as a node IP",
                                 "the VIP must not be inside a node pool")
        if not re.fullmatch(r"\d{1,2}", slot.mask) or not 0 < int(slot.mask) <= 32:
            yield findings.error(f"{sp}.mask", f"{slot.mask!r} is not a prefix length",
                                 'write the prefix length as a string, e.g. mask: "24"')
        if netcheck.ip_error(slot.gateway):
            yield findings.error(f"{sp}.gateway", f"{slot.gateway!r} is not an IP address", "give the gateway IP")
        else:
            yield from _check_gateway(slot, sp)
        if not netcheck.DNS1123_SUBDOMAIN.match(slot.hostname):
            yield findings.error(f"{sp}.hostname", f"{slot.hostname!r} is not a valid hostname",
                                 "use lowercase letters, digits, '-' and '.'")
        else:
            yield from _unique(taken.hostnames, slot.hostname, f"{sp}.hostname", "hostname",
                               "give every slot its own hostname (it becomes the node name)")
        if slot.machineName is not None:
            yield from _unique(taken.machine_names, slot.machineName, f"{sp}.machineName",
                               "machineName", "give every slot its own DCS VM name")
        yield from _check_nics(spec, slot, sp, taken)
        slots: set[int] = set()
        for j, disk in enumerate(slot.persistentDisk or []):
            dp = f"{sp}.persistentDisk[{j}]"
            if disk.slot < 0 or disk.slot in slots:
                yield findings.error(f"{dp}.slot", f"slot {disk.slot} is negative or repeated",
                                     "give each persistent disk a unique slot >= 0")
            slots.add(disk.slot)
            if disk.quantityGB < 1:
                yield findings.error(f"{dp}.quantityGB", "must be >= 1", "size in GB")
            if not disk.datastoreName and not disk.datastoreClusterName:
                # DCSIpHostnamePool CEL rule "exactly one of datastoreClusterName or datastoreName
                # is required"; infrastructure page: "Specify exactly one storage target"
                yield findings.error(dp, "a persistent disk without a datastore: the DCSIpHostnamePool "
                                     "CRD refuses it (exactly one of datastoreClusterName or "
                                     "datastoreName is required)",
                                     "add datastoreClusterName (preferred where the DCS administrator "
                                     "configured a datastore cluster) or datastoreName")
            elif disk.datastoreName and disk.datastoreClusterName:
                yield findings.error(dp, "both datastoreName and datastoreClusterName: the CRD "
                                     "accepts exactly one storage target",
                                     "keep one datastore selector")
            if (disk.path is not None and not disk.path.startswith("/")) or disk.path == "/":
                yield findings.error(f"{dp}.path", f"{disk.path!r} is not an absolute mount path",
                                     "e.g. /var/cpaas; omit for a raw block device")



def _check_kcp_base(spec: InstallSpec, p: DcsPlatform) -> Iterator[Finding]:
    """The values the documented base needs from the user and cannot default (warnings: the
    install works, the cluster just differs from the documented one)."""
    yield from annotation_findings(findings, "platform.clusterAnnotations", p.clusterAnnotations)
    yield from kcp_base_findings(findings, spec, p, annotation="the DCS Cluster annotation", unset="is required",
                                 also=" or the cpaas.io/dcs-vm-template ConfigMap (corednsTag, etcdTag)")


#: Alauda OS and Provider Compatibility (docs/en/overview/providers/huawei-dcs.mdx): "For ACP
#: `v4.3.2` or later, including ACP `v4.4.0` and later, install DCS Provider `v1.0.21` or later.
#: Do not pair DCS Provider `v1.0.21` or later with an Alauda OS image for an ACP release
#: earlier than `v4.3.2`."
OS_GATE_ACP = (4, 3, 2)
OS_GATE_PROVIDER = (1, 0, 21)
#: docs/en/create-cluster/huawei-dcs.mdx: "If the workflow relies on pool-managed persistent
#: disks, use DCS provider `v1.0.16` or later."
PERSISTENT_DISK_PROVIDER = (1, 0, 16)
_ROW = f'{COMPATIBILITY_TABLE}, row "Infrastructure provider chart version"'
_COMPAT = "Alauda OS and Provider Compatibility (docs/en/overview/providers/huawei-dcs.mdx)"


def _dotted(version: tuple[int, ...]) -> str:
    return "v" + ".".join(map(str, version))


def version_gates(spec: InstallSpec) -> Iterator[Finding]:
    """The DCS provider version gates of the vendor pages (rule ``versions``), as errors: each
    pairing the docs forbid fails on the nodes long after the apply. The ACP release is the one
    whose OS image carries ``k8sVersion`` (OS Support Matrix); a version the matrix does not
    list, or a chart version that is not major.minor.patch, leaves the gate silent (the core
    warns about the first)."""
    p = platform_of(spec, DcsPlatform)
    path = "packages.provider.version"
    have = release(spec.packages.provider.version)
    if have is None:
        return
    acps = [a for a in acp_releases(spec.k8sVersion) if release(a) is not None]
    acp_v = [v for v in map(release, acps) if v is not None]
    shown = spec.packages.provider.version
    if acp_v and all(v >= OS_GATE_ACP for v in acp_v) and have < OS_GATE_PROVIDER:
        yield findings.error(path, f"DCS provider {shown} is too old for the Alauda OS image of ACP "
                             f"{', '.join(acps)} (k8sVersion {spec.k8sVersion}): ACP {_dotted(OS_GATE_ACP)} "
                             f"or later requires DCS provider {_dotted(OS_GATE_PROVIDER)} or later ({_ROW}; "
                             f"{_COMPAT})",
                             f"use the DCS provider package {_dotted(OS_GATE_PROVIDER)} or later "
                             "delivered with your release", VERSIONS_RULE)
    elif acp_v and all(v < OS_GATE_ACP for v in acp_v) and have >= OS_GATE_PROVIDER:
        yield findings.error(path, f"DCS provider {shown} must not be paired with the Alauda OS image "
                             f"of ACP {', '.join(acps)} (k8sVersion {spec.k8sVersion}), a release "
                             f"earlier than {_dotted(OS_GATE_ACP)} ({_ROW}; {_COMPAT})",
                             "use the DCS provider version delivered with that release (earlier "
                             f"than {_dotted(OS_GATE_PROVIDER)}), or the OS image and k8sVersion of "
                             f"ACP {_dotted(OS_GATE_ACP)} or later", VERSIONS_RULE)
    if p.controlPlaneHA:
        # release-notes/huawei_dcs.mdx, v1.0.21: "Set `DCSCluster.spec.controlPlaneHA.enabled`
        # to have the provider create and maintain a DCS DRS mutual-exclusion rule"
        yield from package_gate(findings, shown, (1, 0, 21), package="DCS provider",
                                needs="platform.controlPlaneHA", source="docs/en/release-notes/huawei_dcs.mdx v1.0.21")
    pools = [("platform.controlPlane.pool", p.controlPlane.pool)] + [
        (f"platform.workers[{i}].pool", w.pool) for i, w in enumerate(p.workers)]
    with_disks = next((f"{where}[{j}].persistentDisk" for where, pool in pools
                       for j, slot in enumerate(pool) if slot.persistentDisk), None)
    if with_disks is not None and have < PERSISTENT_DISK_PROVIDER:
        yield findings.error(path, f"DCS provider {shown} has no pool-managed persistent disks "
                             f"({with_disks} declares one): they need DCS provider "
                             f"{_dotted(PERSISTENT_DISK_PROVIDER)} or later ({_ROW}; "
                             "docs/en/create-cluster/huawei-dcs.mdx)",
                             f"use the DCS provider {_dotted(PERSISTENT_DISK_PROVIDER)} or later, or "
                             "remove persistentDisk", VERSIONS_RULE)


def check(spec: InstallSpec) -> Iterator[Finding]:
    """Every DCS rule; all findings, not just the first."""
    p = platform_of(spec, DcsPlatform)
    fmt = spec.controlPlane.format
    if fmt is not None and fmt != FORMAT:
        yield findings.error("controlPlane.format", f"invalid format, expected ignition, got {fmt}",
                             "DCS requires ignition: remove the field or set it to ignition", "format")
    c = p.credentials
    if not re.match(r"^https?://", c.endpoint):
        yield findings.error("platform.credentials.endpoint", f"{c.endpoint!r} has no http:// or https://",
                             "e.g. https://dcs.example.com:7443 (the DCS REST port is 7443)")
    if c.userType is not None and c.userType.lower() not in ("interconnect", "domain"):
        yield findings.error("platform.credentials.userType", f"{c.userType!r} is not a DCS user type",
                             "use interconnect (default) or domain")
    if not p.sshAuthorizedKeys:
        yield findings.error("platform.sshAuthorizedKeys", "empty: the ignition validator rejects it",
                             "add at least one OpenSSH public key")
    for i, key in enumerate(p.sshAuthorizedKeys):
        if not SSH_PUBLIC_KEY.match(key.strip()):
            yield findings.error(f"platform.sshAuthorizedKeys[{i}]", "not an OpenSSH public key",
                                 "paste the one-line key, e.g. 'ssh-ed25519 AAAA... user@host'")
    if p.loadBalancer.type != "external":
        yield findings.error("platform.loadBalancer.type", f"{p.loadBalancer.type!r} is not supported for "
                             "the global cluster (DCS provider v1.0.21 supports only an external LB)",
                             "use type: external with an external load balancer on controlPlaneVIP")
    if not 0 < p.loadBalancer.port < 65536:
        yield findings.error("platform.loadBalancer.port", "must be 1-65535", "use 6443")
    taken = _Taken()
    yield from _check_machines(spec, p.controlPlane, "platform.controlPlane", CP_DISKS,
                               spec.controlPlane.replicas, taken)
    if not any(d.path == "/var/cpaas" for s in p.controlPlane.pool for d in s.persistentDisk or []):
        yield findings.warning("platform.controlPlane.pool", "no /var/cpaas persistent disk: "
                               "platform state is lost when a control plane VM is replaced",
                               "add persistentDisk [{slot: 0, quantityGB: ..., path: /var/cpaas}]")
    yield from worker_findings(p.workers, findings)
    for i, w in enumerate(p.workers):
        yield from _check_machines(spec, w, f"platform.workers[{i}]", WORKER_DISKS, w.replicas, taken)
    yield from _check_kcp_base(spec, p)
    yield from version_gates(spec)
