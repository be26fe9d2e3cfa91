"""Huawei Cloud Stack (HCS) provider: hook implementations.

The HCS objects of the global manifest (credential Secret, ``HCSMachineConfigPool``,
``HCSMachineTemplate``, ``HCSCluster global`` with its ELB), the HCS part of the kubeadm body
(``cloud-config``; no encryption file outside DR) and the Step 7 import list derived from the
rendered objects are built in :mod:`.render`; the rules checked before anything is applied are
in :mod:`.validate`, the stall signals in :mod:`.diagnose`. This module wires them into the hook
contract, with the installer request (``console.host: []``, no ``cluster`` block: the HCS ELB
owns the VIP).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from acp_install.provider import (
    Diagnosis,
    DRContribution,
    Finding,
    ImportEntry,
    InstallerPayloadPart,
    InstallSpec,
    ObjectRef,
    ProviderInfo,
    ProviderManifest,
    ProviderPackage,
    SpecExample,
    hookimpl,
    provider_package,
    spec_example,
)

from . import diagnose, render, validate
from .models import SECRET_NAME_ALIASES, HcsPlatform
from .render import CP_TEMPLATE, FORMAT, INFRA, RELEASE


@hookimpl
def acp_provider_info() -> ProviderInfo:
    return ProviderInfo(
        id="hcs",
        display_name="Huawei Cloud Stack",
        contract="2",
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

@hookimpl
def acp_manifest(spec: InstallSpec) -> Iterator[ProviderManifest]:
    objects, groups = render.manifest_objects(spec)
    yield ProviderManifest(
        objects=tuple(objects),
        control_plane_template=ObjectRef(INFRA, "HCSMachineTemplate", CP_TEMPLATE),
        kubeadm=render.kubeadm(spec, worker=False),
        cluster_annotations=render.cluster_annotations(spec),
        workers=tuple(groups),
    )


@hookimpl
def acp_extra_resources(spec: InstallSpec,
                        objects: Sequence[Mapping[str, Any]]) -> list[ImportEntry]:
    """The HCS import list (§4.6), read from what is rendered rather than from the spec.

    The credential Secret is the one ``HCSCluster global`` references; the infrastructure
    cluster by the name it was rendered with; templates, pools and the machines the templates
    produce are imported whole (by etcd key base) as soon as their kind is in the manifest.
    """
    return render.import_entries(objects)


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
    yield DRContribution(kubeadm=render.dr_kubeadm(spec))


@hookimpl
def acp_diagnose(snapshot: Mapping[str, Any]) -> Iterator[Diagnosis]:
    """HCS stall signals (§4.9): control plane HA server group, ECS creation, hostnames."""
    yield from diagnose.stalls(snapshot)


@hookimpl
def acp_spec_example() -> SpecExample:
    return spec_example("acp_install_hcs", placeholders=PLACEHOLDERS)


#: Example values a real spec replaces: account ids, endpoint domain, node and ELB addresses.
PLACEHOLDERS = (
    "platform.credentials.accessKey", "platform.credentials.projectID",
    "platform.credentials.externalGlobalDomain",
    "platform.controlPlane.pool[*].networks[*].ipAddress",
    "platform.loadBalancer.elbVirsubnetL4Ips[*].ips[*]",
    "platform.loadBalancer.elbVirsubnetL7Ips[*].ips[*]",
)


@hookimpl
def acp_validate(spec: InstallSpec) -> Iterator[Finding]:
    yield from validate.check(spec)
