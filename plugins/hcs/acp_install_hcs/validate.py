"""HCS rules (§4.9, §7), each with the spec field path and a fix, checked before anything is applied."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from acp_install.provider import (
    Finding,
    Findings,
    InstallSpec,
    annotation_findings,
    kcp_base_findings,
    netcheck,
    package_gate,
    platform_of,
    worker_findings,
)

from .models import HcsPlatform, Machines

IGNITION_MESSAGE = "ignition format is not supported"
CP_DATA_PATHS = ("/var/lib/etcd", "/var/lib/kubelet", "/var/lib/containerd")
WORKER_DATA_PATHS = ("/var/lib/kubelet", "/var/lib/containerd")
EVS_MIN_GB, EVS_MAX_GB = 10, 32768
HA_POLICIES = ("anti-affinity", "soft-anti-affinity")
#: HCSMachineConfigPool hostname pattern (CRD) — the webhook also refuses consecutive dots.
HOSTNAME = re.compile(r"^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$")
findings = Findings(rule="hcs")


def _evs_size(path: str, size: int) -> Iterator[Finding]:
    if not EVS_MIN_GB <= size <= EVS_MAX_GB:
        yield findings.error(path, f"{size} GB is outside the EVS range {EVS_MIN_GB}-{EVS_MAX_GB} GB",
                             f"give a size between {EVS_MIN_GB} and {EVS_MAX_GB} GB", "hcs-evs-size")


def _hostname_problem(name: str) -> str | None:
    if len(name) > 253 or not HOSTNAME.match(name):
        return "must match ^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$ (at most 253 characters, lowercase)"
    if ".." in name:
        return "has consecutive dots"
    return None


def _subnet_ref(path: str, subnet: str, known: set[str]) -> Iterator[Finding]:
    if subnet not in known:
        yield findings.error(path, f"subnet {subnet!r} is not listed in platform.network.subnets",
                             f"add {{name: {subnet}}} to platform.network.subnets (the HCSCluster subnet "
                             "inventory) or fix the name", "hcs-subnets")


def _check_machines(spec: InstallSpec, m: Machines, path: str, replicas: int, *,
                    data_paths: Sequence[str], subnets: set[str],
                    used_ips: dict[str, str]) -> Iterator[Finding]:
    if not m.imageName:
        yield findings.error(f"{path}.imageName", "empty", "give the HCS image name of the Alauda OS image")
    if not m.flavorName:
        yield findings.error(f"{path}.flavorName", "empty", "give the provider-recognised Flavor.Name")
    yield from _evs_size(f"{path}.rootVolume.size", m.rootVolume.size)
    template_mounts: dict[str, int] = {}
    for i, v in enumerate(m.dataVolumes):
        vp = f"{path}.dataVolumes[{i}]"
        yield from _evs_size(f"{vp}.size", v.size)
        if v.mountPath is not None:
            if v.mountPath in template_mounts:
                yield findings.error(f"{vp}.mountPath", f"{v.mountPath} is already mounted by "
                                     f"dataVolumes[{template_mounts[v.mountPath]}]", "mount each path once")
            template_mounts.setdefault(v.mountPath, i)
            if v.mountPath == "/var/cpaas":
                yield findings.warning(f"{vp}.mountPath", "/var/cpaas on a template data volume is lost when "
                                       "the ECS is replaced", "declare /var/cpaas as a pool persistentDisk")
    for need in data_paths:
        if need not in template_mounts:
            yield findings.warning(f"{path}.dataVolumes", f"no data volume mounted at {need}",
                                   f"add {{size: ..., type: SSD, mountPath: {need}, format: xfs}}")
    if len(m.pool) < replicas:
        yield findings.error(f"{path}.pool", f"{len(m.pool)} config(s) for {replicas} replicas",
                             "add a pool config (hostname + IP) per machine: pool size >= replicas",
                             "hcs-pool-size")
    hostnames: dict[str, int] = {}
    for i, cfg in enumerate(m.pool):
        cp = f"{path}.pool[{i}]"
        problem = _hostname_problem(cfg.hostname)
        if problem:
            yield findings.error(f"{cp}.hostname", f"{cfg.hostname!r} {problem}",
                                 "use lowercase letters, digits, '-' and single dots, e.g. global-cp-1",
                                 "hcs-hostname")
        elif cfg.hostname in hostnames:
            yield findings.error(f"{cp}.hostname", f"{cfg.hostname} is already used by pool[{hostnames[cfg.hostname]}]",
                                 "give every config its own hostname", "hcs-hostname")
        hostnames.setdefault(cfg.hostname, i)
        if not cfg.networks:
            yield findings.error(f"{cp}.networks", "no network", "add {subnetName: ..., ipAddress: ...}")
        for j, nic in enumerate(cfg.networks):
            np = f"{cp}.networks[{j}]"
            if (nic.subnetName is None) == (nic.subnetId is None):
                yield findings.error(np, "give exactly one of subnetName or subnetId",
                                     "keep subnetName (preferred) or subnetId, not both", "hcs-subnet-xor")
            elif nic.subnetName is not None:
                yield from _subnet_ref(f"{np}.subnetName", nic.subnetName, subnets)
            if netcheck.ip_error(nic.ipAddress):
                yield findings.error(f"{np}.ipAddress", f"{nic.ipAddress!r} is not an IP address",
                                     "give the static IP of the NIC")
            elif nic.ipAddress in used_ips:
                yield findings.error(f"{np}.ipAddress", f"{nic.ipAddress} is already used by "
                                     f"{used_ips[nic.ipAddress]}", "give every NIC its own IP", "hcs-ip")
            else:
                used_ips[nic.ipAddress] = np
        disks = cfg.persistentDisks or []
        slots = sorted(d.slot for d in disks)
        if slots != list(range(len(disks))):
            yield findings.error(f"{cp}.persistentDisks", f"slots {slots} are not contiguous from 0",
                                 f"number the persistent disks 0..{len(disks) - 1}, each slot once",
                                 "hcs-slots")
        mounts: set[str] = set()
        for j, d in enumerate(disks):
            dp = f"{cp}.persistentDisks[{j}]"
            yield from _evs_size(f"{dp}.size", d.size)
            if not d.type:
                yield findings.error(f"{dp}.type", "empty", "give the EVS type available in the AZ, e.g. SSD")
            if d.mountPath is None:
                continue
            if not d.mountPath.startswith("/") or d.mountPath == "/":
                yield findings.error(f"{dp}.mountPath", f"{d.mountPath!r} is not an absolute mount path",
                                     "e.g. /var/cpaas; omit it for a raw block device")
            if d.mountPath in template_mounts:
                yield findings.error(f"{dp}.mountPath", f"{d.mountPath} is also a data volume of the machine "
                                     "template (the provider rejects the overlap)",
                                     f"remove it from {path}.dataVolumes or from the pool", "hcs-mount-overlap")
            if d.mountPath in mounts:
                yield findings.error(f"{dp}.mountPath", f"{d.mountPath} mounted twice", "mount each path once")
            mounts.add(d.mountPath)
        if netcheck.ip_error(spec.controlPlaneVIP) is None and any(
                n.ipAddress == spec.controlPlaneVIP for n in cfg.networks):
            yield findings.error(f"{cp}.networks", "the control plane VIP is used as a node IP",
                                 "the VIP belongs to the ELB: give the node another IP")


def _check_elb(spec: InstallSpec, p: HcsPlatform, subnets: set[str],
               used_ips: dict[str, str]) -> Iterator[Finding]:
    lb = p.loadBalancer
    yield from _subnet_ref("platform.loadBalancer.vipSubnetName", lb.vipSubnetName, subnets)
    cidrs = {s.name: s.cidr for s in p.network.subnets if s.cidr}
    vip_cidr = cidrs.get(lb.vipSubnetName)
    if vip_cidr and not netcheck.in_cidr(spec.controlPlaneVIP, vip_cidr):
        yield findings.error("controlPlaneVIP", f"{spec.controlPlaneVIP} is not in subnet "
                             f"{lb.vipSubnetName} ({vip_cidr})",
                             "the ELB VIP must be an address of platform.loadBalancer.vipSubnetName")
    for field in ("elbVirsubnetL4Ips", "elbVirsubnetL7Ips"):
        groups = getattr(lb, field)
        path = f"platform.loadBalancer.{field}"
        if not groups:
            yield findings.error(path, "empty: Hybrid Load Balancing needs its ELB IPs",
                                 "add [{subnetName: ..., ips: [IP1, IP2]}]", "hcs-elb-ips")
        for i, g in enumerate(groups):
            gp = f"{path}[{i}]"
            yield from _subnet_ref(f"{gp}.subnetName", g.subnetName, subnets)
            if len(g.ips) != 2:
                yield findings.error(f"{gp}.ips", f"{len(g.ips)} IP(s): HCS needs exactly two",
                                     "list exactly two free IPs of the subnet", "hcs-elb-ips")
            for j, ip in enumerate(g.ips):
                if netcheck.ip_error(ip):
                    yield findings.error(f"{gp}.ips[{j}]", f"{ip!r} is not an IP address", "give an IP")
                elif ip == spec.controlPlaneVIP:
                    yield findings.error(f"{gp}.ips[{j}]", "the control plane VIP is used as an ELB IP",
                                         "ELB IPs are separate addresses of the subnet")
                elif ip in used_ips:
                    yield findings.error(f"{gp}.ips[{j}]", f"{ip} is already used by {used_ips[ip]}",
                                         "give every ELB and node address its own IP", "hcs-ip")
                else:
                    used_ips[ip] = f"{gp}.ips[{j}]"
                cidr = cidrs.get(g.subnetName)
                if cidr and netcheck.ip_error(ip) is None and not netcheck.in_cidr(ip, cidr):
                    yield findings.error(f"{gp}.ips[{j}]", f"{ip} is not in subnet {g.subnetName} ({cidr})",
                                         "give an address of the group's subnet")


def _check_kcp_base(spec: InstallSpec, p: HcsPlatform) -> Iterator[Finding]:
    """Values the documented base needs from the user and cannot default (warnings)."""
    yield from annotation_findings(findings, "platform.clusterAnnotations", p.clusterAnnotations)
    if not p.imageRepository:
        yield findings.warning("platform.imageRepository", "not set: kubeadm pulls the control "
                               "plane images from its default registry (registry.k8s.io)",
                               "set the image repository of your approved release baseline (the HCS "
                               "page names no value) that holds the coredns and etcd images",
                               "image-tags")
    yield from kcp_base_findings(findings, spec, p, annotation="the HCS page's Cluster annotation",
                                 unset="is not rendered")


def check(spec: InstallSpec) -> Iterator[Finding]:
    """Every HCS rule; all findings, not just the first."""
    p = platform_of(spec, HcsPlatform)
    if p.controlPlaneHA is not None and p.controlPlaneHA.enabled:
        # release-notes/huawei_cloud_stack.mdx, v1.0.2: "`HCSCluster` accepts a new
        # `spec.controlPlaneHA` block with `enabled` and `policy`"
        yield from package_gate(findings, spec.packages.provider.version, (1, 0, 2),
                                package="HCS provider", needs="platform.controlPlaneHA",
                                source="docs/en/release-notes/huawei_cloud_stack.mdx v1.0.2")
    if spec.controlPlane.format == "ignition":
        yield findings.error("controlPlane.format", IGNITION_MESSAGE,
                             "HCS boots with cloud-init: remove the field or set it to cloud-config",
                             "hcs-format")
    if spec.controlPlane.replicas < 3:
        yield findings.error("controlPlane.replicas", f"{spec.controlPlane.replicas} replica(s): the HCS "
                             "global cluster must be highly available (a single control plane is "
                             "creation-only, never upgradable)", "use 3 (or 5) replicas", "hcs-replicas")
    if p.controlPlaneEndpoint is not None:
        yield findings.error("platform.controlPlaneEndpoint", "must not be set in the create manifest: the "
                             "HCS controller fills it once the ELB is ready",
                             "remove it; the ELB VIP is controlPlaneVIP", "hcs-endpoint")
    c = p.credentials
    for field in ("accessKey", "projectID", "region", "externalGlobalDomain"):
        if not getattr(c, field).strip():
            yield findings.error(f"platform.credentials.{field}", "empty", "fill it in from the HCS console")
    if c.externalGlobalDomain.strip() and netcheck.host_error(c.externalGlobalDomain):
        yield findings.error("platform.credentials.externalGlobalDomain",
                             f"{c.externalGlobalDomain!r} is not a domain name",
                             "give the HCS platform domain without scheme or path, e.g. hcs.example.com")
    if c.schema is not None and c.schema not in ("http", "https"):
        yield findings.error("platform.credentials.schema", f"{c.schema!r} is not http or https",
                             "remove it (https) or set http/https")
    if not p.network.subnets:
        yield findings.error("platform.network.subnets", "empty: every subnet the cluster uses must be listed",
                             "add [{name: SUBNET}] for the node, VIP and ELB subnets", "hcs-subnets")
    subnets = {s.name for s in p.network.subnets}
    seen: set[str] = set()
    for i, s in enumerate(p.network.subnets):
        if s.name in seen:
            yield findings.error(f"platform.network.subnets[{i}].name", f"subnet {s.name!r} listed twice",
                                 "list each subnet once")
        seen.add(s.name)
        if s.cidr is not None and netcheck.cidr_error(s.cidr):
            yield findings.error(f"platform.network.subnets[{i}].cidr", str(netcheck.cidr_error(s.cidr)),
                                 "write the subnet with its prefix, e.g. 192.168.1.0/24")
    if p.controlPlaneHA is not None:
        ha = p.controlPlaneHA
        if ha.enabled is None:
            yield findings.error("platform.controlPlaneHA.enabled", "required when controlPlaneHA is set",
                                 "set enabled: true (or remove the block)", "hcs-ha")
        if ha.policy is None:
            yield findings.error("platform.controlPlaneHA.policy", "required when controlPlaneHA is set",
                                 "set policy: soft-anti-affinity or anti-affinity", "hcs-ha")
        elif ha.policy not in HA_POLICIES:
            yield findings.error("platform.controlPlaneHA.policy", f"{ha.policy!r} is not a policy",
                                 "use anti-affinity or soft-anti-affinity", "hcs-ha")
    used_ips: dict[str, str] = {}
    yield from _check_machines(spec, p.controlPlane, "platform.controlPlane",
                               spec.controlPlane.replicas, data_paths=CP_DATA_PATHS,
                               subnets=subnets, used_ips=used_ips)
    if not any(d.mountPath == "/var/cpaas" for cfg in p.controlPlane.pool
               for d in cfg.persistentDisks or []):
        yield findings.warning("platform.controlPlane.pool", "no /var/cpaas persistent disk: platform state is "
                               "lost when a control plane ECS is replaced",
                               "add persistentDisks [{slot: 0, size: ..., type: SSD, mountPath: /var/cpaas}]")
    yield from worker_findings(p.workers, findings)
    for i, w in enumerate(p.workers):
        wp = f"platform.workers[{i}]"
        if not w.name.startswith("global-") or not netcheck.DNS1123_LABEL.match(w.name):
            yield findings.error(f"{wp}.name", f"{w.name!r} is not a DNS-1123 name starting with 'global-'",
                                 f"rename it global-{w.name.removeprefix('global-') or 'worker'} (DR failover "
                                 "recognises global objects by the prefix)", "global-prefix")
        yield from _check_machines(spec, w, wp, w.replicas, data_paths=WORKER_DATA_PATHS,
                                   subnets=subnets, used_ips=used_ips)
    yield from _check_elb(spec, p, subnets, used_ips)
    yield from _check_kcp_base(spec, p)
