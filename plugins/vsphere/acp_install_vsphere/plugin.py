"""VMware vSphere provider: hook implementations.

Renders the vSphere objects of the global manifest (Secret ``global-vsphere-credentials``,
``VSphereMachineConfigPool``/``VSphereMachineTemplate`` pairs, ``VSphereCluster global``, the CPI
``ClusterResourceSet`` with its ConfigMaps and Secret), the vSphere kubeadm body (cloud-config,
external cloud provider, preloaded images, the always-present encryption file), the Step 7
import list derived from the rendered objects, and the installer request (``console.host: []``,
no ``cluster`` block). :mod:`.checks` holds the rules checked before anything is applied.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from importlib import resources
from typing import Any

import attrs

from acp_install.provider import (
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
    SecretText,
    SpecExample,
    WorkerGroup,
    crd_data,
    hookimpl,
    object_meta,
    provider_package,
    templating,
)
from acp_install.provider import dump_yaml as dump
from acp_install.provider import dump_yaml_all as dump_all

from . import checks
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
ADDONS = "addons.cluster.x-k8s.io/v1beta1"
PACKAGE = "acp_install_vsphere"
FORMAT = "cloud-config"
RELEASE = "cluster-api-provider-vsphere"
WAIT_CRD = "vsphereclusters.infrastructure.cluster.x-k8s.io"
#: Hard-coded by the procedure: Step 7 and DR look the credential Secret up by this name.
CREDENTIALS_SECRET = "global-vsphere-credentials"
CPI_PREFIX = "global-vsphere-cpi"
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


def _platform(spec: InstallSpec) -> VspherePlatform:
    platform: VspherePlatform = spec.platform
    return platform


# --- hooks ------------------------------------------------------------------------------------


@hookimpl
def acp_provider_info() -> ProviderInfo:
    return ProviderInfo(
        id="vsphere",
        display_name="VMware vSphere",
        contract="1",
        infra_cluster_kind="VSphereCluster",
        cluster_type="VSphere",
        bootstrap_format=FORMAT,
        platform_type=VspherePlatform,
        installer_endpoint="/cpaas-installer/api/config/dcs",  # the procedure: every provider
        import_configmap="dcs-import-extra-resources",  # Step 7, the name is historical
        chart_cluster_type="Baremetal",  # charts' global.cluster.type, not the IaaS
    )


@hookimpl
def acp_packages(spec: InstallSpec) -> list[ProviderPackage]:
    return [provider_package(spec, RELEASE, WAIT_CRD)]


def _secret(spec: InstallSpec) -> dict[str, Any]:
    vc = _platform(spec).vcenter
    return {"apiVersion": "v1", "kind": "Secret", "metadata": object_meta(spec, CREDENTIALS_SECRET),
            "type": "Opaque", "stringData": {"username": vc.username, "password": vc.password}}


def _pool(spec: InstallSpec, m: Machines) -> dict[str, Any]:
    body: dict[str, Any] = {
        "clusterRef": {"apiVersion": CAPI, "kind": "Cluster", "name": "global",
                       "namespace": spec.namespace},
        "datacenter": _platform(spec).vcenter.datacenter,
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


def _template(spec: InstallSpec, m: Machines) -> dict[str, Any]:
    vc = _platform(spec).vcenter
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


def _cluster(spec: InstallSpec) -> dict[str, Any]:
    vc = _platform(spec).vcenter
    return {"apiVersion": INFRA, "kind": "VSphereCluster", "metadata": object_meta(spec, "global"),
            "spec": {"controlPlaneEndpoint": {"host": spec.controlPlaneVIP, "port": 6443},
                     "identityRef": {"kind": "Secret", "name": CREDENTIALS_SECRET},
                     "server": vc.server,
                     "thumbprint": vc.thumbprint}}


# --- CPI (ClusterResourceSet) ------------------------------------------------------------------


@attrs.frozen
class _QuotedSecretText(SecretText):
    """SecretText whose values are inserted as YAML double-quoted scalars (any password is safe)."""

    def render(self, *, reveal: bool) -> str:
        values = {k: json.dumps(r.reveal().get() if reveal else r.placeholder())
                  for k, r in self.refs.items()}
        return self.template.format(**values)


def _cpi_datacenters(spec: InstallSpec) -> list[str]:
    p = _platform(spec)
    seen: dict[str, None] = {p.vcenter.datacenter: None}
    for m in (p.controlPlane, *p.workers):
        for slot in m.configs:
            if slot.datacenter:
                seen.setdefault(slot.datacenter)
    return list(seen)


def _cpi_config(spec: InstallSpec) -> dict[str, Any]:
    vc = _platform(spec).vcenter
    conf = templating.render("vsphere.conf.j2", package=PACKAGE,
                             datacenters=",".join(_cpi_datacenters(spec)), server=vc.server)
    inner = {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "cloud-config", "namespace": "kube-system"},
             "data": {"vsphere.conf": conf}}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": object_meta(spec, f"{CPI_PREFIX}-config"),
            "data": {"data": dump(inner)}}


def _cpi_secret(spec: InstallSpec) -> dict[str, Any]:
    vc = _platform(spec).vcenter
    marker = "ACP_INSTALL_PASSWORD_MARKER"  # a plain scalar: dump() leaves it unquoted
    inner = {"apiVersion": "v1", "kind": "Secret",
             "metadata": {"name": "vsphere-cloud-secret", "namespace": "kube-system"},
             "type": "Opaque",
             "stringData": {f"{vc.server}.username": vc.username, f"{vc.server}.password": marker}}
    text = dump(inner).replace("{", "{{").replace("}", "}}").replace(marker, "{password}")
    return {"apiVersion": "v1", "kind": "Secret", "metadata": object_meta(spec, f"{CPI_PREFIX}-secret"),
            "type": "addons.cluster.x-k8s.io/resource-set",
            "stringData": {"data": _QuotedSecretText(text, {"password": vc.password})}}


def _cpi_objects(spec: InstallSpec) -> list[dict[str, Any]]:
    cpi = _platform(spec).cpi
    registry = cpi.imageRegistry or spec.node_registry_address
    image = f"{registry}/ait/cloud-provider-vsphere:{cpi.imageTag}"
    ns = "kube-system"
    sa = "cloud-controller-manager"
    subjects = [{"kind": "ServiceAccount", "name": sa, "namespace": ns},
                {"kind": "User", "name": sa}]
    pod_spec: dict[str, Any] = {
        "containers": [{
            "args": ["--v=2", "--cloud-provider=vsphere", "--cloud-config=/etc/cloud/vsphere.conf"],
            "image": image,
            "name": "vsphere-cloud-controller-manager",
            "resources": {"requests": {"cpu": "200m"}},
            "volumeMounts": [{"mountPath": "/etc/cloud", "name": "vsphere-config-volume",
                              "readOnly": True}],
        }],
        "hostNetwork": True,
        "nodeSelector": {"node-role.kubernetes.io/control-plane": ""},
        "priorityClassName": "system-node-critical",
        "securityContext": {"runAsUser": 1001},
        "serviceAccountName": sa,
        "tolerations": [
            {"effect": "NoSchedule", "key": "node.cloudprovider.kubernetes.io/uninitialized",
             "value": "true"},
            {"effect": "NoSchedule", "key": "node-role.kubernetes.io/master"},
            {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"},
            {"effect": "NoSchedule", "key": "node.kubernetes.io/not-ready"},
        ],
        "volumes": [{"configMap": {"name": "cloud-config"}, "name": "vsphere-config-volume"}],
    }
    if cpi.imagePullSecrets:
        pod_spec["imagePullSecrets"] = [{"name": s} for s in cpi.imagePullSecrets]
    rule = lambda groups, res, verbs: {"apiGroups": groups, "resources": res, "verbs": verbs}  # noqa: E731
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": ns}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": {"name": "system:cloud-controller-manager"},
         "rules": [
             rule([""], ["events"], ["create", "patch", "update"]),
             rule([""], ["nodes"], ["*"]),
             rule([""], ["nodes/status"], ["patch"]),
             rule([""], ["services"], ["list", "patch", "update", "watch"]),
             rule([""], ["services/status"], ["patch"]),
             rule([""], ["serviceaccounts"], ["create", "get", "list", "watch", "update"]),
             rule([""], ["persistentvolumes"], ["get", "list", "watch", "update"]),
             rule([""], ["endpoints"], ["create", "get", "list", "watch", "update"]),
             rule([""], ["secrets"], ["get", "list", "watch"]),
             rule(["coordination.k8s.io"], ["leases"],
                  ["get", "watch", "list", "delete", "update", "create"]),
         ]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "system:cloud-controller-manager"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                     "name": "system:cloud-controller-manager"},
         "subjects": subjects},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": "servicecatalog.k8s.io:apiserver-authentication-reader",
                      "namespace": ns},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                     "name": "extension-apiserver-authentication-reader"},
         "subjects": subjects},
        {"apiVersion": "apps/v1", "kind": "DaemonSet",
         "metadata": {"labels": {"component": "cloud-controller-manager", "tier": "control-plane"},
                      "name": "vsphere-cloud-controller-manager", "namespace": ns},
         "spec": {"selector": {"matchLabels": {"name": "vsphere-cloud-controller-manager"}},
                  "template": {"metadata": {"labels": {
                      "component": "cloud-controller-manager",
                      "name": "vsphere-cloud-controller-manager",
                      "tier": "control-plane"}}, "spec": pod_spec},
                  "updateStrategy": {"type": "RollingUpdate"}}},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"labels": {"component": "cloud-controller-manager"},
                      "name": "cloud-controller-manager", "namespace": ns},
         "spec": {"ports": [{"port": 443, "protocol": "TCP", "targetPort": 43001}],
                  "selector": {"component": "cloud-controller-manager"},
                  "type": "NodePort"}},
    ]


def _cpi_manifests(spec: InstallSpec) -> dict[str, Any]:
    text = dump_all(_cpi_objects(spec))
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": object_meta(spec, f"{CPI_PREFIX}-manifests"), "data": {"data": text}}


def _cpi_resource_set(spec: InstallSpec, resources: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": ADDONS, "kind": "ClusterResourceSet", "metadata": object_meta(spec, CPI_PREFIX),
            "spec": {"strategy": "Reconcile",
                     "clusterSelector": {"matchLabels": {CPI_LABEL: "enabled"}},
                     "resources": [{"name": r["metadata"]["name"], "kind": r["kind"]}
                                   for r in resources]}}


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
    keys = _platform(spec).sshAuthorizedKeys
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


def _kubeadm_cp(spec: InstallSpec) -> KubeadmContribution:
    p = _platform(spec)
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


def _kubeadm_worker(spec: InstallSpec) -> KubeadmContribution:
    return KubeadmContribution(
        files=_common_files(spec),
        users=_users(spec),
        pre_kubeadm_commands=PRE_KUBEADM,
        join_configuration=_node_registration(control_plane=False),
    )


@hookimpl
def acp_manifest(spec: InstallSpec) -> Iterator[ProviderManifest]:
    p = _platform(spec)
    objects: list[dict[str, Any]] = [_secret(spec), _pool(spec, p.controlPlane),
                                     _template(spec, p.controlPlane)]
    groups = []
    for w in p.workers:
        objects += [_pool(spec, w), _template(spec, w)]
        groups.append(WorkerGroup(
            name=w.name, replicas=w.replicas,
            infrastructure=ObjectRef(INFRA, "VSphereMachineTemplate", template_name(w)),
            kubeadm=_kubeadm_worker(spec), labels={"nodepool": w.name}))
    objects.append(_cluster(spec))
    cpi = [_cpi_config(spec), _cpi_secret(spec), _cpi_manifests(spec)]
    annotations = {"cpaas.io/alb-address-type": "ClusterAddress",
                   "cpaas.io/network-type": "kube-ovn"}
    if p.kubeOvnVersion:
        annotations["cpaas.io/kube-ovn-version"] = p.kubeOvnVersion
    if p.sentryDeployType:
        annotations["cpaas.io/sentry-deploy-type"] = p.sentryDeployType
    yield ProviderManifest(
        objects=tuple(objects),
        control_plane_template=ObjectRef(INFRA, "VSphereMachineTemplate",
                                         template_name(p.controlPlane)),
        kubeadm=_kubeadm_cp(spec),
        cluster_labels={CPI_LABEL: "enabled"},
        cluster_annotations=annotations,
        workers=tuple(groups),
        trailing_objects=(*cpi, _cpi_resource_set(spec, cpi)),
        control_plane_machine_labels={"node-role.kubernetes.io/control-plane": ""},  # §3.4
    )


def _plural(kind: str) -> str:
    return kind.lower() + "s"


def _etcd_entry(group: str, kind: str, namespace: str,
                names: tuple[str, ...] | None = None) -> ImportEntry:
    return ImportEntry.etcd(f"{_plural(kind)}.{group}", names, namespace=namespace)


@hookimpl
def acp_extra_resources(spec: InstallSpec,
                        objects: Sequence[Mapping[str, Any]]) -> list[ImportEntry]:
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


@hookimpl
def acp_installer_payload(spec: InstallSpec) -> InstallerPayloadPart:
    # The endpoint is VSphereCluster.spec.controlPlaneEndpoint, the CIDRs are on the Cluster.
    return InstallerPayloadPart(console_hosts=(), cluster=False)


@hookimpl
def acp_dr_fields(spec: InstallSpec, role: str) -> Iterator[DRContribution]:
    """vSphere keeps the KCP file entry (no VSphereCluster ref exists); both sides share
    ``dr.encryptionKey``, so the entry is byte-identical on primary and standby."""
    yield DRContribution(kubeadm=KubeadmContribution(files=(encryption_file(spec),)))


@hookimpl
def acp_spec_example() -> SpecExample:
    return SpecExample(templating.render("platform-example.yaml.j2", package=PACKAGE))


@hookimpl
def acp_validate(spec: InstallSpec) -> Iterator[Finding]:
    return checks.check(spec)
