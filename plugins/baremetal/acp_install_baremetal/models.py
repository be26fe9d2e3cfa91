"""The ``platform:`` section of a Bare Metal install spec.

Field names follow the provider and elemental CRDs (``BaremetalCluster``,
``MachineInventoryPool``, ``MachineRegistration``, ``SeedImage``) so the provider documentation
applies as is. Hosts are never created: they boot the seed ISO, register as
``MachineInventory`` objects, and the spec names the inventories each pool may use.

Where the CRD snapshot lags the documentation (dossier §8 items 7-9), the default renders what
the CRD accepts; ``documentedFields`` opts into the documented form explicitly.
"""

from __future__ import annotations

from typing import Any

import attrs

from acp_install.provider import SecretRef, doc, matrix_field


@attrs.frozen
class Endpoint:
    """``BaremetalCluster.spec.controlPlaneLoadBalancer`` (host is the spec's controlPlaneVIP)."""

    type: str = attrs.field(
        default="Internal",
        metadata=doc("Internal (VRRP VIP run by the provider's Alive) or External (your L4 LB)."),
    )
    port: int = attrs.field(default=6443, metadata=doc("API server port behind the VIP (1-65535)."))
    vrid: int | None = attrs.field(
        default=None,
        metadata=doc("VRRP router id 0-255, unique in the control plane L2 domain; Internal only."),
    )
    vipMode: str | None = attrs.field(
        default=None,
        metadata=doc("nic (provider default), arp or policy_route; Internal only. Documented but "
                     "not in the CRD snapshot: written only when set."),
    )


@attrs.frozen
class Inventory:
    """A registered host (``MachineInventory``) a pool may allocate."""

    name: str = attrs.field(
        metadata=doc("MachineInventory name produced by registration.machineName (global-...).")
    )
    hostname: str | None = attrs.field(
        default=None, metadata=doc("Node hostname override (default: the inventory name).")
    )
    ip: str | None = attrs.field(
        default=None,
        metadata=doc("Expected node IP; the registration gate checks it in spec.observedNetwork."),
    )


@attrs.frozen
class Pool:
    """A ``MachineInventoryPool`` and the ``BaremetalMachineTemplate`` drawing from it."""

    inventories: list[Inventory] = attrs.field(
        metadata=doc("Exact inventory names; pool size >= replicas (upgrades delete then add).")
    )


@attrs.frozen
class WorkerPool(Pool):
    """A worker group: MachineDeployment ``name``, pool ``<name>-pool``, template ``<name>-template``."""

    name: str = attrs.field(default="global-worker", metadata=doc("MachineDeployment name."))
    replicas: int = attrs.field(default=1, metadata=doc("Worker count (<= pool size)."))


@attrs.frozen
class Registration:
    """The ``MachineRegistration`` hosts register against (first-install configuration)."""

    installDevice: str = attrs.field(
        metadata=doc("elemental install device; multi-disk hosts: /dev/elemental-install-target "
                     "(WWN symlink procedure), never /dev/sdX as identity.")
    )
    name: str = attrs.field(default="global-machine-registration",
                            metadata=doc("MachineRegistration name (global-...)."))
    machineName: str = attrs.field(
        default="global-${System Information/UUID}",
        metadata=doc("Inventory name template; must start with global- so inventories obey the "
                     "naming rule."),
    )
    emulateTPM: bool = attrs.field(
        default=False, metadata=doc("true only for hosts without /dev/tpm0 (not 'virtual vs physical').")
    )
    emulatedTPMSeed: int | None = attrs.field(
        default=None, metadata=doc("emulated-tpm-seed; -1 (random per host) when emulateTPM is on.")
    )
    snapshotter: str = attrs.field(default="btrfs", metadata=doc("install.snapshotter.type."))
    maxSnaps: int = attrs.field(default=4, metadata=doc("install.snapshotter.maxSnaps (>= 2)."))
    inventoryLabels: dict[str, str] = attrs.field(
        factory=dict, metadata=doc("Extra machineInventoryLabels.")
    )
    annotations: dict[str, str] = attrs.field(
        factory=dict,
        metadata=doc("Annotations on the MachineRegistration; never system-agent-server-url "
                     "during bootstrap."),
    )
    cloudConfig: dict[str, Any] | None = attrs.field(
        default=None, metadata=doc("config.cloud-config (e.g. resolver settings).")
    )
    network: dict[str, Any] | None = attrs.field(
        default=None, metadata=doc("config.network: {configurator, config, ipAddresses}.")
    )


@attrs.frozen
class SeedImage:
    """The ``SeedImage`` that builds the registration ISO (bootstrap artifact only)."""

    baseImage: str = attrs.field(
        metadata=doc("The imported base-image-iso reference from Alauda support.")
    )
    name: str = attrs.field(default="global-seed-image", metadata=doc("SeedImage name (global-...)."))
    type: str = attrs.field(default="iso", metadata=doc("iso or raw."))
    targetPlatform: str = attrs.field(default="linux/amd64", metadata=doc("os/arch."))
    size: str = attrs.field(default="20Gi", metadata=doc("Image size (quantity)."))
    cleanupAfterMinutes: int = attrs.field(default=120, metadata=doc("Keep the built ISO this long."))
    cloudConfig: dict[str, Any] | None = attrs.field(
        default=None, metadata=doc("Live-ISO cloud-config; never write /etc/resolv.conf here.")
    )


@attrs.frozen
class DocumentedFields:
    """Documented fields the CRD snapshot lacks (§8 items 7-9). Off = what the CRD accepts."""

    poolMembersAsNames: bool = attrs.field(
        default=False,
        metadata=doc("Write machineInventories as plain names (global fragment) instead of "
                     "{name, hostname} objects (CRD)."),
    )
    allocationPolicy: str | None = attrs.field(
        default=None,
        metadata=doc("Write template allocationPolicy (global fragment: Ordered; 'reserved')."),
    )
    encryptionProviderConfigRef: bool = attrs.field(
        default=False,
        metadata=doc("Write BaremetalCluster.spec.encryptionProviderConfigRef (required for DR; "
                     "enable once your provider's CRD serves it)."),
    )


@attrs.frozen
class BaremetalDR:
    """Bare Metal DR additions: the shared service-account signing key (both sides identical)."""

    serviceAccountKey: SecretRef = attrs.field(
        metadata=doc("sa.key (openssl genrsa 2048), shared by both sides.")
    )
    serviceAccountPublicKey: SecretRef = attrs.field(metadata=doc("sa.pub matching sa.key."))


@attrs.frozen
class BaremetalPlatform:
    """Everything Bare Metal-specific."""

    registration: Registration = attrs.field(metadata=doc("Host registration (MachineRegistration)."))
    seedImage: SeedImage = attrs.field(metadata=doc("Registration ISO (SeedImage)."))
    controlPlane: Pool = attrs.field(metadata=doc("Control plane inventories."))
    endpoint: Endpoint = attrs.field(factory=Endpoint, metadata=doc("Control plane endpoint."))
    workers: list[WorkerPool] = attrs.field(factory=list, metadata=doc("Worker groups."))
    sshAuthorizedKeys: list[str] = attrs.field(
        factory=list, metadata=doc("Public keys of user 'boot' (troubleshooting access).")
    )
    networkType: str | None = attrs.field(
        default="kube-ovn",
        metadata=doc("BaremetalCluster.spec.networkType; null omits it like the global fragment."),
    )
    imageRepository: str = attrs.field(
        default="cloud.alauda.io/alauda",
        metadata=doc("kubeadm imageRepository (images are preloaded; not <registry>/tkestack)."),
    )
    dnsImageTag: str | None = matrix_field("coredns", " (the image baked into the base image)")
    etcdImageTag: str | None = matrix_field("etcd", " (the image baked into the base image)")
    kubeOvnVersion: str | None = matrix_field(
        "kubeOvnChart", " ('Recommended')",
        unset="unset is a warning (the provider falls back to the kube-ovn ModulePlugin version)")
    clusterAnnotations: dict[str, str] = attrs.field(
        factory=dict,
        metadata=doc("Further Cluster annotations; they override the rendered ones of the same key."),
    )
    imageCatalog: dict[str, str] | None = attrs.field(
        default=None,
        metadata=doc("elemental-image-catalog data: v-prefixed version -> elemental upgrade base "
                     "image; rendered as AppRelease values provider.imageCatalog.data."),
    )
    agentTLSMode: str = attrs.field(
        default="strict", metadata=doc("elemental.tls.agentTLSMode: strict or system-store.")
    )
    directAPIServer: bool = attrs.field(
        default=False,
        metadata=doc("handoffHook.directAPIServer: global hosts use https://<vip>:6443 (DR opt-in)."),
    )
    importRuntimeSecrets: bool = attrs.field(
        default=True,
        metadata=doc("Step 7 imports plan and kubeadm bootstrap-data Secrets (current docs); "
                     "false follows the draft branch (handoff re-creates plan Secrets)."),
    )
    documentedFields: DocumentedFields = attrs.field(
        factory=DocumentedFields, metadata=doc("Opt-ins for fields the CRD snapshot lacks.")
    )
    dr: BaremetalDR | None = attrs.field(
        default=None, metadata=doc("Bare Metal DR additions (with the spec's dr: section).")
    )
    encryptionProviderConfig: SecretRef | None = attrs.field(
        default=None,
        metadata=doc("Non-DR opt-in: a pre-existing encryption-provider.conf, delivered as Secret "
                     "global-encryption-provider-config through BaremetalCluster.spec."
                     "encryptionProviderConfigRef and imported at Step 7 (needs "
                     "documentedFields.encryptionProviderConfigRef). DR renders it from dr.encryptionKey."),
    )
