"""Bare Metal rules (dossier §5.4, §5.10, §7 "BM"), each with the spec field path and a fix."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from acp_install.provider import (
    OS_SUPPORT_MATRIX,
    Finding,
    Findings,
    InstallSpec,
    annotation_findings,
    image_tag_findings,
    matrix_hint,
    netcheck,
    platform_of,
    worker_findings,
)

from .models import BaremetalPlatform, Pool
from .render import SERVER_URL_ANNOTATION

ENDPOINT_TYPES = ("Internal", "External")
VIP_MODES = ("nic", "arp", "policy_route")
TLS_MODES = ("strict", "system-store")
PLATFORM = re.compile(r"^$|^\S+/\S+$")
QUANTITY = re.compile(r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE])?$")
SD_DEVICE = re.compile(r"^/dev/(sd[a-z]+|vd[a-z]+|nvme\d+n\d+)$")
VARIABLE = re.compile(r"\$\{[^}]+\}")
findings = Findings(rule="baremetal")


def _check_endpoint(spec: InstallSpec) -> Iterator[Finding]:
    e = platform_of(spec, BaremetalPlatform).endpoint
    path = "platform.endpoint"
    if e.type not in ENDPOINT_TYPES:
        yield findings.error(f"{path}.type", f"{e.type!r} is not an endpoint type",
                             "use Internal (VRRP VIP) or External (your load balancer); the case matters",
                             "bm-endpoint")
        return
    if not 0 < e.port < 65536:
        yield findings.error(f"{path}.port", f"{e.port} is outside 1-65535", "use 6443", "bm-endpoint")
    if e.type == "Internal":
        if e.vrid is None:
            yield findings.error(f"{path}.vrid", "an Internal endpoint needs a VRRP router id",
                                 "set vrid: 0-255, unique among VRRP speakers in the control plane L2 domain",
                                 "bm-vrid")
        elif not 0 <= e.vrid <= 255:
            yield findings.error(f"{path}.vrid", f"{e.vrid} is outside 0-255", "pick a free VRID 0-255",
                                 "bm-vrid")
        if netcheck.ipv4_error(spec.controlPlaneVIP):
            yield findings.error("controlPlaneVIP", f"{spec.controlPlaneVIP!r}: an Internal (VRRP) VIP must be "
                                 "an IPv4 address", "give an IPv4 VIP in the control plane L2 domain, or use "
                                 "endpoint.type: External", "bm-vip")
        if e.vipMode is not None and e.vipMode not in VIP_MODES:
            yield findings.error(f"{path}.vipMode", f"{e.vipMode!r} is not a VIP mode",
                                 "use nic, arp or policy_route (or remove it for the default nic)", "bm-vip")
    else:
        if e.vrid is not None:
            yield findings.error(f"{path}.vrid", "vrid applies only to an Internal endpoint",
                                 "remove vrid for an External load balancer", "bm-vrid")
        if e.vipMode is not None:
            yield findings.error(f"{path}.vipMode", "vipMode applies only to an Internal endpoint",
                                 "remove vipMode for an External load balancer", "bm-vip")


def _check_pool(spec: InstallSpec, pool: Pool, path: str, replicas: int, what: str,
                seen: dict[str, str]) -> Iterator[Finding]:
    template = platform_of(spec, BaremetalPlatform).registration.machineName
    literal = VARIABLE.split(template)[0]
    if len(pool.inventories) < replicas:
        yield findings.error(f"{path}.inventories", f"{len(pool.inventories)} inventories for {replicas} "
                             f"{what}", "list at least as many registered hosts as replicas (upgrades delete "
                             "then add in the same pool)", "bm-pool-size")
    for i, inv in enumerate(pool.inventories):
        ip = f"{path}.inventories[{i}]"
        yield from findings.global_name(f"{ip}.name", inv.name, "MachineInventory", "bm-name")
        if inv.name in seen:
            yield findings.error(f"{ip}.name", f"{inv.name!r} is already listed at {seen[inv.name]}",
                                 "an inventory belongs to at most one pool, once", "bm-pool-member")
        else:
            seen[inv.name] = ip
        if not inv.name.startswith(literal):
            yield findings.error(f"{ip}.name", f"{inv.name!r} cannot come from registration.machineName "
                                 f"{template!r}", "use the names `kubectl -n cpaas-system get machineinventory` "
                                 "shows after the hosts boot the seed ISO", "bm-inventory-name")
        if inv.hostname is not None and not netcheck.DNS1123_LABEL.match(inv.hostname):
            yield findings.error(f"{ip}.hostname", f"{inv.hostname!r} is not a valid hostname",
                                 "use lowercase letters, digits and '-'", "bm-hostname")
        if inv.ip is not None:
            if netcheck.ip_error(inv.ip):
                yield findings.error(f"{ip}.ip", f"{inv.ip!r} is not an IP address", "give the node IP", "ip")
            elif inv.ip == spec.controlPlaneVIP:
                yield findings.error(f"{ip}.ip", "the control plane VIP is used as a node IP",
                                     "the VIP must be a free address", "bm-vip")


def _check_registration(spec: InstallSpec) -> Iterator[Finding]:
    r = platform_of(spec, BaremetalPlatform).registration
    path = "platform.registration"
    yield from findings.global_name(f"{path}.name", r.name, "MachineRegistration", "bm-name")
    if not r.machineName.startswith("global-"):
        yield findings.error(f"{path}.machineName", f"{r.machineName!r} does not yield global-* inventory "
                             "names", "start it with global-, e.g. global-${System Information/UUID}",
                             "global-prefix")
    if not VARIABLE.search(r.machineName):
        yield findings.error(f"{path}.machineName", "has no ${...} variable: every host would register "
                             "under the same name", "add a per-host variable, e.g. ${System Information/UUID}",
                             "bm-machine-name")
    if not r.installDevice.strip():
        yield findings.error(f"{path}.installDevice", "empty", "give the install disk, e.g. "
                             "/dev/elemental-install-target", "bm-install-device")
    elif not r.installDevice.startswith("/dev/"):
        yield findings.error(f"{path}.installDevice", f"{r.installDevice!r} is not a device path",
                             "give a /dev/... path", "bm-install-device")
    elif SD_DEVICE.match(r.installDevice):
        yield findings.warning(f"{path}.installDevice", f"{r.installDevice} is not a stable disk identity "
                               "(kernel names change between boots on multi-disk hosts)",
                               "use /dev/elemental-install-target with the WWN symlink procedure",
                               "bm-install-device")
    if r.emulatedTPMSeed is not None and not r.emulateTPM:
        yield findings.error(f"{path}.emulatedTPMSeed", "set without emulateTPM",
                             "remove it, or set emulateTPM: true for hosts without /dev/tpm0", "bm-tpm")
    if r.maxSnaps < 2:
        yield findings.error(f"{path}.maxSnaps", f"{r.maxSnaps} < 2 (CRD minimum)", "use 4 (btrfs) or 2",
                             "bm-snapshotter")
    if SERVER_URL_ANNOTATION in r.annotations:
        yield findings.error(f"{path}.annotations", f"{SERVER_URL_ANNOTATION} must not be set during "
                             "bootstrap: hosts must reach the bootstrap endpoint until handoff",
                             "remove the annotation; the handoff sets the post-bootstrap URL",
                             "bm-server-url")


def _writes_resolv_conf(cloud_config: Any) -> bool:
    files = (cloud_config or {}).get("write_files") or []
    return any(isinstance(f, dict) and f.get("path") == "/etc/resolv.conf" for f in files)


def _check_seed_image(spec: InstallSpec) -> Iterator[Finding]:
    s = platform_of(spec, BaremetalPlatform).seedImage
    path = "platform.seedImage"
    yield from findings.global_name(f"{path}.name", s.name, "SeedImage", "bm-name")
    if not s.baseImage.strip():
        yield findings.error(f"{path}.baseImage", "empty", "give the imported base-image-iso reference",
                             "bm-seed-image")
    if s.type not in ("iso", "raw"):
        yield findings.error(f"{path}.type", f"{s.type!r} is not iso or raw", "use iso", "bm-seed-image")
    if not PLATFORM.match(s.targetPlatform):
        yield findings.error(f"{path}.targetPlatform", f"{s.targetPlatform!r} is not os/arch",
                             "e.g. linux/amd64", "bm-seed-image")
    if not QUANTITY.match(s.size):
        yield findings.error(f"{path}.size", f"{s.size!r} is not a quantity", "e.g. 20Gi", "bm-seed-image")
    if s.cleanupAfterMinutes < 0:
        yield findings.error(f"{path}.cleanupAfterMinutes", "must be >= 0", "e.g. 120", "bm-seed-image")
    if _writes_resolv_conf(s.cloudConfig):
        yield findings.error(f"{path}.cloudConfig", "writes /etc/resolv.conf in the live ISO",
                             "configure the resolver in registration.cloudConfig instead", "bm-resolv-conf")


def _check_dr(spec: InstallSpec) -> Iterator[Finding]:
    p = platform_of(spec, BaremetalPlatform)
    if spec.dr is None:
        if p.dr is not None:
            yield findings.warning("platform.dr", "ignored without the spec's dr: section",
                                   "add dr: or remove platform.dr", "bm-dr")
        if p.encryptionProviderConfig is not None and not p.documentedFields.encryptionProviderConfigRef:
            yield findings.error("platform.documentedFields.encryptionProviderConfigRef",
                                 "platform.encryptionProviderConfig is delivered only through "
                                 "BaremetalCluster.spec.encryptionProviderConfigRef, which the CRD snapshot "
                                 "lacks", "confirm `kubectl explain baremetalcluster.spec."
                                 "encryptionProviderConfigRef` works on your provider version, then set it "
                                 "to true", "bm-encryption")
        return
    if p.encryptionProviderConfig is not None:
        yield findings.error("platform.encryptionProviderConfig", "a DR install renders the shared "
                             "configuration from dr.encryptionKey", "remove platform.encryptionProviderConfig "
                             "(it is the non-DR opt-in)", "bm-encryption")
    if not p.documentedFields.encryptionProviderConfigRef:
        yield findings.error("platform.documentedFields.encryptionProviderConfigRef",
                             "Bare Metal DR delivers the encryption config only through "
                             "BaremetalCluster.spec.encryptionProviderConfigRef, which the CRD snapshot "
                             "lacks (an API server would prune it and DR would silently run unencrypted)",
                             "confirm `kubectl explain baremetalcluster.spec.encryptionProviderConfigRef` "
                             "works on your provider version, then set it to true", "bm-dr-encryption")
    if p.dr is None:
        yield findings.error("platform.dr", "DR needs the shared service-account signing key",
                             "add platform.dr: {serviceAccountKey: {file: ...}, serviceAccountPublicKey: "
                             "{file: ...}} (openssl genrsa 2048; identical on both sides)", "bm-dr-sa-key")
    want = f"{spec.platformHost}:11443"
    if spec.registryDomain != want:
        yield findings.error("registryDomain", f"DR on Bare Metal sends registry.domain {want} on both "
                             f"sides, not {spec.registryDomain!r}", f"set registryDomain: {want}",
                             "bm-registry-domain")
    if spec.console.cert.thirdParty is None:
        yield findings.error("console.cert.thirdParty", "a Bare Metal DR pair needs one thirdParty "
                             "console certificate trusted by both sides: with each side's self-signed "
                             "certificate, system-agents fail TLS after DNS moves to the standby",
                             "set console.cert.thirdParty {certificate, privateKey} to a chain whose SANs "
                             "cover platformHost, both VIPs and the platform ingress service names",
                             "bm-dr-cert")


def check(spec: InstallSpec) -> Iterator[Finding]:
    """Every Bare Metal rule; all findings, not just the first."""
    p = platform_of(spec, BaremetalPlatform)
    fmt = spec.controlPlane.format
    if fmt is not None and fmt != "cloud-config":
        yield findings.error("controlPlane.format", f"{fmt!r}: Bare Metal bootstrap data is cloud-config",
                             "remove the field or set cloud-config", "format")
    if spec.controlPlane.replicas < 3:
        internal = " (an Internal VIP also needs at least 3)" \
            if platform_of(spec, BaremetalPlatform).endpoint.type == "Internal" else ""
        yield findings.error("controlPlane.replicas", f"{spec.controlPlane.replicas}: a single or two-node "
                             f"Bare Metal control plane is unsupported{internal}", "use replicas: 3",
                             "bm-replicas")
    yield from _check_endpoint(spec)
    yield from _check_registration(spec)
    yield from _check_seed_image(spec)
    seen: dict[str, str] = {}
    yield from _check_pool(spec, p.controlPlane, "platform.controlPlane",
                           spec.controlPlane.replicas, "control plane replicas", seen)
    yield from worker_findings(p.workers, findings, rule="bm-worker")
    for i, w in enumerate(p.workers):
        wp = f"platform.workers[{i}]"
        yield from findings.global_name(f"{wp}.name", w.name, "MachineDeployment", "bm-name")
        yield from _check_pool(spec, w, wp, w.replicas, "worker replicas", seen)
    if p.agentTLSMode not in TLS_MODES:
        yield findings.error("platform.agentTLSMode", f"invalid agent-tls-mode {p.agentTLSMode!r}",
                             'use "strict" or "system-store"', "bm-tls-mode")
    if p.imageCatalog is not None:
        if spec.k8sVersion not in p.imageCatalog:
            yield findings.error("platform.imageCatalog", f"no entry for k8sVersion {spec.k8sVersion}: "
                                 "machines would fail with ImageCatalogMiss",
                                 f"add '{spec.k8sVersion}: <elemental upgrade base image>'", "bm-catalog")
        for key in p.imageCatalog:
            if not key.startswith("v"):
                yield findings.error(f"platform.imageCatalog.{key}", "catalog keys are v-prefixed versions",
                                     f"rename it to v{key}", "bm-catalog")
    else:
        yield findings.warning("platform.imageCatalog", f"not set: the chart's elemental-image-catalog must "
                               f"contain {spec.k8sVersion}, or machines fail with ImageCatalogMiss",
                               "set imageCatalog, or check the ConfigMap after Step 3", "bm-catalog")
    policy = p.documentedFields.allocationPolicy
    if policy is not None and policy != "Ordered":
        yield findings.error("platform.documentedFields.allocationPolicy", f"{policy!r}: only Ordered is "
                             "documented", "use Ordered or remove it", "bm-allocation")
    if p.networkType is not None and p.networkType != "kube-ovn":
        yield findings.warning("platform.networkType", f"{p.networkType!r}: the provider skips Kube-OVN "
                               "reconciliation for any value but kube-ovn", "use kube-ovn", "bm-network")
    if spec.kubeOvnJoinCIDR is None and "cpaas.io/kube-ovn-join-cidr" not in p.clusterAnnotations:
        yield findings.warning("kubeOvnJoinCIDR", "not set: the Bare Metal global fragment carries "
                               "cpaas.io/kube-ovn-join-cidr", "set kubeOvnJoinCIDR [KUBE_OVN_JOIN_CIDR]",
                               "bm-join-cidr")
    yield from image_tag_findings(findings, dns_image_tag=p.dnsImageTag, etcd_image_tag=p.etcdImageTag,
                                  k8s_version=spec.k8sVersion, kube_ovn_version=p.kubeOvnVersion,
                                  also="; they must match the images baked into the base image")
    yield from annotation_findings(findings, "platform.clusterAnnotations", p.clusterAnnotations)
    if not p.kubeOvnVersion and "cpaas.io/kube-ovn-version" not in p.clusterAnnotations:
        yield findings.warning("platform.kubeOvnVersion", "not set: the recommended Cluster annotation "
                               "cpaas.io/kube-ovn-version is not rendered (the provider falls back to the "
                               "kube-ovn ModulePlugin version)",
                               "set it to the kube-ovn (chart) column of your release's row in the "
                               f"{OS_SUPPORT_MATRIX}{matrix_hint(spec.k8sVersion, 'kubeOvnChart')}",
                               "annotations")
    bootstrap = {spec.bootstrapRegistryAddress, spec.localRegistryAddress,
                 spec.node_registry_address}
    if spec.registryDomain in bootstrap:
        yield findings.error("registryDomain", f"{spec.registryDomain} is the bootstrap registry, which is "
                             "deleted with the bootstrap host", "use the VIP or platform domain with :11443",
                             "bm-registry-domain")
    for i, key in enumerate(p.sshAuthorizedKeys):
        if not key.strip().startswith(("ssh-", "ecdsa-", "sk-")):
            yield findings.error(f"platform.sshAuthorizedKeys[{i}]", "not an OpenSSH public key",
                                 "paste the one-line key, e.g. 'ssh-ed25519 AAAA... user@host'", "bm-ssh")
    if p.importRuntimeSecrets:
        yield findings.warning("platform.importRuntimeSecrets", "plan and kubeadm bootstrap-data Secret names "
                               "exist only once hosts are allocated: extra-resources.yaml lists them only "
                               "when re-derived from the live cluster",
                               "the engine re-derives Step 7 before the POST; by hand, see "
                               "docs/providers/baremetal.md (Step 7)", "bm-step7")
    yield from _check_dr(spec)
