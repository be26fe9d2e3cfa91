"""Bare Metal provider: hook implementations.

Alauda's ``cluster-api-provider-baremetal`` composed with its fork of ``elemental-operator``:
hosts boot a seed ISO, register as ``MachineInventory`` objects, and pools hand them to
``BaremetalMachine`` objects. This module wires the pure builders of :mod:`.render`, the rules
of :mod:`.validate` and the gates of :mod:`.gates` into the hook contract.
"""

from __future__ import annotations

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
    ProviderInfo,
    ProviderManifest,
    ProviderPackage,
    RunbookStep,
    SpecExample,
    WorkerGroup,
    encryption_config,
    hookimpl,
    platform_of,
    secret_object,
    spec_example,
    worker_group,
)

from . import gates, render, runbook, validate
from .models import BaremetalPlatform
from .render import CP_POOL, CP_TEMPLATE, ELEMENTAL_GROUP, INFRA, RELEASE

FORMAT = "cloud-config"
REGISTRY_PORT = 11443


@hookimpl
def acp_provider_info() -> ProviderInfo:
    return ProviderInfo(
        id="baremetal",
        display_name="Bare Metal",
        contract="2",
        infra_cluster_kind="BaremetalCluster",
        cluster_type="ProviderBaremetal",
        bootstrap_format=FORMAT,
        platform_type=BaremetalPlatform,
        installer_endpoint="/cpaas-installer/api/config/dcs",  # the procedure: every provider
        import_configmap="dcs-import-extra-resources",  # Step 7, the name is historical
        chart_cluster_type="Baremetal",  # charts' global.cluster.type, not the IaaS
        owned_api_groups=(ELEMENTAL_GROUP,),
        live_extra_resources=True,  # plan and bootstrap-data Secrets exist only at runtime
    )


@hookimpl
def acp_packages(spec: InstallSpec) -> list[ProviderPackage]:
    """The umbrella chart (manager + elemental-operator) and its bootstrap TLS (§5.2)."""
    return [ProviderPackage(
        release_name=RELEASE,
        chart=f"ait/chart-{RELEASE}",
        version=spec.packages.provider.version,
        tarball=spec.packages.provider.path,
        wait_crds=render.WAIT_CRDS,
        values=render.apprelease_values(spec),
        extra_objects=render.bootstrap_certificates(spec),
    )]


def _worker_pool(w_name: str) -> tuple[str, str]:
    return f"{w_name}-pool", f"{w_name}-template"


def manifest_objects(spec: InstallSpec) -> tuple[list[dict[str, Any]], list[WorkerGroup]]:
    """Provider objects in the §5.3 order, and the worker groups the core wires."""
    p = platform_of(spec, BaremetalPlatform)
    own_encryption = []
    if spec.dr is None and p.encryptionProviderConfig is not None:
        # the documented non-DR opt-in: a pre-existing encryption-provider.conf (§5.8)
        own_encryption = [secret_object(spec, render.ENCRYPTION_SECRET,
                                        {"encryption-provider.conf": p.encryptionProviderConfig})]
    objects = [
        *own_encryption,
        render.machine_registration(spec),
        render.seed_image(spec),
        render.inventory_pool(spec, CP_POOL, p.controlPlane),
        render.baremetal_cluster(spec),
        render.machine_template(spec, CP_TEMPLATE, CP_POOL),
    ]
    groups = []
    for w in p.workers:
        pool, template = _worker_pool(w.name)
        objects += [render.inventory_pool(spec, pool, w),
                    render.machine_template(spec, template, pool)]
        groups.append(worker_group(w, ObjectRef(INFRA, "BaremetalMachineTemplate", template),
                                   render.kubeadm(spec, worker=True), labels={"pool.name": pool},
                                   max_surge=0, max_unavailable=1))
    return objects, groups


@hookimpl
def acp_manifest(spec: InstallSpec) -> Iterator[ProviderManifest]:
    p = platform_of(spec, BaremetalPlatform)
    objects, groups = manifest_objects(spec)
    annotations = render.cluster_annotations(spec)
    kcp_annotations = ({"controlplane.cluster.x-k8s.io/skip-kube-proxy": ""}
                       if (p.networkType or "kube-ovn") == "kube-ovn" else {})
    yield ProviderManifest(
        objects=tuple(objects),
        control_plane_template=ObjectRef(INFRA, "BaremetalMachineTemplate", CP_TEMPLATE),
        kubeadm=render.kubeadm(spec, worker=False),
        kcp_annotations=kcp_annotations,
        cluster_annotations=annotations,
        workers=tuple(groups),
    )


@hookimpl
def acp_extra_resources(spec: InstallSpec,
                        objects: Sequence[Mapping[str, Any]]) -> list[ImportEntry]:
    """§5.6 derived from ``objects`` (rendered at plan time; plus live objects at runtime)."""
    p = platform_of(spec, BaremetalPlatform)
    entries = render.import_entries(objects, runtime_secrets=p.importRuntimeSecrets)
    if entries and spec.dr is None and p.encryptionProviderConfig is not None:
        # the final global keeps BaremetalCluster's reference: the Secret must follow it
        entries.append(ImportEntry("secrets", names=(render.ENCRYPTION_SECRET,)))
    return entries


def registry_domain(spec: InstallSpec) -> str:
    """§5.7: ``PLATFORM_HOST:11443`` for DR (both sides), the spec's domain otherwise."""
    if spec.dr is not None:
        return f"{render.url_host(spec.platformHost)}:{REGISTRY_PORT}"
    return spec.registryDomain


@hookimpl
def acp_installer_payload(spec: InstallSpec) -> InstallerPayloadPart:
    # Same shape as DCS: VIP in console.host, cluster block with isThirdParty true for both
    # Internal (Alive) and External endpoints.
    port = platform_of(spec, BaremetalPlatform).endpoint.port
    return InstallerPayloadPart(console_hosts=(spec.controlPlaneVIP,), cluster=True,
                                ha=InstallerHA(vip=spec.controlPlaneVIP, vport=port),
                                registry_domain=registry_domain(spec))


@hookimpl
def acp_dr_fields(spec: InstallSpec, role: str) -> Iterator[DRContribution]:
    """§5.8: encryption Secret + BaremetalCluster ref (never a KCP file), shared SA signing key."""
    p = platform_of(spec, BaremetalPlatform)
    objects = [secret_object(spec, render.ENCRYPTION_SECRET,
                             {"encryption-provider.conf": encryption_config(spec)})]
    if p.dr is not None:
        objects.append(secret_object(spec, render.SA_KEY_SECRET,
                                     {"sa.key": p.dr.serviceAccountKey,
                                      "sa.pub": p.dr.serviceAccountPublicKey}))
    infra: dict[str, Any] = {}
    if p.documentedFields.encryptionProviderConfigRef:
        infra["encryptionProviderConfigRef"] = {"name": render.ENCRYPTION_SECRET}
    # The handed-off KCP keeps its contentFrom reference to the signing key: without the Secret
    # in the final global, a later control-plane machine could not bootstrap (docs/decisions.md).
    imported = (render.ENCRYPTION_SECRET, render.SA_KEY_SECRET) if p.dr is not None \
        else (render.ENCRYPTION_SECRET,)
    yield DRContribution(
        objects=tuple(objects),
        kubeadm=render.dr_kubeadm(),
        infra_cluster_spec=infra,
        import_entries=(ImportEntry("secrets", names=imported),),
    )


@hookimpl
def acp_validate(spec: InstallSpec) -> Iterator[Finding]:
    yield from validate.check(spec)


def expected_inventories(spec: InstallSpec) -> list[gates.ExpectedInventory]:
    p = platform_of(spec, BaremetalPlatform)
    pools = [(CP_POOL, p.controlPlane), *((_worker_pool(w.name)[0], w) for w in p.workers)]
    return [gates.ExpectedInventory(inv.name, pool, inv.ip)
            for pool, members in pools for inv in members.inventories]


def handoff_targets(spec: InstallSpec) -> list[tuple[str, str]]:
    """(kind, name) the final global must hold: CRDs and every named object Step 7 imports."""
    objects, _ = manifest_objects(spec)
    out = [("CustomResourceDefinition", crd) for crd in render.PROVIDER_CRDS]
    for entry in render.import_entries(objects, runtime_secrets=False):
        kind = KIND_OF.get(entry.resource)
        if kind and entry.names:
            out += [(kind, n) for n in entry.names]
    out += [(o["kind"], o["metadata"]["name"]) for o in objects
            if o["kind"] in ("MachineInventoryPool", "BaremetalMachineTemplate")]
    return out


KIND_OF = {
    "baremetalclusters.infrastructure.cluster.x-k8s.io": "BaremetalCluster",
    "machineinventories.elemental.cattle.io": "MachineInventory",
    "machineregistrations.elemental.cattle.io": "MachineRegistration",
}


@hookimpl
def acp_ready_gates(spec: InstallSpec, gate: str,
                    snapshot: Mapping[str, Any]) -> list[Finding]:
    if gate == "packages":
        return gates.certificates_gate(snapshot)
    if gate == "control-plane":
        return gates.registration_gate(snapshot, expected_inventories(spec))
    if gate == "handoff":
        return gates.handoff_gate(snapshot, expected=handoff_targets(spec))
    return []


@hookimpl
def acp_runbook_steps(spec: InstallSpec) -> Iterator[RunbookStep]:
    """The Bare Metal tabs' hand steps: certificate, seed ISO and inventories, Step 7 names, handoff."""
    yield from runbook.steps(spec)


@hookimpl
def acp_spec_example() -> SpecExample:
    return spec_example("acp_install_baremetal", placeholders=PLACEHOLDERS)


#: Example values a real spec replaces: the ISO image, the hosts' inventory names and addresses,
#: the key.
PLACEHOLDERS = (
    "platform.seedImage.baseImage", "platform.controlPlane.inventories[*].name",
    "platform.controlPlane.inventories[*].ip", "platform.sshAuthorizedKeys[*]",
)
