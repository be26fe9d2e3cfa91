"""Huawei Cloud Stack (HCS) provider: hook implementations.

Renders the HCS objects of the global manifest (credential Secret, ``HCSMachineConfigPool``,
``HCSMachineTemplate``, ``HCSCluster global`` with its ELB), the HCS part of the kubeadm body
(``cloud-config``; no encryption file outside DR), the Step 7 import list derived from the
rendered objects, the installer request (``console.host: []``, no ``cluster`` block: the HCS ELB
owns the VIP), and checks the HCS rules before anything is applied.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from acp_install.provider import (
    Diagnosis,
    DRContribution,
    Finding,
    ImportEntry,
    InstallerPayloadPart,
    InstallSpec,
    KubeadmContribution,
    KubeadmFile,
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

from .models import SECRET_NAME_ALIASES, HcsPlatform, Machines

INFRA = "infrastructure.cluster.x-k8s.io/v1beta1"
INFRA_GROUP = INFRA.split("/")[0]
FORMAT = "cloud-config"
RELEASE = "cluster-api-provider-hcs"
CP_POOL = "global-cp-pool"
CP_TEMPLATE = "global-cp-machine-template"
CLUSTER_NAME = "global"
IGNITION_MESSAGE = "ignition format is not supported"
ENCRYPTION_PATH = "/etc/kubernetes/encryption-provider.conf"
VOLUME_PLUGIN_DIR = "/opt/libexec/kubernetes/kubelet-plugins/volume/exec/"
CP_DATA_PATHS = ("/var/lib/etcd", "/var/lib/kubelet", "/var/lib/containerd")
WORKER_DATA_PATHS = ("/var/lib/kubelet", "/var/lib/containerd")
EVS_MIN_GB, EVS_MAX_GB = 10, 32768
HA_POLICIES = ("anti-affinity", "soft-anti-affinity")
#: HCSMachineConfigPool hostname pattern (CRD) — the webhook also refuses consecutive dots.
HOSTNAME = re.compile(r"^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$")
#: Kinds imported in Step 7, in the order of the HCS documentation, with their CRD plural.
IMPORTED_KINDS = (
    ("HCSCluster", "hcsclusters"),
    ("HCSMachineTemplate", "hcsmachinetemplates"),
    ("HCSMachineConfigPool", "hcsmachineconfigpools"),
    ("HCSMachine", "hcsmachines"),
)


def _platform(spec: InstallSpec) -> HcsPlatform:
    platform: HcsPlatform = spec.platform
    return platform


@hookimpl
def acp_provider_info() -> ProviderInfo:
    return ProviderInfo(
        id="hcs",
        display_name="Huawei Cloud Stack",
        contract="1",
        infra_cluster_kind="HCSCluster",
        cluster_type="HCS",
        bootstrap_format=FORMAT,
        platform_type=HcsPlatform,
        installer_endpoint="/cpaas-installer/api/config/dcs",  # the procedure: every provider
        import_configmap="dcs-import-extra-resources",  # Step 7, the name is historical
        chart_cluster_type="Baremetal",  # charts' global.cluster.type, not the IaaS
        aliases=SECRET_NAME_ALIASES,
    )


@hookimpl
def acp_packages(spec: InstallSpec) -> list[ProviderPackage]:
    return [provider_package(spec, RELEASE, "hcsclusters.infrastructure.cluster.x-k8s.io")]


# --- Step 4 -------------------------------------------------------------------------------------


def _secret(spec: InstallSpec) -> dict[str, Any]:
    c = _platform(spec).credentials
    data: dict[str, Any] = {
        "accessKey": c.accessKey,
        "secretKey": c.secretKey,
        "projectID": c.projectID,
        "region": c.region,
        "externalGlobalDomain": c.externalGlobalDomain,
    }
    if c.schema is not None:
        data["schema"] = c.schema
    labels = {"capi.cpaas.io/provider": RELEASE}  # the web UI lists credentials by this label
    return {"apiVersion": "v1", "kind": "Secret",
            "metadata": object_meta(spec, spec.providerSecretName, labels=labels),
            "type": "Opaque", "stringData": data}


def _pool(spec: InstallSpec, name: str, m: Machines) -> dict[str, Any]:
    return {"apiVersion": INFRA, "kind": "HCSMachineConfigPool",
            "metadata": object_meta(spec, name, labels={"cluster.x-k8s.io/cluster-name": CLUSTER_NAME}),
            "spec": {"configs": crd_data(m.pool)}}


def _template(spec: InstallSpec, name: str, pool: str, m: Machines) -> dict[str, Any]:
    body: dict[str, Any] = {"imageName": m.imageName, "flavorName": m.flavorName}
    if m.availabilityZone is not None:
        body["availabilityZone"] = m.availabilityZone
    body["rootVolume"] = crd_data(m.rootVolume)
    if m.dataVolumes:
        body["dataVolumes"] = crd_data(m.dataVolumes)
    if m.keyPairName is not None:
        body["keyPairName"] = m.keyPairName
    body["configPoolRef"] = {"name": pool}
    return {"apiVersion": INFRA, "kind": "HCSMachineTemplate", "metadata": object_meta(spec, name),
            "spec": {"template": {"spec": body}}}


def _cluster(spec: InstallSpec) -> dict[str, Any]:
    p = _platform(spec)
    lb = p.loadBalancer
    elb: dict[str, Any] = {"vipAddress": spec.controlPlaneVIP, "vipSubnetName": lb.vipSubnetName}
    if lb.vipDomainName is not None:
        elb["vipDomainName"] = lb.vipDomainName
    elb["elbVirsubnetL4Ips"] = crd_data(lb.elbVirsubnetL4Ips)
    elb["elbVirsubnetL7Ips"] = crd_data(lb.elbVirsubnetL7Ips)
    body: dict[str, Any] = {
        "identityRef": {"name": spec.providerSecretName},
        "networkType": "kube-ovn",
        "network": crd_data(p.network),
        "controlPlaneLoadBalancer": elb,
    }
    if p.controlPlaneHA is not None:
        body["controlPlaneHA"] = crd_data(p.controlPlaneHA)
    # never controlPlaneEndpoint: the controller fills it once the ELB is ready (§4.3)
    return {"apiVersion": INFRA, "kind": "HCSCluster", "metadata": object_meta(spec, CLUSTER_NAME),
            "spec": body}


def _kubeadm(p: HcsPlatform, *, worker: bool) -> KubeadmContribution:
    kubelet = {"clientCAFile": "/etc/kubernetes/pki/ca.crt"}
    if worker:
        return KubeadmContribution(
            join_configuration={"nodeRegistration": {"kubeletExtraArgs": {
                "volume-plugin-dir": VOLUME_PLUGIN_DIR}}},
            kubelet_config=kubelet,
        )
    labels = {"node-labels": "kube-ovn/role=master"}
    cluster_cfg: dict[str, Any] = {}
    if p.imageRepository:
        cluster_cfg["imageRepository"] = p.imageRepository
    return KubeadmContribution(
        cluster_configuration=cluster_cfg,
        init_configuration={"nodeRegistration": {"kubeletExtraArgs": {
            **labels, "protect-kernel-defaults": "true", "volume-plugin-dir": VOLUME_PLUGIN_DIR}}},
        join_configuration={"nodeRegistration": {"kubeletExtraArgs": {
            **labels, "volume-plugin-dir": VOLUME_PLUGIN_DIR}}},
        kubelet_config=kubelet,
    )


def worker_names(name: str) -> tuple[str, str]:
    """(config pool, machine template) names of a worker group."""
    return f"{name}-pool", f"{name}-machine-template"


@hookimpl
def acp_manifest(spec: InstallSpec) -> Iterator[ProviderManifest]:
    p = _platform(spec)
    objects = [_secret(spec), _pool(spec, CP_POOL, p.controlPlane)]
    templates = [_template(spec, CP_TEMPLATE, CP_POOL, p.controlPlane)]
    groups = []
    for w in p.workers:
        pool, template = worker_names(w.name)
        objects.append(_pool(spec, pool, w))
        templates.append(_template(spec, template, pool, w))
        groups.append(WorkerGroup(name=w.name, replicas=w.replicas,
                                  infrastructure=ObjectRef(INFRA, "HCSMachineTemplate", template),
                                  kubeadm=_kubeadm(p, worker=True)))
    yield ProviderManifest(
        objects=(*objects, *templates, _cluster(spec)),
        control_plane_template=ObjectRef(INFRA, "HCSMachineTemplate", CP_TEMPLATE),
        kubeadm=_kubeadm(p, worker=False),
        workers=tuple(groups),
    )


# --- Step 7 / Step 8 / DR -----------------------------------------------------------------------


@hookimpl
def acp_extra_resources(spec: InstallSpec,
                        objects: Sequence[Mapping[str, Any]]) -> list[ImportEntry]:
    """The HCS import list (§4.6), read from what is rendered rather than from the spec.

    The credential Secret is the one ``HCSCluster global`` references; the infrastructure
    cluster by the name it was rendered with; templates, pools and the machines the templates
    produce are imported whole (by etcd key base) as soon as their kind is in the manifest.
    """
    hcs = [o for o in objects if str(o.get("apiVersion", "")).startswith(INFRA_GROUP + "/")]
    clusters = [o for o in hcs if o.get("kind") == "HCSCluster"]
    secrets = sorted({str(c["spec"]["identityRef"]["name"]) for c in clusters
                      if (c.get("spec") or {}).get("identityRef", {}).get("name")})
    kinds = {str(o.get("kind")) for o in hcs}
    if "HCSMachineTemplate" in kinds:
        kinds.add("HCSMachine")  # machines are created by the controller from the templates
    entries = []
    if secrets:
        entries.append(ImportEntry("secrets", names=tuple(secrets), method="kubectl"))
    for kind, plural in IMPORTED_KINDS:
        if kind not in kinds:
            continue
        names = None
        if kind == "HCSCluster":
            names = tuple(sorted(str(c["metadata"]["name"]) for c in clusters))
        entries.append(ImportEntry.etcd(f"{plural}.{INFRA_GROUP}", names))
    return entries


@hookimpl
def acp_installer_payload(spec: InstallSpec) -> InstallerPayloadPart:
    # The HCS ELB declared in HCSCluster owns the VIP: empty console.host, no cluster block.
    return InstallerPayloadPart(console_hosts=(), cluster=False)


@hookimpl
def acp_dr_fields(spec: InstallSpec, role: str) -> Iterator[DRContribution]:
    """HCS delivers the shared encryption config as a KCP file on both sides (no HCSCluster ref).

    The file is written 0600 and ``append: false``; the apiserver flag points at it (its
    directory is already mounted by the common ``vol-dir-0`` volume).
    """
    entry = KubeadmFile(ENCRYPTION_PATH, encryption_config(spec), permissions="0600", append=False)
    yield DRContribution(kubeadm=KubeadmContribution(
        files=(entry,),
        cluster_configuration={"apiServer": {"extraArgs": {
            "encryption-provider-config": ENCRYPTION_PATH}}},
    ))


@hookimpl
def acp_diagnose(snapshot: Mapping[str, Any]) -> Iterator[Diagnosis]:
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


@hookimpl
def acp_spec_example() -> SpecExample:
    return SpecExample(templating.render("platform-example.yaml.j2", package="acp_install_hcs"))


# --- validation (§4.9, §7) ----------------------------------------------------------------------


def _e(path: str, message: str, fix: str, rule: str = "hcs") -> Finding:
    return Finding("error", path, message, fix=fix, rule=rule)


def _w(path: str, message: str, fix: str, rule: str = "hcs") -> Finding:
    return Finding("warning", path, message, fix=fix, rule=rule)


def _evs_size(path: str, size: int) -> Iterator[Finding]:
    if not EVS_MIN_GB <= size <= EVS_MAX_GB:
        yield _e(path, f"{size} GB is outside the EVS range {EVS_MIN_GB}-{EVS_MAX_GB} GB",
                 f"give a size between {EVS_MIN_GB} and {EVS_MAX_GB} GB", "hcs-evs-size")


def _hostname_problem(name: str) -> str | None:
    if len(name) > 253 or not HOSTNAME.match(name):
        return "must match ^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$ (at most 253 characters, lowercase)"
    if ".." in name:
        return "has consecutive dots"
    return None


def _subnet_ref(path: str, subnet: str, known: set[str]) -> Iterator[Finding]:
    if subnet not in known:
        yield _e(path, f"subnet {subnet!r} is not listed in platform.network.subnets",
                 f"add {{name: {subnet}}} to platform.network.subnets (the HCSCluster subnet "
                 "inventory) or fix the name", "hcs-subnets")


def _check_machines(spec: InstallSpec, m: Machines, path: str, replicas: int, *,
                    data_paths: Sequence[str], subnets: set[str],
                    used_ips: dict[str, str]) -> Iterator[Finding]:
    if not m.imageName:
        yield _e(f"{path}.imageName", "empty", "give the HCS image name of the Alauda OS image")
    if not m.flavorName:
        yield _e(f"{path}.flavorName", "empty", "give the provider-recognised Flavor.Name")
    yield from _evs_size(f"{path}.rootVolume.size", m.rootVolume.size)
    template_mounts: dict[str, int] = {}
    for i, v in enumerate(m.dataVolumes):
        vp = f"{path}.dataVolumes[{i}]"
        yield from _evs_size(f"{vp}.size", v.size)
        if v.mountPath is not None:
            if v.mountPath in template_mounts:
                yield _e(f"{vp}.mountPath", f"{v.mountPath} is already mounted by "
                         f"dataVolumes[{template_mounts[v.mountPath]}]", "mount each path once")
            template_mounts.setdefault(v.mountPath, i)
            if v.mountPath == "/var/cpaas":
                yield _w(f"{vp}.mountPath", "/var/cpaas on a template data volume is lost when "
                         "the ECS is replaced", "declare /var/cpaas as a pool persistentDisk")
    for need in data_paths:
        if need not in template_mounts:
            yield _w(f"{path}.dataVolumes", f"no data volume mounted at {need}",
                     f"add {{size: ..., type: SSD, mountPath: {need}, format: xfs}}")
    if len(m.pool) < replicas:
        yield _e(f"{path}.pool", f"{len(m.pool)} config(s) for {replicas} replicas",
                 "add a pool config (hostname + IP) per machine: pool size >= replicas",
                 "hcs-pool-size")
    hostnames: dict[str, int] = {}
    for i, cfg in enumerate(m.pool):
        cp = f"{path}.pool[{i}]"
        problem = _hostname_problem(cfg.hostname)
        if problem:
            yield _e(f"{cp}.hostname", f"{cfg.hostname!r} {problem}",
                     "use lowercase letters, digits, '-' and single dots, e.g. global-cp-1",
                     "hcs-hostname")
        elif cfg.hostname in hostnames:
            yield _e(f"{cp}.hostname", f"{cfg.hostname} is already used by pool[{hostnames[cfg.hostname]}]",
                     "give every config its own hostname", "hcs-hostname")
        hostnames.setdefault(cfg.hostname, i)
        if not cfg.networks:
            yield _e(f"{cp}.networks", "no network", "add {subnetName: ..., ipAddress: ...}")
        for j, nic in enumerate(cfg.networks):
            np = f"{cp}.networks[{j}]"
            if (nic.subnetName is None) == (nic.subnetId is None):
                yield _e(np, "give exactly one of subnetName or subnetId",
                         "keep subnetName (preferred) or subnetId, not both", "hcs-subnet-xor")
            elif nic.subnetName is not None:
                yield from _subnet_ref(f"{np}.subnetName", nic.subnetName, subnets)
            if netcheck.ip_error(nic.ipAddress):
                yield _e(f"{np}.ipAddress", f"{nic.ipAddress!r} is not an IP address",
                         "give the static IP of the NIC")
            elif nic.ipAddress in used_ips:
                yield _e(f"{np}.ipAddress", f"{nic.ipAddress} is already used by "
                         f"{used_ips[nic.ipAddress]}", "give every NIC its own IP", "hcs-ip")
            else:
                used_ips[nic.ipAddress] = np
        disks = cfg.persistentDisks or []
        slots = sorted(d.slot for d in disks)
        if slots != list(range(len(disks))):
            yield _e(f"{cp}.persistentDisks", f"slots {slots} are not contiguous from 0",
                     f"number the persistent disks 0..{len(disks) - 1}, each slot once",
                     "hcs-slots")
        mounts: set[str] = set()
        for j, d in enumerate(disks):
            dp = f"{cp}.persistentDisks[{j}]"
            yield from _evs_size(f"{dp}.size", d.size)
            if not d.type:
                yield _e(f"{dp}.type", "empty", "give the EVS type available in the AZ, e.g. SSD")
            if d.mountPath is None:
                continue
            if not d.mountPath.startswith("/") or d.mountPath == "/":
                yield _e(f"{dp}.mountPath", f"{d.mountPath!r} is not an absolute mount path",
                         "e.g. /var/cpaas; omit it for a raw block device")
            if d.mountPath in template_mounts:
                yield _e(f"{dp}.mountPath", f"{d.mountPath} is also a data volume of the machine "
                         "template (the provider rejects the overlap)",
                         f"remove it from {path}.dataVolumes or from the pool", "hcs-mount-overlap")
            if d.mountPath in mounts:
                yield _e(f"{dp}.mountPath", f"{d.mountPath} mounted twice", "mount each path once")
            mounts.add(d.mountPath)
        if netcheck.ip_error(spec.controlPlaneVIP) is None and any(
                n.ipAddress == spec.controlPlaneVIP for n in cfg.networks):
            yield _e(f"{cp}.networks", "the control plane VIP is used as a node IP",
                     "the VIP belongs to the ELB: give the node another IP")


def _check_elb(spec: InstallSpec, p: HcsPlatform, subnets: set[str],
               used_ips: dict[str, str]) -> Iterator[Finding]:
    lb = p.loadBalancer
    yield from _subnet_ref("platform.loadBalancer.vipSubnetName", lb.vipSubnetName, subnets)
    cidrs = {s.name: s.cidr for s in p.network.subnets if s.cidr}
    vip_cidr = cidrs.get(lb.vipSubnetName)
    if vip_cidr and not netcheck.in_cidr(spec.controlPlaneVIP, vip_cidr):
        yield _e("controlPlaneVIP", f"{spec.controlPlaneVIP} is not in subnet "
                 f"{lb.vipSubnetName} ({vip_cidr})",
                 "the ELB VIP must be an address of platform.loadBalancer.vipSubnetName")
    for field in ("elbVirsubnetL4Ips", "elbVirsubnetL7Ips"):
        groups = getattr(lb, field)
        path = f"platform.loadBalancer.{field}"
        if not groups:
            yield _e(path, "empty: Hybrid Load Balancing needs its ELB IPs",
                     "add [{subnetName: ..., ips: [IP1, IP2]}]", "hcs-elb-ips")
        for i, g in enumerate(groups):
            gp = f"{path}[{i}]"
            yield from _subnet_ref(f"{gp}.subnetName", g.subnetName, subnets)
            if len(g.ips) != 2:
                yield _e(f"{gp}.ips", f"{len(g.ips)} IP(s): HCS needs exactly two",
                         "list exactly two free IPs of the subnet", "hcs-elb-ips")
            for j, ip in enumerate(g.ips):
                if netcheck.ip_error(ip):
                    yield _e(f"{gp}.ips[{j}]", f"{ip!r} is not an IP address", "give an IP")
                elif ip == spec.controlPlaneVIP:
                    yield _e(f"{gp}.ips[{j}]", "the control plane VIP is used as an ELB IP",
                             "ELB IPs are separate addresses of the subnet")
                elif ip in used_ips:
                    yield _e(f"{gp}.ips[{j}]", f"{ip} is already used by {used_ips[ip]}",
                             "give every ELB and node address its own IP", "hcs-ip")
                else:
                    used_ips[ip] = f"{gp}.ips[{j}]"
                cidr = cidrs.get(g.subnetName)
                if cidr and netcheck.ip_error(ip) is None and not netcheck.in_cidr(ip, cidr):
                    yield _e(f"{gp}.ips[{j}]", f"{ip} is not in subnet {g.subnetName} ({cidr})",
                             "give an address of the group's subnet")


@hookimpl
def acp_validate(spec: InstallSpec) -> Iterator[Finding]:
    p = _platform(spec)
    if spec.controlPlane.format == "ignition":
        yield _e("controlPlane.format", IGNITION_MESSAGE,
                 "HCS boots with cloud-init: remove the field or set it to cloud-config",
                 "hcs-format")
    if spec.controlPlane.replicas < 3:
        yield _e("controlPlane.replicas", f"{spec.controlPlane.replicas} replica(s): the HCS "
                 "global cluster must be highly available (a single control plane is "
                 "creation-only, never upgradable)", "use 3 (or 5) replicas", "hcs-replicas")
    if p.controlPlaneEndpoint is not None:
        yield _e("platform.controlPlaneEndpoint", "must not be set in the create manifest: the "
                 "HCS controller fills it once the ELB is ready",
                 "remove it; the ELB VIP is controlPlaneVIP", "hcs-endpoint")
    c = p.credentials
    for field in ("accessKey", "projectID", "region", "externalGlobalDomain"):
        if not getattr(c, field).strip():
            yield _e(f"platform.credentials.{field}", "empty", "fill it in from the HCS console")
    if c.externalGlobalDomain.strip() and netcheck.host_error(c.externalGlobalDomain):
        yield _e("platform.credentials.externalGlobalDomain",
                 f"{c.externalGlobalDomain!r} is not a domain name",
                 "give the HCS platform domain without scheme or path, e.g. hcs.example.com")
    if c.schema is not None and c.schema not in ("http", "https"):
        yield _e("platform.credentials.schema", f"{c.schema!r} is not http or https",
                 "remove it (https) or set http/https")
    if not p.network.subnets:
        yield _e("platform.network.subnets", "empty: every subnet the cluster uses must be listed",
                 "add [{name: SUBNET}] for the node, VIP and ELB subnets", "hcs-subnets")
    subnets = {s.name for s in p.network.subnets}
    seen: set[str] = set()
    for i, s in enumerate(p.network.subnets):
        if s.name in seen:
            yield _e(f"platform.network.subnets[{i}].name", f"subnet {s.name!r} listed twice",
                     "list each subnet once")
        seen.add(s.name)
        if s.cidr is not None and netcheck.cidr_error(s.cidr):
            yield _e(f"platform.network.subnets[{i}].cidr", str(netcheck.cidr_error(s.cidr)),
                     "write the subnet with its prefix, e.g. 192.168.1.0/24")
    if p.controlPlaneHA is not None:
        ha = p.controlPlaneHA
        if ha.enabled is None:
            yield _e("platform.controlPlaneHA.enabled", "required when controlPlaneHA is set",
                     "set enabled: true (or remove the block)", "hcs-ha")
        if ha.policy is None:
            yield _e("platform.controlPlaneHA.policy", "required when controlPlaneHA is set",
                     "set policy: soft-anti-affinity or anti-affinity", "hcs-ha")
        elif ha.policy not in HA_POLICIES:
            yield _e("platform.controlPlaneHA.policy", f"{ha.policy!r} is not a policy",
                     "use anti-affinity or soft-anti-affinity", "hcs-ha")
    used_ips: dict[str, str] = {}
    yield from _check_machines(spec, p.controlPlane, "platform.controlPlane",
                               spec.controlPlane.replicas, data_paths=CP_DATA_PATHS,
                               subnets=subnets, used_ips=used_ips)
    if not any(d.mountPath == "/var/cpaas" for cfg in p.controlPlane.pool
               for d in cfg.persistentDisks or []):
        yield _w("platform.controlPlane.pool", "no /var/cpaas persistent disk: platform state is "
                 "lost when a control plane ECS is replaced",
                 "add persistentDisks [{slot: 0, size: ..., type: SSD, mountPath: /var/cpaas}]")
    names: set[str] = set()
    for i, w in enumerate(p.workers):
        wp = f"platform.workers[{i}]"
        if w.name in names:
            yield _e(f"{wp}.name", f"worker group {w.name!r} repeated", "give each group its own name")
        names.add(w.name)
        if not w.name.startswith("global-") or not netcheck.DNS1123_LABEL.match(w.name):
            yield _e(f"{wp}.name", f"{w.name!r} is not a DNS-1123 name starting with 'global-'",
                     f"rename it global-{w.name.removeprefix('global-') or 'worker'} (DR failover "
                     "recognises global objects by the prefix)", "global-prefix")
        if w.replicas < 0:
            yield _e(f"{wp}.replicas", "must be >= 0", "worker count")
        yield from _check_machines(spec, w, wp, w.replicas, data_paths=WORKER_DATA_PATHS,
                                   subnets=subnets, used_ips=used_ips)
    yield from _check_elb(spec, p, subnets, used_ips)
