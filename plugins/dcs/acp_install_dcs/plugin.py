"""Huawei DCS provider: hook implementations.

Renders the DCS objects of the global manifest (credential Secret, ``DCSIpHostnamePool``,
``DCSMachineTemplate``, ``DCSCluster global``), the DCS part of the kubeadm body, the installer
request (``console.host`` = the VIP, ``cluster`` block with ``features.ha``), and checks the DCS
rules before anything is applied.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from acp_install.provider import (
    DRContribution,
    Finding,
    ImportEntry,
    InstallerHA,
    InstallerPayloadPart,
    InstallSpec,
    KubeadmContribution,
    ObjectRef,
    ProviderInfo,
    ProviderManifest,
    ProviderPackage,
    SpecExample,
    WorkerGroup,
    crd_data,
    encryption_config,
    hookimpl,
    netcheck,
    object_meta,
    provider_package,
    templating,
)

from .models import DcsPlatform, Machines, PoolSlot

INFRA = "infrastructure.cluster.x-k8s.io/v1beta1"
FORMAT = "ignition"
RELEASE = "cluster-api-provider-dcs"
CP_POOL = "global-cp-pool"
CP_TEMPLATE = "global-cp-template"
ENCRYPTION_SECRET = "encryption-provider-config"
CP_DISKS = ("/var/lib/etcd", "/var/lib/kubelet", "/var/lib/containerd")
WORKER_DISKS = ("/var/lib/kubelet", "/var/lib/containerd")
PRE_KUBEADM = (
    'while ! ip route | grep -q "default via"; do sleep 1; done; echo "NetworkManager started"',
    "mkdir -p /run/cluster-api && restorecon -Rv /run/cluster-api",
    "if [ -f /etc/disk-setup.sh ]; then bash /etc/disk-setup.sh; fi",
)
KUBELET_ARGS = {
    # PROVIDER_ID and NODE_IP are literals the DCS provider replaces at join time
    "provider-id": "PROVIDER_ID",
    "volume-plugin-dir": "/opt/libexec/kubernetes/kubelet-plugins/volume/exec/",
    "protect-kernel-defaults": "true",
}
SSH_KEY = re.compile(
    r"^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)"
    r" [A-Za-z0-9+/]+={0,3}( .*)?$"
)


def _platform(spec: InstallSpec) -> DcsPlatform:
    platform: DcsPlatform = spec.platform
    return platform


@hookimpl
def acp_provider_info() -> ProviderInfo:
    return ProviderInfo(
        id="dcs",
        display_name="Huawei DCS",
        contract="1",
        infra_cluster_kind="DCSCluster",
        cluster_type="DCS",
        bootstrap_format=FORMAT,
        platform_type=DcsPlatform,
        installer_endpoint="/cpaas-installer/api/config/dcs",  # the procedure: every provider
        import_configmap="dcs-import-extra-resources",  # Step 7, the name is historical
        chart_cluster_type="Baremetal",  # charts' global.cluster.type, not the IaaS
    )


@hookimpl
def acp_packages(spec: InstallSpec) -> list[ProviderPackage]:
    return [provider_package(spec, RELEASE, "dcsclusters.infrastructure.cluster.x-k8s.io")]


def _pool(spec: InstallSpec, name: str, machines: Machines) -> dict[str, Any]:
    return {"apiVersion": INFRA, "kind": "DCSIpHostnamePool", "metadata": object_meta(spec, name),
            "spec": {"pool": crd_data(machines.pool)}}


def _template(spec: InstallSpec, name: str, pool: str, m: Machines) -> dict[str, Any]:
    vm: dict[str, Any] = {}
    for key in ("dvSwitchName", "portGroupName", "portGroupUrn", "cdRomDatastoreName",
                "cdRomDatastoreClusterName"):
        if getattr(m, key) is not None:
            vm[key] = getattr(m, key)
    vm["dcsMachineCpuSpec"] = {"quantity": m.cpu}
    vm["dcsMachineMemorySpec"] = {"quantity": m.memoryMB}
    vm["dcsMachineDiskSpec"] = crd_data(m.disks)
    body: dict[str, Any] = {"vmTemplateName": m.vmTemplateName}
    if m.location is not None:
        body["location"] = crd_data(m.location)
    if m.resource is not None:
        body["resource"] = crd_data(m.resource)
    body["vmConfig"] = vm
    body["ipHostPoolRef"] = {"name": pool}
    return {"apiVersion": INFRA, "kind": "DCSMachineTemplate", "metadata": object_meta(spec, name),
            "spec": {"template": {"spec": body}}}


def _secret(spec: InstallSpec) -> dict[str, Any]:
    c = _platform(spec).credentials
    data: dict[str, Any] = {"authUser": c.authUser, "authKey": c.authKey, "endpoint": c.endpoint}
    if c.site is not None:
        data["site"] = c.site
    if c.userType is not None:
        data["userType"] = c.userType
    return {"apiVersion": "v1", "kind": "Secret", "metadata": object_meta(spec, spec.providerSecretName),
            "type": c.secretType, "stringData": data}


def _cluster(spec: InstallSpec) -> dict[str, Any]:
    p = _platform(spec)
    endpoint = {"host": spec.controlPlaneVIP, "port": p.loadBalancer.port}
    body: dict[str, Any] = {
        "controlPlaneLoadBalancer": {"type": p.loadBalancer.type, **endpoint},
        "controlPlaneEndpoint": dict(endpoint),
        "credentialSecretRef": {"name": spec.providerSecretName},
        "networkType": "kube-ovn",
    }
    if p.credentials.site is not None:
        body["site"] = p.credentials.site
    if p.controlPlaneHA is not None:
        body["controlPlaneHA"] = {"enabled": p.controlPlaneHA}
    annotations = {"cpaas.io/registry-address": spec.node_registry_address}
    return {"apiVersion": INFRA, "kind": "DCSCluster",
            "metadata": object_meta(spec, "global", annotations=annotations), "spec": body}


def _kubeadm(p: DcsPlatform, *, worker: bool) -> KubeadmContribution:
    users = ({"name": "boot", "sshAuthorizedKeys": list(p.sshAuthorizedKeys)},)
    join_args = {**KUBELET_ARGS, "node-ip": "NODE_IP"}
    if worker:
        return KubeadmContribution(
            users=users, pre_kubeadm_commands=PRE_KUBEADM,
            join_configuration={"nodeRegistration": {"kubeletExtraArgs": join_args}},
            kubelet_config={"clientCAFile": "/etc/kubernetes/pki/ca.crt"},
        )
    cp_args = {"node-labels": "kube-ovn/role=master"}
    cluster_cfg: dict[str, Any] = {}
    if p.imageRepository:
        cluster_cfg["imageRepository"] = p.imageRepository
    if p.dnsImageTag:
        cluster_cfg["dns"] = {"imageTag": p.dnsImageTag}
    if p.etcdImageTag:
        cluster_cfg["etcd"] = {"local": {"imageTag": p.etcdImageTag}}
    return KubeadmContribution(
        users=users,
        pre_kubeadm_commands=PRE_KUBEADM,
        cluster_configuration=cluster_cfg,
        init_configuration={"nodeRegistration": {"kubeletExtraArgs": {**cp_args, **KUBELET_ARGS}}},
        join_configuration={"nodeRegistration": {"kubeletExtraArgs": {**cp_args, **join_args}}},
        kubelet_config={"clientCAFile": "/etc/kubernetes/pki/ca.crt"},
    )


@hookimpl
def acp_manifest(spec: InstallSpec) -> Iterator[ProviderManifest]:
    p = _platform(spec)
    objects = [_secret(spec), _pool(spec, CP_POOL, p.controlPlane),
               _template(spec, CP_TEMPLATE, CP_POOL, p.controlPlane)]
    groups = []
    for w in p.workers:
        pool, template = f"{w.name}-pool", f"{w.name}-template"
        objects += [_pool(spec, pool, w), _template(spec, template, pool, w)]
        groups.append(WorkerGroup(name=w.name, replicas=w.replicas,
                                  infrastructure=ObjectRef(INFRA, "DCSMachineTemplate", template),
                                  kubeadm=_kubeadm(p, worker=True)))
    objects.insert(3, _cluster(spec))
    annotations: dict[str, str] = {}
    if p.kubeOvnVersion:
        annotations["cpaas.io/kube-ovn-version"] = p.kubeOvnVersion
    if p.osFamily:
        annotations["cpaas.io/os-family"] = p.osFamily
    yield ProviderManifest(
        objects=tuple(objects),
        control_plane_template=ObjectRef(INFRA, "DCSMachineTemplate", CP_TEMPLATE),
        kubeadm=_kubeadm(p, worker=False),
        kcp_annotations={"controlplane.cluster.x-k8s.io/skip-kube-proxy": ""},
        cluster_annotations=annotations,
        workers=tuple(groups),
    )


@hookimpl
def acp_extra_resources(spec: InstallSpec,
                        objects: Sequence[Mapping[str, Any]]) -> list[ImportEntry]:
    """The credential Secret the DCSCluster actually references (current docs)."""
    if not _platform(spec).importExtraResources:
        return []
    names = sorted({
        o["spec"]["credentialSecretRef"]["name"] for o in objects
        if o.get("kind") == "DCSCluster" and o.get("spec", {}).get("credentialSecretRef")
    })
    return [ImportEntry("secrets", names=tuple(names), method="kubectl")] if names else []


@hookimpl
def acp_installer_payload(spec: InstallSpec) -> InstallerPayloadPart:
    # DCS uses a third-party control plane VIP: console.host and features.ha point at it.
    return InstallerPayloadPart(console_hosts=(spec.controlPlaneVIP,), cluster=True,
                                ha=InstallerHA(vip=spec.controlPlaneVIP))


@hookimpl
def acp_dr_fields(spec: InstallSpec, role: str) -> Iterator[DRContribution]:
    """DCS delivers the shared encryption config by Secret reference, never as a KCP file.

    The Secret is also imported at Step 7 (safe side of providers.md §10.7): the final DCSCluster
    references it, so the new cluster must have it too.
    """
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": object_meta(spec, ENCRYPTION_SECRET),
              "type": "Opaque", "stringData": {"encryption-provider.conf": encryption_config(spec)}}
    imports = (ImportEntry("secrets", names=(ENCRYPTION_SECRET,), method="kubectl"),)
    yield DRContribution(
        objects=(secret,),
        infra_cluster_spec={"encryptionProviderConfigRef": {"name": ENCRYPTION_SECRET}},
        import_entries=imports if _platform(spec).importExtraResources else (),
    )


@hookimpl
def acp_spec_example() -> SpecExample:
    return SpecExample(templating.render("platform-example.yaml.j2", package="acp_install_dcs"))


# --- validation ---------------------------------------------------------------------------------


def _e(path: str, message: str, fix: str, rule: str = "dcs") -> Finding:
    return Finding("error", path, message, fix=fix, rule=rule)


class _Taken:
    """Node IPs, hostnames and DCS VM names already used, across the control plane pool and
    every worker pool (each becomes a node or a VM of the same cluster)."""

    def __init__(self) -> None:
        self.ips: dict[str, str] = {}
        self.hostnames: dict[str, str] = {}
        self.machine_names: dict[str, str] = {}


def _unique(taken: dict[str, str], value: str, path: str, what: str, fix: str) -> Iterator[Finding]:
    if value in taken:
        yield _e(path, f"{what} {value!r} is already used by {taken[value]}", fix)
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
        yield _e(f"{sp}.gateway", f"gateway {slot.gateway} is outside the slot's subnet {net} "
                 f"(ip {slot.ip}, mask {slot.mask})",
                 "give the gateway of the node's subnet, or correct mask (a prefix length)")
    elif str(gateway) == slot.ip:
        yield _e(f"{sp}.gateway", "the gateway is the node IP itself",
                 "give the subnet's router address as gateway")


def _check_machines(spec: InstallSpec, m: Machines, path: str, required: Sequence[str],
                    replicas: int, taken: _Taken) -> Iterator[Finding]:
    systems = [i for i, d in enumerate(m.disks) if d.systemVolume]
    if len(systems) != 1:
        yield _e(f"{path}.disks", f"{len(systems)} disks have systemVolume: true",
                 "mark exactly one disk systemVolume: true")
    paths = [d.path for d in m.disks if d.path]
    for need in required:
        if need not in paths:
            yield _e(f"{path}.disks", f"no template disk mounted at {need}",
                     f"add a disk with path: {need}")
    for i, d in enumerate(m.disks):
        sel = [x for x in (d.datastoreName, d.datastoreClusterName, d.datastoreUrn) if x]
        if len(sel) > 1 or (not sel and not d.systemVolume):
            yield _e(f"{path}.disks[{i}]", "give exactly one of datastoreName, "
                     "datastoreClusterName, datastoreUrn", "keep one datastore selector")
        if d.path == "/var/cpaas":
            yield _e(f"{path}.disks[{i}].path", "/var/cpaas on a template disk is not preserved "
                     "across rolling replacement", "declare /var/cpaas as a pool persistentDisk")
        if d.quantity < 0:
            yield _e(f"{path}.disks[{i}].quantity", "must be >= 0", "size in GB (0 = template)")
    if len(m.pool) < replicas:
        yield _e(f"{path}.pool", f"{len(m.pool)} slot(s) for {replicas} replicas",
                 "add a pool slot per machine (pool size >= replicas)")
    for i, slot in enumerate(m.pool):
        sp = f"{path}.pool[{i}]"
        if netcheck.ipv4_error(slot.ip):
            yield _e(f"{sp}.ip", f"{slot.ip!r} is not an IPv4 address", "give the node IPv4")
        else:
            yield from _unique(taken.ips, slot.ip, f"{sp}.ip", "IP",
                               "give every slot its own IP")
        if slot.ip == spec.controlPlaneVIP:
            yield _e(f"{sp}.ip", "the control plane VIP is used as a node IP",
                     "the VIP must not be inside a node pool")
        if not re.fullmatch(r"\d{1,2}", slot.mask) or not 0 < int(slot.mask) <= 32:
            yield _e(f"{sp}.mask", f"{slot.mask!r} is not a prefix length",
                     'write the prefix length as a string, e.g. mask: "24"')
        if netcheck.ip_error(slot.gateway):
            yield _e(f"{sp}.gateway", f"{slot.gateway!r} is not an IP address", "give the gateway IP")
        else:
            yield from _check_gateway(slot, sp)
        if not netcheck.DNS1123_SUBDOMAIN.match(slot.hostname):
            yield _e(f"{sp}.hostname", f"{slot.hostname!r} is not a valid hostname",
                     "use lowercase letters, digits, '-' and '.'")
        else:
            yield from _unique(taken.hostnames, slot.hostname, f"{sp}.hostname", "hostname",
                               "give every slot its own hostname (it becomes the node name)")
        if slot.machineName is not None:
            yield from _unique(taken.machine_names, slot.machineName, f"{sp}.machineName",
                               "machineName", "give every slot its own DCS VM name")
        slots: set[int] = set()
        for j, disk in enumerate(slot.persistentDisk or []):
            dp = f"{sp}.persistentDisk[{j}]"
            if disk.slot < 0 or disk.slot in slots:
                yield _e(f"{dp}.slot", f"slot {disk.slot} is negative or repeated",
                         "give each persistent disk a unique slot >= 0")
            slots.add(disk.slot)
            if disk.quantityGB < 1:
                yield _e(f"{dp}.quantityGB", "must be >= 1", "size in GB")
            if bool(disk.datastoreName) == bool(disk.datastoreClusterName):
                yield _e(dp, "give exactly one of datastoreName or datastoreClusterName",
                         "keep one datastore selector")
            if (disk.path is not None and not disk.path.startswith("/")) or disk.path == "/":
                yield _e(f"{dp}.path", f"{disk.path!r} is not an absolute mount path",
                         "e.g. /var/cpaas; omit for a raw block device")


@hookimpl
def acp_validate(spec: InstallSpec) -> Iterator[Finding]:
    p = _platform(spec)
    fmt = spec.controlPlane.format
    if fmt is not None and fmt != FORMAT:
        yield _e("controlPlane.format", f"invalid format, expected ignition, got {fmt}",
                 "DCS requires ignition: remove the field or set it to ignition", "format")
    c = p.credentials
    if not re.match(r"^https?://", c.endpoint):
        yield _e("platform.credentials.endpoint", f"{c.endpoint!r} has no http:// or https://",
                 "e.g. https://dcs.example.com:7443 (the DCS REST port is 7443)")
    if c.userType is not None and c.userType.lower() not in ("interconnect", "domain"):
        yield _e("platform.credentials.userType", f"{c.userType!r} is not a DCS user type",
                 "use interconnect (default) or domain")
    if not p.sshAuthorizedKeys:
        yield _e("platform.sshAuthorizedKeys", "empty: the ignition validator rejects it",
                 "add at least one OpenSSH public key")
    for i, key in enumerate(p.sshAuthorizedKeys):
        if not SSH_KEY.match(key.strip()):
            yield _e(f"platform.sshAuthorizedKeys[{i}]", "not an OpenSSH public key",
                     "paste the one-line key, e.g. 'ssh-ed25519 AAAA... user@host'")
    if p.loadBalancer.type != "external":
        yield _e("platform.loadBalancer.type", f"{p.loadBalancer.type!r} is not supported for "
                 "the global cluster (DCS provider v1.0.21 supports only an external LB)",
                 "use type: external with an external load balancer on controlPlaneVIP")
    if not 0 < p.loadBalancer.port < 65536:
        yield _e("platform.loadBalancer.port", "must be 1-65535", "use 6443")
    taken = _Taken()
    yield from _check_machines(spec, p.controlPlane, "platform.controlPlane", CP_DISKS,
                               spec.controlPlane.replicas, taken)
    if not any(d.path == "/var/cpaas" for s in p.controlPlane.pool for d in s.persistentDisk or []):
        yield Finding("warning", "platform.controlPlane.pool", "no /var/cpaas persistent disk: "
                      "platform state is lost when a control plane VM is replaced",
                      fix="add persistentDisk [{slot: 0, quantityGB: ..., path: /var/cpaas}]",
                      rule="dcs")
    names: set[str] = set()
    for i, w in enumerate(p.workers):
        wp = f"platform.workers[{i}]"
        if w.name in names:
            yield _e(f"{wp}.name", f"worker group {w.name!r} repeated", "give each group its own name")
        names.add(w.name)
        if w.replicas < 0:
            yield _e(f"{wp}.replicas", "must be >= 0", "worker count")
        yield from _check_machines(spec, w, wp, WORKER_DISKS, w.replicas, taken)
