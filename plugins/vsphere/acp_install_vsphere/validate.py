"""vSphere rules (providers.md §3.3, §3.9, §7), checked before anything is applied.

Every finding carries the spec field path (``platform.controlPlane.configs[1].hostname``) and a
fix. Where a rule mirrors a webhook of the CAPV fork, the message quotes the webhook's words so
the user recognises it later in controller logs.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Iterator

from acp_install.provider import (
    SSH_PUBLIC_KEY,
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

from .derive import (
    default_folder,
    generated_key_file,
    pool_name,
    template_name,
    template_networks,
)
from .keys import GeneratedKey
from .models import Machines, Nic, PersistentDisk, VspherePlatform, WorkerMachines

#: The pool webhook's hostname pattern (CRD ``configs[].hostname``).
HOSTNAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
THUMBPRINT = re.compile(r"^([0-9A-Fa-f]{2}:){19}[0-9A-Fa-f]{2}$")
FOLDER = re.compile(r"^/(?P<dc>[^/]+)/vm/global(?P<side>/primary|/standby)?$")
CLONE_MODES = ("linkedClone", "fullClone")
POWER_OFF_MODES = ("hard", "soft", "trySoft")
CP_DISKS = ("/var/cpaas", "/var/lib/containerd", "/var/lib/etcd")
WORKER_DISKS = ("/var/cpaas", "/var/lib/containerd")
ETCD = "/var/lib/etcd"
AESCBC_KEY_BYTES = (16, 24, 32)
findings = Findings(rule="vsphere")


def check(spec: InstallSpec) -> Iterator[Finding]:
    p = platform_of(spec, VspherePlatform)
    if spec.dr is not None and spec.dr.role == "standby":
        # release-notes/vmware_vsphere.mdx, v1.0.13: "Standby Global Cluster reconciliation —
        # vSphere provider resources can reconcile correctly on a standby Global Cluster"
        yield from package_gate(findings, spec.packages.provider.version, (1, 0, 13),
                                package="vSphere provider", needs="a DR standby (Standby Global "
                                "Cluster reconciliation)", source="docs/en/release-notes/vmware_vsphere.mdx "
                                "v1.0.13", severity="warning")
    fmt = spec.controlPlane.format
    if fmt == "ignition":
        yield findings.error("controlPlane.format", "ignition is not supported by VMware vSphere: the vSphere "
                             "provider bootstraps nodes with cloud-init user data (format cloud-config)",
                             "remove controlPlane.format or set it to cloud-config", "format")
    yield from _check_vcenter(p)
    yield from _check_platform(spec, p)
    names = _Names()
    yield from _check_machines(spec, p.controlPlane, "platform.controlPlane", CP_DISKS,
                               spec.controlPlane.replicas, names)
    yield from worker_findings(p.workers, findings)
    for i, w in enumerate(p.workers):
        wp = f"platform.workers[{i}]"
        yield from findings.global_name(f"{wp}.name", w.name, "MachineDeployment")
        yield from _check_machines(spec, w, wp, WORKER_DISKS, w.replicas, names)
    yield from _check_failure_domains(p)
    yield from _check_kcp_base(spec, p)


ZONE_TYPES = ("Datacenter", "ComputeCluster", "HostGroup")  # the VSphereFailureDomain CRD enum


def _check_failure_domains(p: VspherePlatform) -> Iterator[Finding]:
    """The create-cluster page's failure-domain set: every name global- prefixed and unique, a
    deployment zone for the control plane, workers pinned to deployment zones (not domains)."""
    fd = p.failureDomains
    zones: dict[str, str] = {}
    domains: dict[str, str] = {}
    base = "platform.failureDomains"
    if fd is not None:
        if not fd.domains:
            yield findings.error(f"{base}.domains", "empty: failure domains need at least one "
                                 "VSphereFailureDomain", "add a domain per datacenter/compute cluster, "
                                 "or remove failureDomains for the single-datacenter baseline",
                                 "vsphere-failure-domain")
        for i, d in enumerate(fd.domains):
            dp = f"{base}.domains[{i}]"
            yield from findings.global_name(f"{dp}.name", d.name, "VSphereFailureDomain")
            yield from findings.global_name(f"{dp}.deploymentZone", d.deploymentZone, "VSphereDeploymentZone")
            for seen, value, field in ((domains, d.name, "name"), (zones, d.deploymentZone, "deploymentZone")):
                if value in seen:
                    yield findings.error(f"{dp}.{field}", f"{value!r} is already used by {seen[value]}",
                                         "give every domain and deployment zone its own name",
                                         "vsphere-failure-domain")
                else:
                    seen[value] = dp
            for field in ("regionType", "zoneType"):
                if getattr(d, field) not in ZONE_TYPES:
                    yield findings.error(f"{dp}.{field}", f"{getattr(d, field)!r} is not a failure "
                                         "domain type", f"use one of {', '.join(ZONE_TYPES)}",
                                         "vsphere-failure-domain")
        if fd.domains and not any(d.controlPlane for d in fd.domains):
            yield findings.error(f"{base}.domains", "no deployment zone allows the control plane: "
                                 "failureDomainSelector would select nothing",
                                 "set controlPlane: true on at least one domain", "vsphere-failure-domain")
        if fd.regionTagCategory == fd.zoneTagCategory:
            yield findings.error(f"{base}.zoneTagCategory", "region and zone use the same tag category",
                                 "keep k8s-region and k8s-zone (the CPI [Labels] keys)",
                                 "vsphere-failure-domain")
    for i, w in enumerate(p.workers):
        if w.failureDomain is None:
            continue
        wp = f"platform.workers[{i}].failureDomain"
        if fd is None:
            yield findings.error(wp, "set without platform.failureDomains: no deployment zone exists",
                                 "add platform.failureDomains, or remove failureDomain",
                                 "vsphere-failure-domain")
        elif w.failureDomain not in zones:
            hint = " (that is a VSphereFailureDomain name; give its deploymentZone)" \
                if w.failureDomain in domains else ""
            yield findings.error(wp, f"{w.failureDomain!r} is not a deployment zone{hint}",
                                 f"use one of {', '.join(sorted(zones)) or 'the deploymentZone names'}",
                                 "vsphere-failure-domain")


def _check_kcp_base(spec: InstallSpec, p: VspherePlatform) -> Iterator[Finding]:
    """Values the documented base needs from the user and cannot default (warnings)."""
    yield from annotation_findings(findings, "platform.clusterAnnotations", p.clusterAnnotations)
    yield from kcp_base_findings(findings, spec, p, annotation="the create-cluster guide's Cluster annotation",
                                 unset="is not rendered", also="; they must match the images preloaded in the template")


def _check_vcenter(p: VspherePlatform) -> Iterator[Finding]:
    vc = p.vcenter
    path = "platform.vcenter"
    if "://" in vc.server or "/" in vc.server:
        yield findings.error(f"{path}.server", f"{vc.server!r} is a URL; the provider expects the vCenter "
                             "host only (port 443 is assumed)", "e.g. server: vcenter.example.com")
    elif netcheck.host_error(vc.server):
        yield findings.error(f"{path}.server", f"{vc.server!r} is neither an IP address nor a DNS name",
                             "give the vCenter IP or FQDN, without port")
    tp = vc.thumbprint.strip()
    if not THUMBPRINT.match(tp):
        if "=" in tp:
            fix = "keep only the hex pairs after 'SHA1 Fingerprint='"
        elif len(tp.replace(":", "")) == 64:
            fix = "that is a SHA-256 fingerprint; use openssl x509 -noout -fingerprint -sha1"
        else:
            fix = ("run: openssl s_client -connect <server>:443 </dev/null 2>/dev/null | "
                   "openssl x509 -noout -fingerprint -sha1")
        yield findings.error(f"{path}.thumbprint", f"{vc.thumbprint!r} is not a SHA-1 fingerprint "
                             "(20 colon-separated hex pairs)", fix)
    if not vc.username.strip():
        yield findings.error(f"{path}.username", "must not be empty", "the vCenter user of the provider")
    if not vc.datacenter.strip() or "/" in vc.datacenter:
        yield findings.error(f"{path}.datacenter", f"{vc.datacenter!r} is not a datacenter name",
                             "give the datacenter name as shown in vCenter (no slashes)")


def _check_platform(spec: InstallSpec, p: VspherePlatform) -> Iterator[Finding]:
    if spec.providerSecretName != "global-secret":
        yield findings.warning("providerSecretName", "not used by vSphere: the credential Secret is always "
                               "global-vsphere-credentials (Step 7 and DR look it up by that name)",
                               "remove providerSecretName")
    if not p.sshAuthorizedKeys:
        yield findings.warning("platform.sshAuthorizedKeys", "no SSH key: user 'boot' is not created and the "
                               "nodes cannot be reached for troubleshooting", "add an OpenSSH public key")
    for i, key in enumerate(p.sshAuthorizedKeys):
        if not SSH_PUBLIC_KEY.match(key.strip()):
            yield findings.error(f"platform.sshAuthorizedKeys[{i}]", "not an OpenSSH public key",
                                 "paste the one-line key, e.g. 'ssh-ed25519 AAAA... user@host'")
    if not p.cpi.imageTag.strip():
        yield findings.error("platform.cpi.imageTag", "must not be empty",
                             "the cloud-provider-vsphere tag shipped in the provider package")
    if p.cpi.imageRegistry is not None:
        problem = netcheck.registry_address_error(p.cpi.imageRegistry)
        if problem:
            yield findings.error("platform.cpi.imageRegistry", problem, "write host:port")
    if p.imageRepository is not None and "://" in p.imageRepository:
        yield findings.error("platform.imageRepository", f"{p.imageRepository!r} has a scheme",
                             "write <registry host:port>/<path>, e.g. 10.0.0.5:11443/tkestack")
    yield from _check_bootstrap_registry(spec, p)
    for i, ns in enumerate(p.nameservers or []):
        if netcheck.ip_error(ns):
            yield findings.error(f"platform.nameservers[{i}]", f"{ns!r} is not an IP address",
                                 "resolv.conf needs nameserver IPs")
    yield from _check_key_location(spec, p)
    if spec.dr is not None and p.encryptionKey is not None:
        yield findings.error("platform.encryptionKey", "a DR install uses dr.encryptionKey on both sides; a "
                             "second key here would make the two sides differ",
                             "remove platform.encryptionKey and set dr.encryptionKey")
    elif p.encryptionKey is not None and p.encryptionKey.available():
        try:
            size = len(base64.b64decode(p.encryptionKey.reveal().get(), validate=True))
        except (binascii.Error, ValueError):
            size = -1
        if size not in AESCBC_KEY_BYTES:
            yield findings.warning("platform.encryptionKey", f"the key ({p.encryptionKey.source}) is not the "
                                   "base64 of 16, 24 or 32 bytes: kube-apiserver rejects such an aescbc key",
                                   "generate one with: head -c 32 /dev/urandom | base64")


def _on_bootstrap_host(spec: InstallSpec, reference: str) -> bool:
    """Whether an image reference or repository names the bootstrap host's registry."""
    registry = reference.split("/", 1)[0]
    host = registry.rsplit(":", 1)[0] if ":" in registry and not registry.endswith("]") else registry
    return registry == spec.node_registry_address or host.strip("[]") == spec.hostIP


def _check_bootstrap_registry(spec: InstallSpec, p: VspherePlatform) -> Iterator[Finding]:
    """§10.16 leaves open which registry the global cluster's kubeadm images and CPI image come
    from once the bootstrap host is gone: say so where the value points at that host."""
    node = spec.node_registry_address
    repo = p.imageRepository or f"{node}/tkestack"
    if _on_bootstrap_host(spec, repo):
        how = "is" if p.imageRepository else "defaults to"
        yield findings.warning("platform.imageRepository", f"kubeadm imageRepository {how} {repo}, on the "
                               f"bootstrap host's registry (nodeRegistryAddress {node}), which is deleted with "
                               "that host; the KubeadmControlPlane keeps it for every later control plane "
                               "(CoreDNS, upgrades, any image not preloaded in the template). No source says "
                               "the installer rewrites it (providers.md §10.16)",
                               f"set it explicitly to the platform registry (registryDomain), e.g. "
                               f"{spec.registryDomain}/tkestack with the template's preloaded images tagged "
                               "to match, or confirm the installer rewrites it", "bootstrap-registry")
    cpi = p.cpi.imageRegistry or node
    if _on_bootstrap_host(spec, cpi):
        how = "is" if p.cpi.imageRegistry else "defaults to"
        yield findings.warning("platform.cpi.imageRegistry", f"the CPI image registry {how} {cpi}, the "
                               "bootstrap host's registry: the ClusterResourceSet (strategy Reconcile) keeps "
                               f"the DaemonSet image {cpi}/ait/cloud-provider-vsphere:{p.cpi.imageTag}, so a "
                               "control plane node added after that host is gone cannot pull it and stays "
                               "uninitialised. No source says the installer rewrites it (providers.md §10.16)",
                               f"set it explicitly to the platform registry (registryDomain "
                               f"{spec.registryDomain}) or confirm the installer rewrites it; caution: the "
                               "platform registry serves only after Step 8, until then the CPI pods cannot "
                               "pull and new nodes stay uninitialised",
                               "bootstrap-registry")


def _check_key_location(spec: InstallSpec, p: VspherePlatform) -> Iterator[Finding]:
    """The generated key must be found again by every later render and apply (decisions.md)."""
    given = p.generatedKeyFile
    if given is not None and not (given.startswith(("/", "~"))):
        yield findings.error("platform.generatedKeyFile", f"{given!r} is relative: it would be resolved "
                             "against the current directory, so a render and an apply started from "
                             "different directories would use different encryption keys",
                             f"use an absolute path (e.g. /root/.acp-install/global-encryption-key) or "
                             f"~/{given.lstrip('./')}", "vsphere-key")
        return
    if spec.dr is not None or p.encryptionKey is not None:
        return
    path = GeneratedKey(file=generated_key_file(spec)).path
    state = "exists and will be reused" if path.is_file() else \
        "will be generated on the first render --include-secrets or apply"
    yield findings.warning("platform.encryptionKey", f"not set: the aescbc key of the control plane "
                           f"encryption-provider.conf is kept in {path} ({state}). Back that file up and keep "
                           "it: a later apply without it renders a new key, and control plane nodes created "
                           "with a different key cannot decrypt the Secrets already in etcd",
                           "generate a key you manage (head -c 32 /dev/urandom | base64 > /root/global-"
                           "encryption-key; chmod 600 it) and set encryptionKey: {file: /root/global-"
                           "encryption-key}", "vsphere-key")


class _Names:
    """Names already taken across the control plane and the worker groups."""

    def __init__(self) -> None:
        self.pools: dict[str, str] = {}
        self.templates: dict[str, str] = {}
        self.hostnames: dict[str, str] = {}
        self.ips: dict[str, str] = {}


def _check_machines(spec: InstallSpec, m: Machines, path: str, required: tuple[str, ...],
                    replicas: int, names: _Names) -> Iterator[Finding]:
    p = platform_of(spec, VspherePlatform)
    worker = isinstance(m, WorkerMachines)
    # one pool (and one template) per KCP / MachineDeployment
    pool, tmpl = pool_name(m), template_name(m)
    pool_path = f"{path}.poolName" if m.poolName or not worker else f"{path}.name"
    tmpl_path = f"{path}.templateName" if m.templateName or not worker else f"{path}.name"
    if m.poolName:
        yield from findings.global_name(pool_path, m.poolName, "VSphereMachineConfigPool")
    if m.templateName:
        yield from findings.global_name(tmpl_path, m.templateName, "VSphereMachineTemplate")
    if pool in names.pools:
        yield findings.error(pool_path, f"VSphereMachineConfigPool {pool!r} is already used by "
                             f"{names.pools[pool]}: a pool bound to two consumers stays "
                             "MachineConfigPoolReady=False (PoolBoundToOtherConsumer)",
                             "give every control plane / worker group its own pool", "one-pool-per-consumer")
    names.pools.setdefault(pool, path)
    if tmpl in names.templates:
        yield findings.error(tmpl_path, f"VSphereMachineTemplate {tmpl!r} is already used by "
                             f"{names.templates[tmpl]}", "give every group its own machine template")
    names.templates.setdefault(tmpl, path)

    if not m.template.strip():
        yield findings.error(f"{path}.template", "must not be empty", "the VM template (OVA) name")
    if not m.datastore.strip():
        yield findings.error(f"{path}.datastore", "must not be empty", "the system-disk datastore")
    if m.numCPUs < 1:
        yield findings.error(f"{path}.numCPUs", "must be >= 1", "vCPU count, e.g. 8")
    if m.memoryMiB < 1024:
        yield findings.error(f"{path}.memoryMiB", f"{m.memoryMiB} MiB is too small (the unit is MiB)",
                             "e.g. 16384 for 16 GiB")
    if m.diskGiB is not None and m.diskGiB < 1:
        yield findings.error(f"{path}.diskGiB", "must be >= 1", "system disk size in GiB, >= the template disk")
    if m.cloneMode is not None and m.cloneMode not in CLONE_MODES:
        yield findings.error(f"{path}.cloneMode", f"{m.cloneMode!r} is not a clone mode",
                             "use linkedClone or fullClone")
    elif m.diskGiB is not None and m.cloneMode != "fullClone":
        yield findings.warning(f"{path}.diskGiB", "diskGiB is honoured only with cloneMode: fullClone",
                               "set cloneMode: fullClone or remove diskGiB")
    if m.powerOffMode is not None and m.powerOffMode not in POWER_OFF_MODES:
        yield findings.error(f"{path}.powerOffMode", f"{m.powerOffMode!r} is not a power-off mode",
                             "use hard, soft or trySoft")
    if m.releaseDelayHours is not None and m.releaseDelayHours < 0:
        yield findings.error(f"{path}.releaseDelayHours", "must be >= 0", "hours before a released slot is reclaimed")
    yield from _check_folder(spec, m, path)

    nets = template_networks(m)
    for i, n in enumerate(m.networks or []):
        if not n.strip():
            yield findings.error(f"{path}.networks[{i}]", "must not be empty", "the port group of that NIC")
    if len(m.configs) < replicas:
        yield findings.error(f"{path}.configs", f"{len(m.configs)} slot(s) for {replicas} replicas",
                             "add a slot per machine (slots >= replicas)")
    dcs = {p.vcenter.datacenter}
    for i, slot in enumerate(m.configs):
        sp = f"{path}.configs[{i}]"
        if slot.datacenter is not None:
            dcs.add(slot.datacenter)
            if not slot.datacenter.strip():
                yield findings.error(f"{sp}.datacenter", "must not be empty", "remove it to use vcenter.datacenter")
        if not HOSTNAME.match(slot.hostname) or len(slot.hostname) > 253:
            yield findings.error(f"{sp}.hostname", f"{slot.hostname!r} is not a DNS-1123 subdomain (it becomes "
                                 "the node name and kubelet certificate SAN)",
                                 "use lowercase letters, digits, '-' and '.', starting and ending alphanumeric")
        elif slot.hostname in names.hostnames:
            yield findings.error(f"{sp}.hostname", f"{slot.hostname!r} is already used by "
                                 f"{names.hostnames[slot.hostname]}", "node names must be unique")
        names.hostnames.setdefault(slot.hostname, sp)
        nics = [("primary", slot.network.primary)] + [
            (f"additional[{j}]", n) for j, n in enumerate(slot.network.additional or [])]
        for label, nic in nics:
            yield from _check_nic(spec, nic, f"{sp}.network.{label}", names)
        devices = [n.deviceName for _, n in nics if n.deviceName]
        for dup in sorted({d for d in devices if devices.count(d) > 1}):
            yield findings.error(f"{sp}.network", f"device name {dup!r} is used by two NICs",
                                 "give each NIC its own deviceName (eth0, eth1, ...)")
        if len(nics) != len(nets):
            yield findings.error(f"{sp}.network", f"the slot has {len(nics)} NIC(s) but the machine template "
                                 f"has {len(nets)} ({', '.join(nets) or 'none'}): NICs are matched by order",
                                 f"give every slot the same NICs, or set {path}.networks to one port group "
                                 "per slot NIC")
        else:
            for j, (label, nic) in enumerate(nics):
                if nic.networkName.strip() and nic.networkName != nets[j]:
                    yield findings.warning(f"{sp}.network.{label}.networkName",
                                           f"port group {nic.networkName!r} differs from the template NIC "
                                           f"{j} ({nets[j]!r})", "use the same port group order in every slot")
        yield from _check_disks(slot.persistentDisks, sp, required)
    folder = m.folder
    if folder is not None:
        match = FOLDER.match(folder)
        if match and match["dc"] not in dcs:
            yield findings.error(f"{path}.folder", f"folder datacenter {match['dc']!r} is not the datacenter "
                                 f"of the machines ({', '.join(sorted(dcs))})",
                                 f"use folder: {default_folder(spec, m)}")


def _check_folder(spec: InstallSpec, m: Machines, path: str) -> Iterator[Finding]:
    if m.folder is None:
        return
    match = FOLDER.match(m.folder)
    want = f"/{spec.dr.role}" if spec.dr is not None else None
    if not match:
        yield findings.error(f"{path}.folder", f"{m.folder!r} does not have the global folder shape "
                             "/<datacenter>/vm/global[/primary|/standby]",
                             f"use folder: {default_folder(spec, m)} (or remove it to derive it)")
    elif match["side"] != want:
        side = "this DR side" if want else "a normal (non-DR) install"
        yield findings.error(f"{path}.folder", f"{m.folder!r} is not the folder of {side}",
                             f"use folder: /{match['dc']}/vm/global{want or ''}")


def _check_nic(spec: InstallSpec, nic: Nic, path: str, names: _Names) -> Iterator[Finding]:
    if not nic.networkName.strip():
        yield findings.error(f"{path}.networkName", "must be set when network is configured",
                             "the vSphere port group of this NIC")
    if nic.ip is None:
        if path.endswith("primary"):
            yield findings.warning(f"{path}.ip", "no static IP: the node address (kubelet node-ip) is then "
                                   "left to DHCP", "give the node address in CIDR form, e.g. 10.0.0.11/24")
    else:
        try:
            if "/" not in nic.ip:
                raise ValueError
            iface = ipaddress.ip_interface(nic.ip)
        except ValueError:
            yield findings.error(f"{path}.ip", f"{nic.ip!r} is not an address in CIDR form",
                                 "write <ip>/<prefix>, e.g. 10.0.0.11/24")
        else:
            ip = str(iface.ip)
            if ip == spec.controlPlaneVIP:
                yield findings.error(f"{path}.ip", "the control plane VIP is used as a node IP",
                                     "the VIP belongs to the external load balancer, not to a node")
            elif ip in names.ips:
                yield findings.error(f"{path}.ip", f"{ip} is already used by {names.ips[ip]}",
                                     "give every NIC its own address")
            names.ips.setdefault(ip, path)
            if nic.gateway is not None and netcheck.ip_error(nic.gateway) is None and \
                    ipaddress.ip_address(nic.gateway) not in iface.network:
                yield findings.warning(f"{path}.gateway", f"gateway {nic.gateway} is outside {iface.network}",
                                       "check the prefix length of ip or the gateway")
    if nic.gateway is not None and netcheck.ip_error(nic.gateway):
        yield findings.error(f"{path}.gateway", f"{nic.gateway!r} is not an IP address",
                             "give the gateway as a plain IP (no prefix)")
    for k, server in enumerate(nic.dns or []):
        if netcheck.ip_error(server):
            yield findings.error(f"{path}.dns[{k}]", f"{server!r} is not an IP address", "DNS server IPs")


def _check_disks(disks: list[PersistentDisk], sp: str,
                 required: tuple[str, ...]) -> Iterator[Finding]:
    seen: set[str] = set()
    mounts: set[str] = set()
    for j, d in enumerate(disks):
        dp = f"{sp}.persistentDisks[{j}]"
        if not d.name.strip():
            yield findings.error(f"{dp}.name", "must not be empty", "e.g. var-lib-etcd")
        elif d.name in seen:
            yield findings.error(f"{dp}.name", f"{d.name!r} repeats in this slot", "disk names are unique per slot")
        seen.add(d.name)
        if d.sizeGiB < 1:
            yield findings.error(f"{dp}.sizeGiB", "must be >= 1", "size in GiB (>= 100 recommended)")
        if d.unitNumber is not None and not (0 <= d.unitNumber <= 15 and d.unitNumber != 7):
            yield findings.error(f"{dp}.unitNumber", f"{d.unitNumber} is not a usable SCSI unit",
                                 "use 0-15 except 7 (reserved for the controller), or remove it")
        if d.mountPath is not None:
            if not d.mountPath.startswith("/") or d.mountPath == "/":
                yield findings.error(f"{dp}.mountPath", f"{d.mountPath!r} is not an absolute mount path",
                                     "e.g. /var/cpaas; remove it for a raw device")
            elif d.mountPath in mounts:
                yield findings.error(f"{dp}.mountPath", f"{d.mountPath} is mounted twice", "one disk per path")
            mounts.add(d.mountPath.rstrip("/") or "/")
        if (d.mountPath or "").rstrip("/") == ETCD and d.wipeFilesystem is not True:
            yield findings.error(f"{dp}.wipeFilesystem", "the etcd disk must be wiped when its slot is reused: "
                                 "a stale member directory stops the new etcd member from joining",
                                 "set wipeFilesystem: true")
    for need in required:
        if need not in mounts:
            wipe = ", wipeFilesystem: true" if need == ETCD else ""
            yield findings.error(f"{sp}.persistentDisks", f"no persistent disk mounted at {need}",
                                 f"add {{name: {need.strip('/').replace('/', '-')}, sizeGiB: 100, "
                                 f"mountPath: {need}{wipe}}}")
