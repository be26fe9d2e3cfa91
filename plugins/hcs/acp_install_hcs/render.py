"""HCS objects as data: the Step 4 objects, the HCS part of the kubeadm body, Step 7 entries.

Pure functions of the spec (and, for Step 7, of the objects actually rendered), so ``render``
output and the import list agree on names.
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
    WorkerGroup,
    crd_data,
    encryption_config,
    image_fields,
    kubeadm_base,
    object_meta,
    platform_of,
    secret_object,
    worker_group,
)

from .models import HcsPlatform, Machines

INFRA = "infrastructure.cluster.x-k8s.io/v1beta1"
INFRA_GROUP = INFRA.split("/")[0]
FORMAT = "cloud-config"
RELEASE = "cluster-api-provider-hcs"
CP_POOL = "global-cp-pool"
CP_TEMPLATE = "global-cp-machine-template"
CLUSTER_NAME = "global"
ENCRYPTION_PATH = "/etc/kubernetes/encryption-provider.conf"
PACKAGE = "acp_install_hcs"
#: Kinds imported in Step 7, in the order of the HCS documentation, with their CRD plural.
IMPORTED_KINDS = (
    ("HCSCluster", "hcsclusters"),
    ("HCSMachineTemplate", "hcsmachinetemplates"),
    ("HCSMachineConfigPool", "hcsmachineconfigpools"),
    ("HCSMachine", "hcsmachines"),
)


def credential_secret(spec: InstallSpec) -> dict[str, Any]:
    c = platform_of(spec, HcsPlatform).credentials
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
    return secret_object(spec, spec.providerSecretName, data, labels=labels)


def config_pool(spec: InstallSpec, name: str, m: Machines) -> dict[str, Any]:
    return {"apiVersion": INFRA, "kind": "HCSMachineConfigPool",
            "metadata": object_meta(spec, name, labels={"cluster.x-k8s.io/cluster-name": CLUSTER_NAME}),
            "spec": {"configs": crd_data(m.pool)}}


def machine_template(spec: InstallSpec, name: str, pool: str, m: Machines) -> dict[str, Any]:
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


def hcs_cluster(spec: InstallSpec) -> dict[str, Any]:
    p = platform_of(spec, HcsPlatform)
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


def kubeadm(spec: InstallSpec, *, worker: bool) -> KubeadmContribution:
    """The documented HCS body (``templates/kcp-base.yaml``) with the spec's image values."""
    base = kubeadm_base(PACKAGE, spec, worker=worker)
    if worker:
        return base
    p = platform_of(spec, HcsPlatform)
    images = image_fields(p.imageRepository, p.dnsImageTag, p.etcdImageTag)
    return attrs.evolve(base, cluster_configuration={**images, **base.cluster_configuration})


def cluster_annotations(spec: InstallSpec) -> dict[str, str]:
    """The create-cluster page's Cluster annotations (the global fragment adds none of its own
    beyond the registry address, which the core sets)."""
    p = platform_of(spec, HcsPlatform)
    annotations: dict[str, str] = {}
    if p.sentryDeployType:
        annotations["cpaas.io/sentry-deploy-type"] = p.sentryDeployType
    if p.albAddressType:
        annotations["cpaas.io/alb-address-type"] = p.albAddressType
    if p.kubeOvnVersion:
        annotations["cpaas.io/kube-ovn-version"] = p.kubeOvnVersion
    return {**annotations, **p.clusterAnnotations}


def worker_names(name: str) -> tuple[str, str]:
    """(config pool, machine template) names of a worker group."""
    return f"{name}-pool", f"{name}-machine-template"


def manifest_objects(spec: InstallSpec) -> tuple[list[dict[str, Any]], list[WorkerGroup]]:
    """Provider objects in the documented order (pools, templates, cluster), and the worker groups."""
    p = platform_of(spec, HcsPlatform)
    objects = [credential_secret(spec), config_pool(spec, CP_POOL, p.controlPlane)]
    templates = [machine_template(spec, CP_TEMPLATE, CP_POOL, p.controlPlane)]
    groups = []
    for w in p.workers:
        pool, template = worker_names(w.name)
        objects.append(config_pool(spec, pool, w))
        templates.append(machine_template(spec, template, pool, w))
        groups.append(worker_group(w, ObjectRef(INFRA, "HCSMachineTemplate", template),
                                   kubeadm(spec, worker=True)))
    return [*objects, *templates, hcs_cluster(spec)], groups


# --- Step 7 / DR --------------------------------------------------------------------------------


def import_entries(objects: Sequence[Mapping[str, Any]]) -> list[ImportEntry]:
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



def dr_kubeadm(spec: InstallSpec) -> KubeadmContribution:
    """The shared encryption config as a KCP file (0600, ``append: false``) and its apiserver flag."""
    entry = KubeadmFile(ENCRYPTION_PATH, encryption_config(spec), permissions="0600", append=False)
    return KubeadmContribution(
        files=(entry,),
        cluster_configuration={"apiServer": {"extraArgs": {
            "encryption-provider-config": ENCRYPTION_PATH}}},
    )
