"""VMware vSphere provider: hook implementations.

The vSphere objects of the global manifest (Secret ``global-vsphere-credentials``,
``VSphereMachineConfigPool``/``VSphereMachineTemplate`` pairs, ``VSphereCluster global``), the
vSphere kubeadm body (cloud-config, external cloud provider, preloaded images, the
always-present encryption file) and the Step 7 import list derived from the rendered objects are
built in :mod:`.render`, the CPI ``ClusterResourceSet`` in :mod:`.cpi`; :mod:`.validate` holds
the rules checked before anything is applied. This module wires them into the hook contract,
with the installer request (``console.host: []``, no ``cluster`` block).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from acp_install.provider import (
    DRContribution,
    Finding,
    ImportEntry,
    InstallerPayloadPart,
    InstallSpec,
    KubeadmContribution,
    ObjectRef,
    Probe,
    ProviderInfo,
    ProviderManifest,
    ProviderPackage,
    RunbookStep,
    SpecExample,
    hookimpl,
    platform_of,
    provider_package,
    spec_example,
)

from . import cpi, render, validate
from .derive import template_name
from .models import VspherePlatform
from .render import CPI_LABEL, FORMAT, INFRA, PACKAGE, RELEASE, WAIT_CRD


@hookimpl
def acp_provider_info() -> ProviderInfo:
    return ProviderInfo(
        id="vsphere",
        display_name="VMware vSphere",
        contract="2",
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

@hookimpl
def acp_manifest(spec: InstallSpec) -> Iterator[ProviderManifest]:
    p = platform_of(spec, VspherePlatform)
    objects, groups = render.manifest_objects(spec)
    annotations = render.cluster_annotations(spec)
    yield ProviderManifest(
        objects=tuple(objects),
        control_plane_template=ObjectRef(INFRA, "VSphereMachineTemplate",
                                         template_name(p.controlPlane)),
        kubeadm=render.kubeadm_control_plane(spec),
        cluster_labels={CPI_LABEL: "enabled"},
        cluster_annotations=annotations,
        workers=tuple(groups),
        trailing_objects=cpi.objects(spec),
        control_plane_machine_labels={"node-role.kubernetes.io/control-plane": ""},  # §3.4
    )


@hookimpl
def acp_extra_resources(spec: InstallSpec,
                        objects: Sequence[Mapping[str, Any]]) -> list[ImportEntry]:
    """§3.6, derived from the rendered objects: the infrastructure cluster(s) by name, every
    machine template / machine / VM / config pool under its etcd key base, and the credential
    Secret the VSphereCluster actually references."""
    return render.import_entries(spec, objects)


@hookimpl
def acp_installer_payload(spec: InstallSpec) -> InstallerPayloadPart:
    # The endpoint is VSphereCluster.spec.controlPlaneEndpoint, the CIDRs are on the Cluster.
    return InstallerPayloadPart(console_hosts=(), cluster=False)


@hookimpl
def acp_dr_fields(spec: InstallSpec, role: str) -> Iterator[DRContribution]:
    """vSphere keeps the KCP file entry (no VSphereCluster ref exists); both sides share
    ``dr.encryptionKey``, so the entry is byte-identical on primary and standby."""
    yield DRContribution(kubeadm=KubeadmContribution(files=(render.encryption_file(spec),)))


@hookimpl
def acp_runbook_steps(spec: InstallSpec) -> Iterator[RunbookStep]:
    """The create-cluster page's checks: the failure-domain set before the machines, the CPI
    delivery and its restart once the control plane answers."""
    p = platform_of(spec, VspherePlatform)
    if p.failureDomains is not None:
        yield RunbookStep("manifest", "vSphere: the failure domains exist", """\
Every `VSphereFailureDomain` and `VSphereDeploymentZone` the cluster references must exist before
machines can be placed; do not go on until the deployment zones are available:

```bash
kubectl get vspherefailuredomain,vspheredeploymentzone
```
""")
    yield RunbookStep("control-plane", "vSphere: the CPI reached the new cluster", f"""\
The `{cpi.CPI_PREFIX}` ClusterResourceSet delivers the cloud controller manager once the API
answers; without it nodes keep no `spec.providerID`. Check the delivery, then the Pods:

```bash
kubectl -n cpaas-system get clusterresourceset,clusterresourcesetbinding
kubectl --kubeconfig global.kubeconfig -n kube-system get pods -l k8s-app=vsphere-cloud-controller-manager
```

After fixing a duplicate guest hostname or an old VM conflict, restart the CPI Pods to clear
their cache: `kubectl --kubeconfig global.kubeconfig -n kube-system delete pod -l
k8s-app=vsphere-cloud-controller-manager` (`acp-install kubeconfig --out global.kubeconfig`
writes that kubeconfig).
""")


@hookimpl
def acp_spec_example() -> SpecExample:
    return spec_example(PACKAGE, placeholders=PLACEHOLDERS)


#: Example values a real spec replaces: vCenter endpoint and thumbprint, key, node addresses,
#: datastore.
_NET = "platform.controlPlane.configs[*].network.primary"
PLACEHOLDERS = (
    "platform.vcenter.server", "platform.vcenter.thumbprint", "platform.sshAuthorizedKeys[*]",
    "platform.controlPlane.datastore", f"{_NET}.ip", f"{_NET}.gateway", f"{_NET}.dns[*]",
)


@hookimpl
def acp_validate(spec: InstallSpec) -> Iterator[Finding]:
    return validate.check(spec)


@hookimpl
def acp_preflight(spec: InstallSpec) -> Iterator[Probe]:
    """vCenter (port 443, as the page assumes) must answer TLS from the bootstrap host."""
    server = platform_of(spec, VspherePlatform).vcenter.server
    yield Probe("vcenter-api", "platform.vcenter.server", server, 443, "tls", "vCenter")
