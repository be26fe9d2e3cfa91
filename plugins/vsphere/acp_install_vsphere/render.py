"""vSphere objects as data: the Step 4 objects, the kubeadm bodies, Step 7 entries.

Pure functions of the spec (and, for Step 7, of the objects actually rendered), so ``render``
output and the import list agree on names. The CPI ``ClusterResourceSet`` is in :mod:`.cpi`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from acp_install.provider import (
    ImportEntry,
    InstallSpec,
    KubeadmContribution,
    KubeadmFile,
    ObjectRef,
    SecretText,
    WorkerGroup,
    crd_data,
    image_fields,
    kubeadm_base,
    object_meta,
    platform_of,
    secret_object,
    templating,
    worker_group,
)

from .derive import (
    default_folder,
    encryption_key,
    nameservers,
    pool_name,
    template_name,
    template_networks,
)
from .models import Machines, VspherePlatform

INFRA = "infrastructure.cluster.x-k8s.io/v1beta1"
CAPI = "cluster.x-k8s.io/v1beta1"
PACKAGE = "acp_install_vsphere"
FORMAT = "cloud-config"
RELEASE = "cluster-api-provider-vsphere"
WAIT_CRD = "vsphereclusters.infrastructure.cluster.x-k8s.io"
#: Hard-coded by the procedure: Step 7 and DR look the credential Secret up by this name.
CREDENTIALS_SECRET = "global-vsphere-credentials"
CPI_LABEL = "addons.cluster.x-k8s.io/vsphere-cpi"
ENCRYPTION_PATH = "/etc/kubernetes/encryption-provider.conf"
RESOLV_PATH = "/etc/resolv.conf"
AUDIT_PATH = "/etc/kubernetes/audit/policy.yaml"


def credential_secret(spec: InstallSpec) -> dict[str, Any]:
    vc = platform_of(spec, VspherePlatform).vcenter
    return secret_object(spec, CREDENTIALS_SECRET, {"username": vc.username, "password": vc.password})


def config_pool(spec: InstallSpec, m: Machines) -> dict[str, Any]:
    body: dict[str, Any] = {
        "clusterRef": {"apiVersion": CAPI, "kind": "Cluster", "name": "global",
                       "namespace": spec.namespace},
        "datacenter": platform_of(spec, VspherePlatform).vcenter.datacenter,
    }
    if m.releaseDelayHours is not None:
        body["releaseDelayHours"] = m.releaseDelayHours
    configs = []
    for slot in m.configs:
        cfg: dict[str, Any] = {"hostname": slot.hostname}
        if slot.datacenter is not None:
            cfg["datacenter"] = slot.datacenter
        cfg["network"] = crd_data(slot.network)
        if slot.persistentDisks:
            cfg["persistentDisks"] = crd_data(slot.persistentDisks)
        configs.append(cfg)
    body["configs"] = configs
    return {"apiVersion": INFRA, "kind": "VSphereMachineConfigPool",
            "metadata": object_meta(spec, pool_name(m)), "spec": body}


def machine_template(spec: InstallSpec, m: Machines) -> dict[str, Any]:
    vc = platform_of(spec, VspherePlatform).vcenter
    body: dict[str, Any] = {"server": vc.server, "thumbprint": vc.thumbprint,
                            "datacenter": vc.datacenter, "template": m.template}
    if m.cloneMode is not None:
        body["cloneMode"] = m.cloneMode
    body["folder"] = m.folder or default_folder(spec, m)
    body["datastore"] = m.datastore
    for key in ("resourcePool", "storagePolicyName", "diskGiB"):
        if getattr(m, key) is not None:
            body[key] = getattr(m, key)
    body["numCPUs"] = m.numCPUs
    body["memoryMiB"] = m.memoryMiB
    body["os"] = "Linux"
    if m.powerOffMode is not None:
        body["powerOffMode"] = m.powerOffMode
    body["network"] = {"devices": [{"networkName": n} for n in template_networks(m)]}
    body["machineConfigPoolRef"] = {"apiVersion": INFRA, "kind": "VSphereMachineConfigPool",
                                    "name": pool_name(m), "namespace": spec.namespace}
    return {"apiVersion": INFRA, "kind": "VSphereMachineTemplate",
            "metadata": object_meta(spec, template_name(m)), "spec": {"template": {"spec": body}}}


def vsphere_cluster(spec: InstallSpec) -> dict[str, Any]:
    p = platform_of(spec, VspherePlatform)
    vc = p.vcenter
    body: dict[str, Any] = {"controlPlaneEndpoint": {"host": spec.controlPlaneVIP, "port": 6443},
                            "identityRef": {"kind": "Secret", "name": CREDENTIALS_SECRET},
                            "server": vc.server,
                            "thumbprint": vc.thumbprint}
    fd = p.failureDomains
    if fd is not None:
        # "An empty selector {} matches every VSphereDeploymentZone that has controlPlane: true"
        body["failureDomainSelector"] = ({"matchLabels": dict(sorted(fd.controlPlaneSelector.items()))}
                                         if fd.controlPlaneSelector else {})
    return {"apiVersion": INFRA, "kind": "VSphereCluster", "metadata": object_meta(spec, "global"),
            "spec": body}


def failure_domain_objects(spec: InstallSpec) -> list[dict[str, Any]]:
    """``18-failure-domains.yaml`` of the create-cluster page: per domain a cluster-scoped
    ``VSphereFailureDomain`` and the ``VSphereDeploymentZone`` referencing it."""
    p = platform_of(spec, VspherePlatform)
    fd = p.failureDomains
    if fd is None:
        return []
    out: list[dict[str, Any]] = []
    for d in fd.domains:
        topology: dict[str, Any] = {"datacenter": d.datacenter or p.vcenter.datacenter,
                                    "computeCluster": d.computeCluster, "datastore": d.datastore,
                                    "networks": list(d.networks) if d.networks is not None
                                    else template_networks(p.controlPlane)}
        out.append({"apiVersion": INFRA, "kind": "VSphereFailureDomain",
                    "metadata": {"name": d.name},
                    "spec": {"region": {"name": d.region, "type": d.regionType,
                                        "tagCategory": fd.regionTagCategory,
                                        "autoConfigure": d.autoConfigure},
                             "zone": {"name": d.zone, "type": d.zoneType,
                                      "tagCategory": fd.zoneTagCategory,
                                      "autoConfigure": d.autoConfigure},
                             "topology": topology}})
        # placementConstraint is required by the CRD, even when empty
        placement = {k: v for k, v in (("resourcePool", d.resourcePool), ("folder", d.folder)) if v}
        zone: dict[str, Any] = {"server": p.vcenter.server, "failureDomain": d.name,
                                "controlPlane": d.controlPlane, "placementConstraint": placement}
        out.append({"apiVersion": INFRA, "kind": "VSphereDeploymentZone",
                    "metadata": {"name": d.deploymentZone}, "spec": zone})
    return out


# --- kubeadm bodies ---------------------------------------------------------------------------


def encryption_file(spec: InstallSpec) -> KubeadmFile:
    """The KCP file entry vSphere always carries (§3.8: byte-identical on both DR sides)."""
    text = templating.render("files/encryption-provider.conf.j2", key="{key}")
    return KubeadmFile(ENCRYPTION_PATH, SecretText(text, {"key": encryption_key(spec)}),
                       permissions="0644", append=False)


def _resolv(spec: InstallSpec) -> tuple[KubeadmFile, ...]:
    ns = nameservers(spec)
    if not ns:
        return ()
    return (KubeadmFile(RESOLV_PATH, "".join(f"nameserver {n}\n" for n in ns), append=False),)


def _users(spec: InstallSpec) -> tuple[dict[str, Any], ...]:
    keys = platform_of(spec, VspherePlatform).sshAuthorizedKeys
    if not keys:
        return ()
    return ({"name": "boot", "sudo": "ALL=(ALL) NOPASSWD:ALL", "sshAuthorizedKeys": list(keys)},)


def _files(spec: InstallSpec, base: KubeadmContribution, *, control_plane: bool) -> tuple[KubeadmFile, ...]:
    """The page's file order: resolv.conf, then the base files, with the encryption entry of
    the control plane right before the audit policy (as in 20-control-plane.yaml)."""
    files = list(base.files)
    if control_plane:
        at = next((i for i, f in enumerate(files) if f.path == AUDIT_PATH), len(files))
        files.insert(at, encryption_file(spec))
    return (*_resolv(spec), *files)


def kubeadm_control_plane(spec: InstallSpec) -> KubeadmContribution:
    """The documented vSphere body (``templates/kcp-base.yaml``) with the spec's values."""
    p = platform_of(spec, VspherePlatform)
    base = kubeadm_base(PACKAGE, spec, worker=False)
    repo = p.imageRepository or f"{spec.node_registry_address}/tkestack"
    images = image_fields(repo, p.dnsImageTag, p.etcdImageTag)
    return attrs.evolve(base, files=_files(spec, base, control_plane=True), users=_users(spec),
                        cluster_configuration={**images, **base.cluster_configuration})


def kubeadm_worker(spec: InstallSpec) -> KubeadmContribution:
    base = kubeadm_base(PACKAGE, spec, worker=True)
    return attrs.evolve(base, files=_files(spec, base, control_plane=False), users=_users(spec))


def cluster_annotations(spec: InstallSpec) -> dict[str, str]:
    """The global fragment's annotations and the create-cluster guide's ("Keep the VMware
    vSphere annotations required by the platform controllers, including the network and CPI
    annotations from the VMware vSphere create-cluster guide")."""
    p = platform_of(spec, VspherePlatform)
    annotations: dict[str, str] = {}
    if p.sentryDeployType:
        annotations["cpaas.io/sentry-deploy-type"] = p.sentryDeployType
    annotations |= {"cpaas.io/alb-address-type": "ClusterAddress", "cpaas.io/network-type": "kube-ovn"}
    if p.kubeOvnVersion:
        annotations["cpaas.io/kube-ovn-version"] = p.kubeOvnVersion
    return {**annotations, **p.clusterAnnotations}


def manifest_objects(spec: InstallSpec) -> tuple[list[dict[str, Any]], list[WorkerGroup]]:
    """Provider objects in the documented order, and the worker groups the core wires."""
    p = platform_of(spec, VspherePlatform)
    # the failure domains come first: "Do not proceed until the deployment zones are available"
    objects: list[dict[str, Any]] = [*failure_domain_objects(spec), credential_secret(spec),
                                     config_pool(spec, p.controlPlane),
                                     machine_template(spec, p.controlPlane)]
    groups = []
    for w in p.workers:
        objects += [config_pool(spec, w), machine_template(spec, w)]
        groups.append(worker_group(w, ObjectRef(INFRA, "VSphereMachineTemplate", template_name(w)),
                                   kubeadm_worker(spec), labels={"nodepool": w.name},
                                   failure_domain=w.failureDomain))
    objects.append(vsphere_cluster(spec))
    return objects, groups


# --- Step 7 -------------------------------------------------------------------------------------


def _plural(kind: str) -> str:
    return kind.lower() + "s"


def _etcd_entry(group: str, kind: str, namespace: str,
                names: tuple[str, ...] | None = None) -> ImportEntry:
    return ImportEntry.etcd(f"{_plural(kind)}.{group}", names, namespace=namespace)


def import_entries(spec: InstallSpec, objects: Sequence[Mapping[str, Any]]) -> list[ImportEntry]:
    """§3.6, derived from the rendered objects: the infrastructure cluster(s) by name, every
    machine template / machine / VM / config pool under its etcd key base, and the credential
    Secret the VSphereCluster actually references."""
    by_kind: dict[str, list[Mapping[str, Any]]] = {}
    for obj in objects:
        by_kind.setdefault(str(obj.get("kind")), []).append(obj)
    entries: list[ImportEntry] = []
    clusters = by_kind.get("VSphereCluster", [])
    for c in clusters[:1]:
        group = str(c["apiVersion"]).split("/")[0]
        ns = c["metadata"].get("namespace") or spec.namespace
        names = tuple(sorted(str(o["metadata"]["name"]) for o in clusters))
        entries.append(_etcd_entry(group, "VSphereCluster", ns, names))
    templates = by_kind.get("VSphereMachineTemplate", [])
    if templates:
        group = str(templates[0]["apiVersion"]).split("/")[0]
        ns = templates[0]["metadata"].get("namespace") or spec.namespace
        # machines and VMs are created by the controllers from the templates
        for kind in ("VSphereMachineTemplate", "VSphereMachine", "VSphereVM"):
            entries.append(_etcd_entry(group, kind, ns))
    pools = by_kind.get("VSphereMachineConfigPool", [])
    if pools:
        group = str(pools[0]["apiVersion"]).split("/")[0]
        ns = pools[0]["metadata"].get("namespace") or spec.namespace
        entries.append(_etcd_entry(group, "VSphereMachineConfigPool", ns))
    secrets = sorted({
        str(c["spec"]["identityRef"]["name"]) for c in clusters
        if (c.get("spec") or {}).get("identityRef", {}).get("kind") == "Secret"
    })
    if secrets:
        entries.append(ImportEntry("secrets", names=tuple(secrets), method="kubectl"))
    fd = getattr(getattr(spec, "platform", None), "failureDomains", None)
    if fd is None or fd.importAtStep7:
        # cluster-scoped, like the CRDs other providers import with kubectl (docs/decisions.md)
        for kind in ("VSphereFailureDomain", "VSphereDeploymentZone"):
            names = tuple(sorted(str(o["metadata"]["name"]) for o in by_kind.get(kind, [])))
            if names:
                entries.append(ImportEntry(f"{_plural(kind)}.{INFRA.split('/')[0]}", names=names,
                                           method="kubectl"))
    return entries
