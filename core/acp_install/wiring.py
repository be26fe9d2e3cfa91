"""The Cluster API wiring every provider shares: ``Cluster global``, ``KubeadmControlPlane
global-kcp`` and the worker ``KubeadmConfigTemplate``/``MachineDeployment`` pairs.

The provider supplies objects and references (:class:`~acp_install.records.ProviderManifest`);
this module builds the common objects around them with the procedure's global-specific values
(labels, annotations, registry address, SANs, rollout settings, hardened kubeadm body).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from .records import (
    KubeadmContribution,
    KubeadmFile,
    KubeObject,
    ObjectRef,
    ProviderInfo,
    ProviderManifest,
    WorkerGroup,
)
from .spec.model import InstallSpec
from .templating import render

CAPI = "cluster.x-k8s.io/v1beta1"
CONTROLPLANE = "controlplane.cluster.x-k8s.io/v1beta1"
BOOTSTRAP = "bootstrap.cluster.x-k8s.io/v1beta1"
KCP_NAME = "global-kcp"
CLUSTER_NAME = "global"

PSA_PATH = "/etc/kubernetes/admission/psa-config.yaml"
KUBELET_PATCH_PATH = "/etc/kubernetes/patches/kubeletconfiguration0+strategic.json"
AUDIT_PATH = "/etc/kubernetes/audit/policy.yaml"
PATCHES_DIR = "/etc/kubernetes/patches"

API_SERVER_ARGS = {
    "admission-control-config-file": PSA_PATH,
    "audit-log-format": "json",
    "audit-log-maxage": "30",
    "audit-log-maxbackup": "10",
    "audit-log-maxsize": "200",
    "audit-log-mode": "batch",
    "audit-log-path": "/etc/kubernetes/audit/audit.log",
    "audit-policy-file": AUDIT_PATH,
    "kubelet-certificate-authority": "/etc/kubernetes/pki/ca.crt",
    "profiling": "false",
    "tls-cipher-suites": ",".join((
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    )),
    "tls-min-version": "VersionTLS12",
}
CONTROLLER_MANAGER_ARGS = {
    "bind-address": "::",
    "flex-volume-plugin-dir": "/opt/libexec/kubernetes/kubelet-plugins/volume/exec/",
    "profiling": "false",
    "tls-min-version": "VersionTLS12",
}
SCHEDULER_ARGS = {"bind-address": "::", "profiling": "false", "tls-min-version": "VersionTLS12"}


def deep_merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``extra`` into a copy of ``base``: mappings recursively, anything else replaced."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def merge_manifests(parts: Sequence[ProviderManifest]) -> ProviderManifest:
    """Fold every ``acp_manifest`` contribution into one (objects in contribution order)."""
    templates = [p.control_plane_template for p in parts if p.control_plane_template]
    merged = ProviderManifest(control_plane_template=templates[0] if templates else None)
    for p in parts:
        merged = ProviderManifest(
            objects=merged.objects + p.objects,
            control_plane_template=merged.control_plane_template,
            kubeadm=merge_kubeadm(merged.kubeadm, p.kubeadm),
            kcp_annotations={**merged.kcp_annotations, **p.kcp_annotations},
            cluster_labels={**merged.cluster_labels, **p.cluster_labels},
            cluster_annotations={**merged.cluster_annotations, **p.cluster_annotations},
            workers=merged.workers + p.workers,
            trailing_objects=merged.trailing_objects + p.trailing_objects,
            control_plane_machine_labels={**merged.control_plane_machine_labels,
                                          **p.control_plane_machine_labels},
        )
    return merged


def merge_kubeadm(a: KubeadmContribution, b: KubeadmContribution) -> KubeadmContribution:
    files = {f.path: f for f in a.files}
    files.update({f.path: f for f in b.files})
    return KubeadmContribution(
        files=tuple(files.values()),
        pre_kubeadm_commands=a.pre_kubeadm_commands + b.pre_kubeadm_commands,
        post_kubeadm_commands=a.post_kubeadm_commands + b.post_kubeadm_commands,
        users=a.users + b.users,
        cluster_configuration=deep_merge(a.cluster_configuration, b.cluster_configuration),
        init_configuration=deep_merge(a.init_configuration, b.init_configuration),
        join_configuration=deep_merge(a.join_configuration, b.join_configuration),
        extra=deep_merge(a.extra, b.extra),
        kubelet_config={**a.kubelet_config, **b.kubelet_config},
        complete=a.complete or b.complete,
    )


def kubelet_patch(spec: InstallSpec, *, worker: bool, extra: Mapping[str, Any]) -> str:
    """The KubeletConfiguration strategic patch, with the 1.35+ pull-credentials policy."""
    patch: dict[str, Any] = {
        "protectKernelDefaults": True,
        "streamingConnectionIdleTimeout": "5m",
        "tlsCertFile": "/etc/kubernetes/pki/kubelet.crt",
        "tlsPrivateKeyFile": "/etc/kubernetes/pki/kubelet.key",
    }
    if spec.k8s_minor >= (1, 35):
        patch["imagePullCredentialsVerificationPolicy"] = "NeverVerify"
    patch.update(extra)
    if worker:
        patch["staticPodPath"] = None
    return json.dumps(patch, indent=2, sort_keys=True) + "\n"


def baseline_kubeadm(spec: InstallSpec, *, worker: bool, kubelet_extra: Mapping[str, Any],
                     audit_policy: str) -> KubeadmContribution:
    """The hardened body the release manifests share (files, args, commands)."""
    patch = KubeadmFile(KUBELET_PATCH_PATH, kubelet_patch(spec, worker=worker, extra=kubelet_extra))
    join = {"patches": {"directory": PATCHES_DIR}}
    if worker:
        return KubeadmContribution(
            files=(patch,),
            post_kubeadm_commands=("chmod 600 /var/lib/kubelet/config.yaml",),
            join_configuration=join,
        )
    psa = render("files/psa-config.yaml.j2", exempt_namespaces=["kube-system", "cpaas-system"])
    return KubeadmContribution(
        files=(KubeadmFile(PSA_PATH, psa), patch, KubeadmFile(AUDIT_PATH, audit_policy)),
        post_kubeadm_commands=("chmod 600 /var/lib/kubelet/config.yaml",),
        cluster_configuration={
            "apiServer": {
                "extraArgs": dict(API_SERVER_ARGS),
                "extraVolumes": [{"name": "vol-dir-0", "hostPath": "/etc/kubernetes",
                                  "mountPath": "/etc/kubernetes", "pathType": "Directory"}],
            },
            "controllerManager": {"extraArgs": dict(CONTROLLER_MANAGER_ARGS)},
            "scheduler": {"extraArgs": dict(SCHEDULER_ARGS)},
        },
        init_configuration={"patches": {"directory": PATCHES_DIR}},
        join_configuration=join,
    )


def with_audit_policy(body: KubeadmContribution, policy: str) -> KubeadmContribution:
    """``body`` with the audit Policy file's content replaced (``controlPlane.auditPolicyFile``),
    keeping the entry's owner, permissions and position; added when the body has none."""
    files = list(body.files)
    for i, f in enumerate(files):
        if f.path == AUDIT_PATH:
            files[i] = attrs.evolve(f, content=policy, content_from=None)
            break
    else:
        files.append(KubeadmFile(AUDIT_PATH, policy))
    return attrs.evolve(body, files=tuple(files))


def with_api_server_args(body: KubeadmContribution, args: Mapping[str, str | None]) -> KubeadmContribution:
    """``body`` with ``controlPlane.apiServerExtraArgs`` applied: set, or removed when None."""
    if not args:
        return body
    cc = dict(body.cluster_configuration)
    api = dict(cc.get("apiServer") or {})
    extra = dict(api.get("extraArgs") or {})
    for key, value in args.items():
        if value is None:
            extra.pop(key, None)
        else:
            extra[key] = value
    api["extraArgs"] = extra
    cc["apiServer"] = api
    return attrs.evolve(body, cluster_configuration=cc)


def kubeadm_body(body: KubeadmContribution, fmt: str | None) -> dict[str, Any]:
    """A kubeadm config spec (KCP ``kubeadmConfigSpec`` / KCT ``template.spec``) as data."""
    out: dict[str, Any] = {}
    if fmt:
        out["format"] = fmt
    if body.users:
        out["users"] = [dict(u) for u in body.users]
    if body.cluster_configuration:
        out["clusterConfiguration"] = dict(body.cluster_configuration)
    if body.init_configuration:
        out["initConfiguration"] = dict(body.init_configuration)
    if body.join_configuration:
        out["joinConfiguration"] = dict(body.join_configuration)
    if body.files:
        out["files"] = [f.as_dict() for f in body.files]
    if body.pre_kubeadm_commands:
        out["preKubeadmCommands"] = list(body.pre_kubeadm_commands)
    if body.post_kubeadm_commands:
        out["postKubeadmCommands"] = list(body.post_kubeadm_commands)
    return deep_merge(out, body.extra)


def etcd_sans(spec: InstallSpec) -> list[str]:
    """etcd serverCertSANs: local VIP + platform host; both VIPs + etcd.kube-system for DR."""
    if spec.dr is not None:
        return [spec.dr.primaryVIP, spec.dr.standbyVIP, spec.platformHost, "etcd.kube-system"]
    return [spec.controlPlaneVIP, spec.platformHost]


def _meta(name: str, spec: InstallSpec, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": spec.namespace}
    meta.update({k: dict(v) for k, v in extra.items() if v})
    return meta


def control_plane(spec: InstallSpec, info: ProviderInfo, manifest: ProviderManifest,
                  body: KubeadmContribution) -> KubeObject:
    """``KubeadmControlPlane global-kcp``."""
    if manifest.control_plane_template is None:
        raise ValueError("the provider named no control-plane machine template")
    kcp_spec: dict[str, Any] = {"replicas": spec.controlPlane.replicas, "version": spec.k8sVersion}
    if spec.controlPlane.replicas > 1:
        kcp_spec["rolloutStrategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0}}
    kcp_spec["machineTemplate"] = {}
    if manifest.control_plane_machine_labels:
        kcp_spec["machineTemplate"]["metadata"] = {"labels": dict(manifest.control_plane_machine_labels)}
    kcp_spec["machineTemplate"] |= {
        "nodeDrainTimeout": "1m",
        "nodeDeletionTimeout": "5m",
        "infrastructureRef": manifest.control_plane_template.as_ref(),
    }
    sans = KubeadmContribution(cluster_configuration={"etcd": {"local": {"serverCertSANs": etcd_sans(spec)}}})
    fmt = spec.controlPlane.format or info.bootstrap_format
    kcp_spec["kubeadmConfigSpec"] = kubeadm_body(merge_kubeadm(body, sans), fmt)
    return {
        "apiVersion": CONTROLPLANE,
        "kind": "KubeadmControlPlane",
        "metadata": _meta(KCP_NAME, spec, annotations=manifest.kcp_annotations),
        "spec": kcp_spec,
    }


def cluster(spec: InstallSpec, info: ProviderInfo, manifest: ProviderManifest) -> KubeObject:
    """``Cluster global`` with the global labels and annotations."""
    labels = {"cluster-type": info.cluster_type, "is-global": "true", **manifest.cluster_labels}
    annotations = {
        "capi.cpaas.io/resource-group-version": info.infra_api_version,
        "capi.cpaas.io/resource-kind": info.infra_cluster_kind,
        "cpaas.io/registry-address": spec.node_registry_address,
    }
    if spec.kubeOvnJoinCIDR:
        annotations["cpaas.io/kube-ovn-join-cidr"] = spec.kubeOvnJoinCIDR
    annotations.update(manifest.cluster_annotations)
    return {
        "apiVersion": CAPI,
        "kind": "Cluster",
        "metadata": _meta(CLUSTER_NAME, spec, labels=labels, annotations=annotations),
        "spec": {
            "clusterNetwork": {
                "pods": {"cidrBlocks": [spec.clusterCIDR]},
                "services": {"cidrBlocks": [spec.serviceCIDR]},
            },
            "controlPlaneRef": {"apiVersion": CONTROLPLANE, "kind": "KubeadmControlPlane",
                                "name": KCP_NAME},
            "infrastructureRef": ObjectRef(info.infra_api_version, info.infra_cluster_kind,
                                           CLUSTER_NAME).as_ref(),
        },
    }


def workers(spec: InstallSpec, info: ProviderInfo, groups: Iterable[WorkerGroup],
            baseline: KubeadmContribution) -> list[KubeObject]:
    """A KubeadmConfigTemplate and a MachineDeployment per worker group."""
    out: list[KubeObject] = []
    for group in groups:
        bootstrap_name = group.bootstrap_name or f"{group.name}-bootstrap"
        body = group.kubeadm if group.kubeadm.complete else merge_kubeadm(baseline, group.kubeadm)
        out.append({
            "apiVersion": BOOTSTRAP,
            "kind": "KubeadmConfigTemplate",
            "metadata": _meta(bootstrap_name, spec),
            "spec": {"template": {"spec": kubeadm_body(body, info.bootstrap_format)}},
        })
        template_labels = {"cluster.x-k8s.io/cluster-name": CLUSTER_NAME, **group.labels}
        out.append({
            "apiVersion": CAPI,
            "kind": "MachineDeployment",
            "metadata": _meta(group.name, spec,
                              labels={"cluster.x-k8s.io/cluster-name": CLUSTER_NAME}),
            "spec": {
                "clusterName": CLUSTER_NAME,
                "replicas": group.replicas,
                "selector": {"matchLabels": {"cluster.x-k8s.io/cluster-name": CLUSTER_NAME}},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {
                    "maxSurge": group.max_surge, "maxUnavailable": group.max_unavailable}},
                "template": {
                    "metadata": {"labels": template_labels},
                    "spec": {
                        "clusterName": CLUSTER_NAME,
                        **({"failureDomain": group.failure_domain} if group.failure_domain else {}),
                        "version": spec.k8sVersion,
                        "nodeDrainTimeout": "1m",
                        "nodeDeletionTimeout": "5m",
                        "bootstrap": {"configRef": {"apiVersion": BOOTSTRAP,
                                                    "kind": "KubeadmConfigTemplate",
                                                    "name": bootstrap_name}},
                        "infrastructureRef": group.infrastructure.as_ref(),
                    },
                },
            },
        })
    return out
