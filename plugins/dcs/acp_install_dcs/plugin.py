"""Huawei DCS provider: hook implementations.

The DCS objects of the global manifest (credential Secret, ``DCSIpHostnamePool``,
``DCSMachineTemplate``, ``DCSCluster global``) and the DCS part of the kubeadm body are built in
:mod:`.render`; the DCS rules checked before anything is applied are in :mod:`.validate`. This
module wires them into the hook contract, with the installer request (``console.host`` = the
VIP, ``cluster`` block with ``features.ha``).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from acp_install.provider import (
    DRContribution,
    Finding,
    ImportEntry,
    InstallerHA,
    InstallerPayloadPart,
    InstallSpec,
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

from . import render, validate
from .models import DcsPlatform
from .render import CP_TEMPLATE, ENCRYPTION_SECRET, FORMAT, INFRA, RELEASE


@hookimpl
def acp_provider_info() -> ProviderInfo:
    return ProviderInfo(
        id="dcs",
        display_name="Huawei DCS",
        contract="2",
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


@hookimpl
def acp_manifest(spec: InstallSpec) -> Iterator[ProviderManifest]:
    objects, groups = render.manifest_objects(spec)
    annotations = render.cluster_annotations(spec)
    yield ProviderManifest(
        objects=tuple(objects),
        control_plane_template=ObjectRef(INFRA, "DCSMachineTemplate", CP_TEMPLATE),
        kubeadm=render.kubeadm(spec, worker=False),
        kcp_annotations={"controlplane.cluster.x-k8s.io/skip-kube-proxy": ""},
        cluster_annotations=annotations,
        workers=tuple(groups),
    )


@hookimpl
def acp_extra_resources(spec: InstallSpec,
                        objects: Sequence[Mapping[str, Any]]) -> list[ImportEntry]:
    """The credential Secret the DCSCluster actually references (current docs)."""
    return render.import_entries(spec, objects)


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
    imports = (ImportEntry("secrets", names=(ENCRYPTION_SECRET,), method="kubectl"),)
    yield DRContribution(
        objects=(render.encryption_secret(spec),),
        infra_cluster_spec={"encryptionProviderConfigRef": {"name": ENCRYPTION_SECRET}},
        import_entries=imports if platform_of(spec, DcsPlatform).importExtraResources else (),
    )


@hookimpl
def acp_runbook_steps(spec: InstallSpec) -> Iterator[RunbookStep]:
    """global/install.mdx "Decommission the Bootstrap Cluster" (DCS directive): the credential
    Secret must have reached the global cluster, or its DCS provider cannot reconcile."""
    name = shlex.quote(spec.providerSecretName)
    yield RunbookStep("handoff", "DCS: the credential Secret reached the global cluster", f"""\
Step 7 imports the Secret `DCSCluster.spec.credentialSecretRef` names. Check it is in the final
cluster before the bootstrap host goes: without it the global cluster's DCS provider has no DCS
API credentials (a later scale-out fails).

```bash
kubectl --kubeconfig global.kubeconfig -n cpaas-system get secret {name} -o name
```
""")


@hookimpl
def acp_spec_example() -> SpecExample:
    return spec_example("acp_install_dcs", placeholders=PLACEHOLDERS)


#: Example values a real spec replaces: endpoint, site id, key, node addresses, datastores.
_CP = "platform.controlPlane"
PLACEHOLDERS = (
    "platform.credentials.endpoint", "platform.credentials.site", "platform.sshAuthorizedKeys[*]",
    f"{_CP}.pool[*].ip", f"{_CP}.pool[*].gateway", f"{_CP}.pool[*].dns",
    f"{_CP}.disks[*].datastoreName", f"{_CP}.pool[*].persistentDisk[*].datastoreName",
)


@hookimpl
def acp_validate(spec: InstallSpec) -> Iterator[Finding]:
    yield from validate.check(spec)


@hookimpl
def acp_preflight(spec: InstallSpec) -> Iterator[Probe]:
    """The DCS REST API (VRM, port 7443 by default) must speak TLS; the static IPs of every
    pool must be free (a VM already answering SSH on one would collide with a new node)."""
    from urllib.parse import urlsplit

    p = platform_of(spec, DcsPlatform)
    url = urlsplit(p.credentials.endpoint)
    if url.hostname:
        yield Probe("dcs-api", "platform.credentials.endpoint", url.hostname, url.port or 7443,
                    "tls", "DCS API")
    groups = [("controlPlane", p.controlPlane), *((f"workers[{i}]", w) for i, w in enumerate(p.workers))]
    for where, group in groups:
        for i, slot in enumerate(group.pool):
            yield Probe("node-ips", f"platform.{where}.pool[{i}].ip", slot.ip, 22, "free",
                        f"node IP {slot.ip} (ssh)")
