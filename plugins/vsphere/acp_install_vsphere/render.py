"""vSphere objects as data: the Step 4 objects, the kubeadm bodies, Step 7 entries.

Pure functions of the spec (and, for Step 7, of the objects actually rendered), so ``render``
output and the import list agree on names. The CPI ``ClusterResourceSet`` is in :mod:`.cpi`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from acp_install.provider import (
    ImportEntry,
    InstallSpec,
    KubeadmContribution,
    KubeadmFile,
    ObjectRef,
    SecretText,
    WorkerGroup,
    crd_data,
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
IMAGE_LOADER_PATH = "/usr/local/bin/capv-load-local-images.sh"
VOLUME_PLUGIN_DIR = "/opt/libexec/kubernetes/kubelet-plugins/volume/exec/"
CRI_SOCKET = "/var/run/containerd/containerd.sock"
PRE_KUBEADM = (
    'hostnamectl set-hostname "{{ ds.meta_data.hostname }}"',
    'echo "::1         ipv6-localhost ipv6-loopback localhost6 localhost6.localdomain6" >/etc/hosts',
    'echo "127.0.0.1   {{ ds.meta_data.hostname }} {{ local_hostname }} localhost localhost.localdomain '
    'localhost4 localhost4.localdomain4" >>/etc/hosts',
    'while ! ip route | grep -q "default via"; do sleep 1; done; echo "NetworkManager started"',
    IMAGE_LOADER_PATH,
)




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
    vc = platform_of(spec, VspherePlatform).vcenter
    return {"apiVersion": INFRA, "kind": "VSphereCluster", "metadata": object_meta(spec, "global"),
            "spec": {"controlPlaneEndpoint": {"host": spec.controlPlaneVIP, "port": 6443},
                     "identityRef": {"kind": "Secret", "name": CREDENTIALS_SECRET},
                     "server": vc.server,
                     "thumbprint": vc.thumbprint}}


# --- kubeadm bodies ---------------------------------------------------------------------------


def _image_loader() -> str:
    return resources.files(PACKAGE).joinpath("templates/capv-load-local-images.sh").read_text()


def encryption_file(spec: InstallSpec) -> KubeadmFile:
    """The KCP file entry vSphere always carries (§3.8: byte-identical on both DR sides)."""
    text = templating.render("files/encryption-provider.conf.j2", key="{key}")
    return KubeadmFile(ENCRYPTION_PATH, SecretText(text, {"key": encryption_key(spec)}),
                       permissions="0644", append=False)


def _common_files(spec: InstallSpec) -> tuple[KubeadmFile, ...]:
    files = []
    ns = nameservers(spec)
    if ns:
        files.append(KubeadmFile(RESOLV_PATH, "".join(f"nameserver {n}\n" for n in ns)))
    files.append(KubeadmFile(IMAGE_LOADER_PATH, _image_loader(), permissions="0755"))
    return tuple(files)


def _users(spec: InstallSpec) -> tuple[dict[str, Any], ...]:
    keys = platform_of(spec, VspherePlatform).sshAuthorizedKeys
    if not keys:
        return ()
    return ({"name": "boot", "sudo": "ALL=(ALL) NOPASSWD:ALL", "sshAuthorizedKeys": list(keys)},)


def _node_registration(*, control_plane: bool) -> dict[str, Any]:
    args = {"cloud-provider": "external"}
    if control_plane:
        args["node-labels"] = "kube-ovn/role=master"
    args["volume-plugin-dir"] = VOLUME_PLUGIN_DIR
    return {"nodeRegistration": {"criSocket": CRI_SOCKET, "ignorePreflightErrors": ["ImagePull"],
                                 "kubeletExtraArgs": args, "name": "{{ local_hostname }}"}}


def kubeadm_control_plane(spec: InstallSpec) -> KubeadmContribution:
    p = platform_of(spec, VspherePlatform)
    repo = p.imageRepository or f"{spec.node_registry_address}/tkestack"
    return KubeadmContribution(
        files=(*_common_files(spec), encryption_file(spec)),
        users=_users(spec),
        pre_kubeadm_commands=PRE_KUBEADM,
        cluster_configuration={
            "imageRepository": repo,
            "apiServer": {"extraArgs": {"encryption-provider-config": ENCRYPTION_PATH}},
            "controllerManager": {"extraArgs": {"cloud-provider": "external"}},
        },
        init_configuration=_node_registration(control_plane=True),
        join_configuration=_node_registration(control_plane=True),
    )


def kubeadm_worker(spec: InstallSpec) -> KubeadmContribution:
    return KubeadmContribution(
        files=_common_files(spec),
        users=_users(spec),
        pre_kubeadm_commands=PRE_KUBEADM,
        join_configuration=_node_registration(control_plane=False),
    )


def manifest_objects(spec: InstallSpec) -> tuple[list[dict[str, Any]], list[WorkerGroup]]:
    """Provider objects in the documented order, and the worker groups the core wires."""
    p = platform_of(spec, VspherePlatform)
    objects: list[dict[str, Any]] = [credential_secret(spec), config_pool(spec, p.controlPlane),
                                     machine_template(spec, p.controlPlane)]
    groups = []
    for w in p.workers:
        objects += [config_pool(spec, w), machine_template(spec, w)]
        groups.append(worker_group(w, ObjectRef(INFRA, "VSphereMachineTemplate", template_name(w)),
                                   kubeadm_worker(spec), labels={"nodepool": w.name}))
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
    return entries
