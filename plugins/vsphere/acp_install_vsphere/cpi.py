"""The vSphere cloud controller manager (CPI), delivered by a ``ClusterResourceSet``.

Its ConfigMaps and Secret carry the CPI objects as text for the new cluster's ``kube-system``;
the Secret's password is inserted as a YAML double-quoted scalar, so any password is safe.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from acp_install.provider import InstallSpec, SecretText, object_meta, platform_of, secret_object, templating
from acp_install.provider import dump_yaml as dump
from acp_install.provider import dump_yaml_all as dump_all

from .models import VspherePlatform
from .render import CPI_LABEL, PACKAGE

ADDONS = "addons.cluster.x-k8s.io/v1beta1"
CPI_PREFIX = "global-vsphere-cpi"


@attrs.frozen
class _QuotedSecretText(SecretText):
    """SecretText whose values are inserted as YAML double-quoted scalars (any password is safe)."""

    def render(self, *, reveal: bool) -> str:
        values = {k: json.dumps(r.reveal().get() if reveal else r.placeholder())
                  for k, r in self.refs.items()}
        return self.template.format(**values)


def _datacenters(spec: InstallSpec) -> list[str]:
    p = platform_of(spec, VspherePlatform)
    seen: dict[str, None] = {p.vcenter.datacenter: None}
    for m in (p.controlPlane, *p.workers):
        for slot in m.configs:
            if slot.datacenter:
                seen.setdefault(slot.datacenter)
    for d in p.failureDomains.domains if p.failureDomains is not None else ():
        if d.datacenter:
            seen.setdefault(d.datacenter)
    return list(seen)


def config(spec: InstallSpec) -> dict[str, Any]:
    p = platform_of(spec, VspherePlatform)
    fd = p.failureDomains
    # [Labels] only with failure domains: "Adding [Labels] to vsphere.conf without matching
    # VSphereFailureDomain objects causes the CPI to look up zone and region tags that do not exist"
    labels = {"zone": fd.zoneTagCategory, "region": fd.regionTagCategory} if fd is not None else None
    conf = templating.render("vsphere.conf.j2", package=PACKAGE,
                             datacenters=",".join(_datacenters(spec)), server=p.vcenter.server,
                             labels=labels)
    inner = {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "cloud-config", "namespace": "kube-system"},
             "data": {"vsphere.conf": conf}}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": object_meta(spec, f"{CPI_PREFIX}-config"),
            "data": {"data": dump(inner)}}


def secret(spec: InstallSpec) -> dict[str, Any]:
    vc = platform_of(spec, VspherePlatform).vcenter
    marker = "ACP_INSTALL_PASSWORD_MARKER"  # a plain scalar: dump() leaves it unquoted
    inner = {"apiVersion": "v1", "kind": "Secret",
             "metadata": {"name": "vsphere-cloud-secret", "namespace": "kube-system"},
             "type": "Opaque",
             "stringData": {f"{vc.server}.username": vc.username, f"{vc.server}.password": marker}}
    text = dump(inner).replace("{", "{{").replace("}", "}}").replace(marker, "{password}")
    return secret_object(spec, f"{CPI_PREFIX}-secret", {"data": _QuotedSecretText(text, {"password": vc.password})},
                         type="addons.cluster.x-k8s.io/resource-set")


#: The DaemonSet's label the create-cluster page selects on (its troubleshooting restart:
#: ``kubectl -n kube-system delete pod -l k8s-app=vsphere-cloud-controller-manager``).
APP_LABEL = {"k8s-app": "vsphere-cloud-controller-manager"}


def _objects(spec: InstallSpec) -> list[dict[str, Any]]:
    """``<cluster_name>-vsphere-cpi-manifests`` of the create-cluster page, object by object:
    the same labels, selector, tolerations and ports, so the page's commands match."""
    cpi = platform_of(spec, VspherePlatform).cpi
    registry = cpi.imageRegistry or spec.node_registry_address
    image = f"{registry}/ait/cloud-provider-vsphere:{cpi.imageTag}"
    ns = "kube-system"
    sa = "cloud-controller-manager"
    subjects = [{"apiGroup": "", "kind": "ServiceAccount", "name": sa, "namespace": ns},
                {"apiGroup": "", "kind": "User", "name": sa}]
    pod_spec: dict[str, Any] = {
        "securityContext": {"runAsUser": 1001},
        "automountServiceAccountToken": True,
    }
    if cpi.imagePullSecrets:
        pod_spec["imagePullSecrets"] = [{"name": s} for s in cpi.imagePullSecrets]
    pod_spec |= {
        "serviceAccountName": sa,
        "hostNetwork": True,
        "tolerations": [
            {"operator": "Exists"},
            {"key": "node.cloudprovider.kubernetes.io/uninitialized", "value": "true",
             "effect": "NoSchedule"},
            {"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"},
            {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule", "operator": "Exists"},
        ],
        "containers": [{
            "name": "vsphere-cloud-controller-manager",
            "image": image,
            "args": ["--v=2", "--cloud-provider=vsphere", "--cloud-config=/etc/cloud/vsphere.conf"],
            "volumeMounts": [{"mountPath": "/etc/cloud", "name": "vsphere-config-volume",
                              "readOnly": True}],
            "resources": {"requests": {"cpu": "200m"}},
        }],
        "volumes": [{"name": "vsphere-config-volume", "configMap": {"name": "cloud-config"}}],
    }
    rule = lambda groups, res, verbs: {"apiGroups": groups, "resources": res, "verbs": verbs}  # noqa: E731
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": ns},
         "automountServiceAccountToken": False},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": {"name": "system:cloud-controller-manager"},
         "rules": [
             rule([""], ["events"], ["create", "patch", "update"]),
             rule([""], ["nodes"], ["*"]),
             rule([""], ["nodes/status"], ["patch"]),
             rule([""], ["services"], ["list", "patch", "update", "watch"]),
             rule([""], ["services/status"], ["patch"]),
             rule([""], ["serviceaccounts"], ["create", "get", "list", "watch", "update"]),
             rule([""], ["persistentvolumes"], ["get", "list", "update", "watch"]),
             rule([""], ["endpoints"], ["create", "get", "list", "watch", "update"]),
             rule([""], ["secrets"], ["get", "list", "watch"]),
             rule(["coordination.k8s.io"], ["leases"], ["get", "list", "watch", "create", "update"]),
         ]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": "servicecatalog.k8s.io:apiserver-authentication-reader",
                      "namespace": ns},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                     "name": "extension-apiserver-authentication-reader"},
         "subjects": subjects},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "system:cloud-controller-manager"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                     "name": "system:cloud-controller-manager"},
         "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns},
                      {"kind": "User", "name": sa}]},
        {"apiVersion": "apps/v1", "kind": "DaemonSet",
         "metadata": {"annotations": {"scheduler.alpha.kubernetes.io/critical-pod": ""},
                      "labels": {"component": "cloud-controller-manager", "tier": "control-plane",
                                 **APP_LABEL},
                      "name": "vsphere-cloud-controller-manager", "namespace": ns},
         "spec": {"selector": {"matchLabels": dict(APP_LABEL)},
                  "updateStrategy": {"type": "RollingUpdate"},
                  "template": {"metadata": {"labels": {"component": "cloud-controller-manager",
                                                       **APP_LABEL}},
                               "spec": pod_spec}}},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"labels": {"component": "cloud-controller-manager"},
                      "name": "vsphere-cloud-controller-manager", "namespace": ns},
         "spec": {"type": "NodePort",
                  "ports": [{"port": 43001, "protocol": "TCP", "targetPort": 43001}],
                  "selector": {"component": "cloud-controller-manager"}}},
    ]


def manifests(spec: InstallSpec) -> dict[str, Any]:
    text = dump_all(_objects(spec))
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": object_meta(spec, f"{CPI_PREFIX}-manifests"), "data": {"data": text}}


def resource_set(spec: InstallSpec, resources: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": ADDONS, "kind": "ClusterResourceSet", "metadata": object_meta(spec, CPI_PREFIX),
            "spec": {"strategy": "Reconcile",
                     "clusterSelector": {"matchLabels": {CPI_LABEL: "enabled"}},
                     "resources": [{"name": r["metadata"]["name"], "kind": r["kind"]}
                                   for r in resources]}}



def objects(spec: InstallSpec) -> tuple[dict[str, Any], ...]:
    """The CPI ConfigMaps and Secret, then the ClusterResourceSet that delivers them."""
    parts = [config(spec), secret(spec), manifests(spec)]
    return (*parts, resource_set(spec, parts))
