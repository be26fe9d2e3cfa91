"""The core's own rules on the spec (providers add theirs via ``acp_validate``).

They also run on a partially structured spec: each rule reads only fields that structured.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable, Collection, Iterator

from .. import netcheck
from ..errors import SecretError
from ..records import Finding
from ..secrets import SecretRef
from .model import API_VERSION, KIND, InstallSpec


def _err(path: str, message: str, fix: str, rule: str) -> Finding:
    return Finding("error", path, message, fix=fix, rule=rule)


def _warn(path: str, message: str, fix: str, rule: str) -> Finding:
    return Finding("warning", path, message, fix=fix, rule=rule)


class Fields:
    """Which spec fields structured: a rule that reads a broken one is skipped, never faked.

    ``ok("dr.role")`` is false when ``dr.role``, an ancestor (``dr``) or a descendant failed to
    structure, so the loader can run every other rule beside the structural errors.
    """

    def __init__(self, broken: Collection[str] = ()) -> None:
        self.broken = frozenset(broken)

    def ok(self, *paths: str) -> bool:
        return not any(b == p or p.startswith(b + ".") or b.startswith(p + ".") or b == ""
                       for p in paths for b in self.broken)


def check(spec: InstallSpec, broken: Collection[str] = ()) -> Iterator[Finding]:
    """Every common rule; yields all findings rather than stopping at the first.

    ``broken`` names the fields that failed to structure (they hold a placeholder): every rule
    that reads one of them is skipped, the others run.
    """
    ok = Fields(broken).ok
    if ok("apiVersion") and spec.apiVersion != API_VERSION:
        yield _err("apiVersion", f"unsupported apiVersion {spec.apiVersion!r}",
                   f"use apiVersion: {API_VERSION}", "spec-version")
    if ok("kind") and spec.kind != KIND:
        yield _err("kind", f"unsupported kind {spec.kind!r}", f"use kind: {KIND}", "spec-kind")
    if ok("k8sVersion") and not netcheck.K8S_VERSION.match(spec.k8sVersion):
        yield _err("k8sVersion", f"{spec.k8sVersion!r} is not a v-prefixed semantic version",
                   "use the version of the OS image, e.g. v1.34.5-3", "k8s-version")
    elif ok("k8sVersion"):
        from ..providerkit import version_findings

        yield from version_findings(spec)
    if ok("packages", "dr"):
        from ..providerkit import kubeadm_findings

        yield from kubeadm_findings(spec)

    for field in ("hostIP", "controlPlaneVIP"):
        problem = netcheck.ip_error(getattr(spec, field)) if ok(field) else None
        if problem:
            yield _err(field, problem, "give an IPv4 or IPv6 address", "ip")
    problem = netcheck.host_error(spec.platformHost) if ok("platformHost") else None
    if problem:
        yield _err("platformHost", problem, "give the platform access domain or VIP", "host")

    cidrs = {f: getattr(spec, f) for f in ("clusterCIDR", "serviceCIDR", "kubeOvnJoinCIDR")
             if ok(f) and getattr(spec, f) is not None}
    valid = {}
    for field, value in cidrs.items():
        problem = netcheck.cidr_error(value)
        if problem:
            yield _err(field, problem, "write the network address with its prefix, e.g. 100.3.0.0/16",
                       "cidr")
        else:
            valid[field] = value
    names = list(valid)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if netcheck.overlaps(valid[a], valid[b]):
                yield _err(b, f"{b} {valid[b]} overlaps {a} {valid[a]}",
                           "pick non-overlapping ranges for pods, services and the join network",
                           "cidr-overlap")
    for field, value in valid.items():
        for ip_field in ("controlPlaneVIP", "hostIP"):
            if ok(ip_field) and netcheck.in_cidr(getattr(spec, ip_field), value):
                yield _err(ip_field, f"{ip_field} {getattr(spec, ip_field)} lies inside {field} {value}",
                           "node and VIP addresses must be outside the pod, service and join networks",
                           "ip-in-cidr")

    registries = {f: getattr(spec, f) for f in ("localRegistryAddress", "bootstrapRegistryAddress",
                                                 "registryDomain", "nodeRegistryAddress")
                  if ok(f) and getattr(spec, f) is not None}
    for field, value in registries.items():
        problem = netcheck.registry_address_error(value)
        if problem:
            yield _err(field, problem, "write host:port, e.g. 192.168.1.10:11443", "registry-address")

    yield from _check_node_facing(spec, ok)
    if ok("console.cert.thirdParty"):
        yield from _check_console_cert(spec, ok)

    if ok("ingressClassName") and not netcheck.DNS1123_LABEL.match(spec.ingressClassName):
        yield _err("ingressClassName", f"{spec.ingressClassName!r} is not a DNS-1123 label",
                   "use lowercase letters, digits and '-'", "dns1123")
    if ok("providerSecretName"):
        yield from _check_secret_name(spec.providerSecretName)

    yield from _check_control_plane(spec, ok)
    if ok("dr") and spec.dr is not None:
        yield from _check_dr(spec, ok)


def _check_node_facing(spec: InstallSpec, ok: Callable[..., bool]) -> Iterator[Finding]:
    """The node registry and the registry domain are dialled from the new nodes' subnet.

    A loopback, link-local or KIND-network address is right on the bootstrap host and wrong on
    every node: kube-system images never pull and the install stalls far from the cause.
    """
    kind = spec.kindNetworkCIDR if ok("kindNetworkCIDR") else None
    if kind is not None:
        problem = netcheck.cidr_error(kind)
        if problem:
            yield _err("kindNetworkCIDR", problem, "give the KIND network, e.g. 172.18.0.0/16 "
                       "(docker network inspect kind)", "cidr")
            kind = None
    targets: list[tuple[str, str, str]] = []  # (path, host, what)
    if ok("nodeRegistryAddress") and spec.nodeRegistryAddress is not None:
        if netcheck.registry_address_error(spec.nodeRegistryAddress) is None:  # else reported above
            targets.append(("nodeRegistryAddress", netcheck.registry_host(spec.nodeRegistryAddress),
                            "nodeRegistryAddress"))
    elif ok("nodeRegistryAddress", "hostIP"):
        targets.append(("hostIP", spec.hostIP, "hostIP (nodeRegistryAddress is derived from it)"))
    if ok("registryDomain") and netcheck.registry_address_error(spec.registryDomain) is None:
        targets.append(("registryDomain", netcheck.registry_host(spec.registryDomain), "registryDomain"))
    for path, host, what in targets:
        problem = netcheck.unreachable_from_nodes(host, kind)
        if problem:
            yield _err(path, f"{what} must be reachable from the node subnet: {problem}",
                       "use the bootstrap host's address on the node subnet (or the platform "
                       "domain/VIP for registryDomain)", "node-facing")
    if (ok("nodeRegistryAddress", "hostIP") and spec.nodeRegistryAddress is not None
            and netcheck.registry_address_error(spec.nodeRegistryAddress) is None
            and netcheck.ip_error(spec.hostIP) is None):
        host = netcheck.registry_host(spec.nodeRegistryAddress)
        if netcheck.ip_error(host) is None and host != spec.hostIP:
            yield _warn("nodeRegistryAddress", f"{host} is not hostIP {spec.hostIP}: the nodes "
                        "pull from the bootstrap host's registry, so it must be that host's "
                        "address on the node subnet", "leave nodeRegistryAddress unset (hostIP:11443) "
                        "or give the bootstrap host's node-subnet address", "node-registry-side")


def _check_console_cert(spec: InstallSpec, ok: Callable[..., bool]) -> Iterator[Finding]:
    """The third-party console certificate: complete key names, and SANs covering the
    addresses clients dial (checked when the certificate can be read now)."""
    tp = spec.console.cert.thirdParty
    if tp is None:
        return
    base = "console.cert.thirdParty"
    if ok(f"{base}.pkcs12", f"{base}.keys.pkcs12") and tp.pkcs12 is not None and not tp.keys.pkcs12:
        yield _err(f"{base}.keys.pkcs12", "pkcs12 is given but the installer's key name for it "
                   "is not documented", "set keys.pkcs12 to the key your release expects, or "
                   "drop pkcs12 (the chain and key are enough)", "third-party-cert")
    names = [spec.platformHost] if ok("platformHost") else []
    if ok("dr") and spec.dr is not None and ok("dr.primaryVIP", "dr.standbyVIP"):
        names += [spec.dr.primaryVIP, spec.dr.standbyVIP]
    if not names or not ok(f"{base}.certificate") or not tp.certificate.available():
        return
    from ..certs import CertificateError, missing_sans

    try:
        missing = missing_sans(tp.certificate.reveal().get(), names)
    except (SecretError, CertificateError):
        yield _err(f"{base}.certificate", f"the value from {tp.certificate.source} is not a PEM "
                   "certificate chain", "point it at the PEM full chain (server certificate "
                   "first)", "third-party-cert")
        return
    if missing:
        yield _err(f"{base}.certificate", f"the certificate's SANs do not cover {', '.join(missing)}",
                   "reissue it with every platform address (platformHost" +
                   (", both DR VIPs" if spec.dr is not None else "") + ") as a SAN",
                   "third-party-cert")


def _check_secret_name(name: str) -> Iterator[Finding]:
    if not netcheck.DNS1123_SUBDOMAIN.match(name):
        yield _err("providerSecretName", f"{name!r} is not a valid object name",
                   "use lowercase letters, digits, '-' and '.'", "dns1123")
    elif not name.startswith("global-"):
        yield _warn("providerSecretName", f"{name!r} does not start with 'global-'",
                    "name global-owned credentials global-... so DR recognises them", "naming")


def _check_audit_policy(path: str) -> Iterator[Finding]:
    """The file is embedded verbatim into every control-plane node: it must be what its name
    says (an ``audit.k8s.io`` Policy), not any readable file (``/etc/passwd`` would otherwise
    land in a world-readable manifest and break the API server's start)."""
    from ..inputs import UnreadableInput, read_text
    from ..yamlio import YamlSyntaxError, load_all

    field, fix = "controlPlane.auditPolicyFile", "give the path of the release manifest's audit Policy file"
    try:
        docs = load_all(read_text(path, limit=1 << 20, what="audit policy file"))
    except UnreadableInput as err:
        yield _err(field, f"{path!r}: {err.message}", fix, "audit-policy")
        return
    except YamlSyntaxError as err:
        yield _err(field, f"{path!r} is not YAML ({err})", fix, "audit-policy")
        return
    data = docs[0][0] if len(docs) == 1 else None
    if not (isinstance(data, dict) and data.get("kind") == "Policy"
            and str(data.get("apiVersion", "")).startswith("audit.k8s.io/")):
        yield _err(field, f"{path!r} is not an audit Policy (one YAML document with "
                   "apiVersion audit.k8s.io/v1 and kind Policy)", fix, "audit-policy")


def _check_control_plane(spec: InstallSpec, ok: Callable[..., bool]) -> Iterator[Finding]:
    if ok("controlPlane.apiServerExtraArgs"):
        for key in spec.controlPlane.apiServerExtraArgs:
            if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", key):
                yield _err(f"controlPlane.apiServerExtraArgs.{key}", f"{key!r} is not a kube-apiserver "
                           "flag name", "write the flag name without '--', e.g. audit-log-maxage",
                           "apiserver-args")
    if ok("controlPlane.auditPolicyFile"):
        audit = spec.controlPlane.auditPolicyFile
        # unset is the normal case: the provider renders its published audit policy
        if audit is not None and (not os.path.isfile(audit) or not os.access(audit, os.R_OK)):
            yield _err("controlPlane.auditPolicyFile", f"{audit!r} is not a readable file",
                       "give the path of a readable audit Policy file, or remove the field to "
                       "use the provider's published policy", "audit-policy")
        elif audit is not None:
            yield from _check_audit_policy(audit)

    fmt = spec.controlPlane.format if ok("controlPlane.format") else None
    if fmt is not None and fmt not in ("ignition", "cloud-config"):
        hint = ("'cloud-init' is the guest software; the API value is cloud-config"
                if fmt == "cloud-init" else "the Cluster API accepts only ignition or cloud-config")
        yield _err("controlPlane.format", f"invalid format {fmt!r}: {hint}",
                   "remove it to use the provider's format", "format")

    if not ok("controlPlane.replicas"):
        return
    replicas = spec.controlPlane.replicas
    if replicas < 1:
        yield _err("controlPlane.replicas", "must be at least 1", "use 3", "replicas")
    elif replicas < 3:
        yield _warn("controlPlane.replicas", f"{replicas} control plane node(s): the global "
                    "cluster is not highly available", "use 3 replicas", "replicas")
    elif replicas % 2 == 0:
        yield _warn("controlPlane.replicas", f"{replicas} is even: etcd gains no fault tolerance "
                    "over one fewer member", "use an odd number (3 or 5)", "replicas")


def _check_dr(spec: InstallSpec, ok: Callable[..., bool]) -> Iterator[Finding]:
    dr = spec.dr
    assert dr is not None
    for field in ("primaryVIP", "standbyVIP"):
        problem = netcheck.ip_error(getattr(dr, field)) if ok(f"dr.{field}") else None
        if problem:
            yield _err(f"dr.{field}", problem, "give the HA VIP of that side", "ip")
    if ok("dr.primaryVIP", "dr.standbyVIP") and dr.primaryVIP == dr.standbyVIP:
        yield _err("dr.standbyVIP", "primary and standby VIPs are the same",
                   "each side has its own HA VIP", "dr-vips")
    if ok("dr.role"):
        side = "dr.primaryVIP" if dr.role == "primary" else "dr.standbyVIP"
        if ok(side, "controlPlaneVIP"):
            local = dr.primaryVIP if dr.role == "primary" else dr.standbyVIP
            if local != spec.controlPlaneVIP:
                yield _err("controlPlaneVIP",
                           f"this is the {dr.role} side, so controlPlaneVIP must be the {dr.role} "
                           f"VIP {local}", f"set controlPlaneVIP: {local}", "dr-vips")
    if ok("dr.encryptionKey"):
        yield from _check_encryption_key(dr.encryptionKey)
    if ok("dr.role", "dr.etcdSyncVersion") and dr.role == "standby" and not dr.etcdSyncVersion:
        yield _warn("dr.etcdSyncVersion", "not set: the runbook's global-etcd-sync ModuleInfo "
                    "(standby only) has a placeholder version",
                    "set the global-etcd-sync version of the release", "dr-etcd-sync")
    if ok("platformHost") and netcheck.ip_error(spec.platformHost) is None:
        yield _warn("platformHost", "DR needs the platform address to be a DNS name that is "
                    "switched from the primary to the standby VIP",
                    "use a domain name for platformHost", "dr-domain")


def _check_encryption_key(ref: SecretRef) -> Iterator[Finding]:
    """aescbc keys are base64 of 16, 24 or 32 bytes; kube-apiserver refuses to start otherwise.

    Checked only when the reference can be read now (render without secrets needs no value);
    the message names the reference, never the value.
    """
    if not ref.available():
        return
    try:
        value = ref.reveal().get()
        size = len(base64.b64decode(value, validate=True))
    except (SecretError, binascii.Error, ValueError):
        size = -1
    if size not in (16, 24, 32):
        yield _err("dr.encryptionKey", f"the value from {ref.source} is not the base64 of a 16, 24 "
                   "or 32-byte key", "generate one with: head -c 32 /dev/urandom | base64",
                   "dr-encryption-key")
