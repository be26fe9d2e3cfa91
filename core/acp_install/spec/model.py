"""The install spec: one YAML document describing one global cluster install.

Field names are the YAML keys (camelCase on purpose), each mapping one-to-one to a Step 1 variable of
the manual procedure; ``ENV`` records that mapping for ``init --from-env`` and ``explain``.
Defaults are the procedure's own. The provider owns ``platform:`` (its attrs class comes from
``ProviderInfo.platform_type``), so the core never learns a provider field.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from ..secrets import SecretRef

API_VERSION = "acp-install/v1alpha1"
KIND = "GlobalClusterInstall"
NAMESPACE = "cpaas-system"
REGISTRY_PORT = 11443


def doc(text: str, env: str | None = None, **extra: Any) -> dict[str, Any]:
    """Field metadata read by ``acp-install explain`` and the spec reference generator."""
    meta: dict[str, Any] = {"doc": text}
    if env:
        meta["env"] = env
    meta.update(extra)
    return meta


@attrs.frozen
class Package:
    """A provider package tarball and the chart version it delivers (Step 3)."""

    path: str = attrs.field(metadata=doc("Path of the .tgz package on the bootstrap host."))
    version: str = attrs.field(metadata=doc("Chart version (AppRelease targetRevision)."))


@attrs.frozen
class Packages:
    """The two packages every install pushes: the kubeadm provider and the infra provider."""

    kubeadm: Package = attrs.field(
        metadata=doc("Kubeadm provider package.", env="KUBEADM_PROVIDER_PACK/_VERSION")
    )
    provider: Package = attrs.field(
        metadata=doc("Infrastructure provider package.", env="<ID>_PROVIDER_PACK/_VERSION")
    )
    packtool: str | None = attrs.field(
        default=None,
        metadata=doc("packtool binary; unset: the Core Package's, "
                     "<corePackage.directory>/installer/res/<arch>/packtool "
                     "(/root/cpaas-install/installer/res/amd64/packtool on an amd64 host)."),
    )
    push: bool = attrs.field(
        default=True,
        metadata=doc("Push a package with packtool when its chart version is not in the "
                     "local registry yet (false: only check, and stop naming what is missing)."),
    )


@attrs.frozen
class Account:
    """A username and a password reference."""

    username: str = attrs.field(metadata=doc("User name."))
    password: SecretRef = attrs.field(
        metadata=doc("Password reference: {file: PATH} or {env: NAME}; never a literal.")
    )


@attrs.frozen
class Credentials:
    """Platform admin and registry accounts sent in the Step 8 installer request.

    The Step 3 pull secret and the Step 8 registry account are independent in the procedure:
    the bootstrap registry may be anonymous while the platform registry has an account (the
    docs' Step 8 bodies always carry ``registry.username/password``), or the other way round.
    """

    admin: Account = attrs.field(metadata=doc("Platform administrator (installer 'basic')."))
    registry: Account | None = attrs.field(
        default=None,
        metadata=doc(
            "Platform registry account sent as Step 8 registry.username/password (the "
            "documented bodies always send it; unset sends neither key)."
        ),
    )
    bootstrapRegistryAuth: bool | None = attrs.field(
        default=None,
        metadata=doc(
            "Step 3: the bootstrap registry was set up with a username and password, so "
            "setup.sh created the global-registry-auth Secret and every AppRelease references "
            "it (chartPullSecret, imagePullSecrets). Unset: true exactly when registry is set."
        ),
    )

    @property
    def uses_pull_secret(self) -> bool:
        """Whether the AppReleases reference ``global-registry-auth`` (Step 3)."""
        if self.bootstrapRegistryAuth is not None:
            return self.bootstrapRegistryAuth
        return self.registry is not None


@attrs.frozen
class ThirdPartyKeys:
    """JSON key names of ``console.cert.thirdParty`` in the Step 8 body.

    The global install page names the contents (full chain, private key, optional PKCS#12) but
    not the keys; ``certificate``/``privateKey`` are the installer's traditional names
    (docs/decisions.md). Overridable so a release that spells them differently needs no patch.
    """

    certificate: str = attrs.field(default="certificate",
                                   metadata=doc("Key of the base64 full certificate chain."))
    privateKey: str = attrs.field(default="privateKey",  # a JSON key name, not the key
                                  metadata=doc("Key of the base64 private key.", secret=False))
    pkcs12: str | None = attrs.field(
        default=None,
        metadata=doc("Key of the base64 PKCS#12 bundle; no documented name, so required "
                     "when pkcs12 is given."),
    )


@attrs.frozen
class ThirdPartyCert:
    """A certificate you bring for the platform console instead of the installer's self-signed one.

    Each part is a secret reference to the file as issued (PEM chain, PEM key, PKCS#12); the
    Step 8 body carries the base64 of each, which acp-install computes.
    """

    certificate: SecretRef = attrs.field(
        metadata=doc("PEM full chain (server certificate first): {file: PATH} or {env: NAME}.")
    )
    privateKey: SecretRef = attrs.field(metadata=doc("PEM private key of the certificate."))
    pkcs12: SecretRef | None = attrs.field(
        default=None,
        metadata=doc("Optional PKCS#12 bundle of the same certificate, as base64 text (the "
                     "bundle is binary: base64 -w0 platform.p12 > platform.p12.b64)."),
    )
    keys: ThirdPartyKeys = attrs.field(
        factory=ThirdPartyKeys, metadata=doc("JSON key names in the installer body.")
    )


@attrs.frozen
class ConsoleCert:
    """``console.cert`` of the Step 8 body: self-signed (default) or third party."""

    thirdParty: ThirdPartyCert | None = attrs.field(
        default=None,
        metadata=doc("Your certificate; unset sends cert.selfSigned. Its SANs must cover "
                     "platformHost (and both DR VIPs in a DR pair)."),
    )


@attrs.frozen
class Console:
    """Platform console settings of the Step 8 installer request."""

    cert: ConsoleCert = attrs.field(factory=ConsoleCert, metadata=doc("Console certificate."))


@attrs.frozen
class ControlPlane:
    """Control plane sizing shared by every provider."""

    replicas: int = attrs.field(
        default=3, metadata=doc("KubeadmControlPlane replicas; the global cluster needs >= 3.")
    )
    format: str | None = attrs.field(
        default=None,
        metadata=doc("kubeadmConfigSpec.format (ignition or cloud-config); unset uses the "
                     "provider's required format."),
    )
    auditPolicyFile: str | None = attrs.field(
        default=None,
        metadata=doc("File whose content replaces the apiserver audit Policy "
                     "(/etc/kubernetes/audit/policy.yaml); unset uses the policy the provider's "
                     "create-cluster page publishes."),
    )
    apiServerExtraArgs: dict[str, str | None] = attrs.field(
        factory=dict,
        metadata=doc("kube-apiserver arguments merged over the rendered "
                     "clusterConfiguration.apiServer.extraArgs (flag names without '--'); null "
                     "removes one the provider's base renders, to match your release manifest."),
    )


@attrs.frozen
class DisasterRecovery:
    """Optional disaster-recovery pair settings (both sides share the encryption key)."""

    role: Literal["primary", "standby"] = attrs.field(
        metadata=doc("Which side this install is.")
    )
    primaryVIP: str = attrs.field( metadata=doc("Primary HA VIP.", env="PRIMARY_CLUSTER_VIP")
    )
    standbyVIP: str = attrs.field( metadata=doc("Standby HA VIP.", env="STANDBY_CLUSTER_VIP")
    )
    encryptionKey: SecretRef = attrs.field(
        metadata=doc("Shared base64 etcd encryption key.", env="ENCRYPTION_PROVIDER_SECRET_B64"),
    )
    etcdSyncVersion: str | None = attrs.field(
        default=None,
        metadata=doc("global-etcd-sync plugin version (standby).", env="ETCD_SYNC_VERSION"),
    )


#: where the seed's Step 2 unpacks the Core Package, and where setup.sh writes the kubeconfig
CORE_DIRECTORY = "/root/cpaas-install"
MINIALAUDA_KUBECONFIG = "/var/cpaas/data/alauda.kubeconfig"


@attrs.frozen
class CorePackage:
    """The Core Package and Step 2 (``setup.sh``), run by the ``bootstrap`` phase.

    Used only when no minialauda kubeconfig is given (``--kubeconfig``/``$KUBECONFIG``).
    """

    path: str | None = attrs.field(
        default=None,
        metadata=doc("The Core Package .tgz from the Customer Portal; --core-package wins; "
                     "unset: use the one already unpacked in directory."),
    )
    directory: str = attrs.field(
        default=CORE_DIRECTORY,
        metadata=doc("Where it is unpacked (tar -xf <core-package> -C <directory>)."),
    )
    setupScript: str = attrs.field(
        default="installer/setup.sh",
        metadata=doc("The bootstrap script, relative to directory; run with sh from its folder."),
    )
    kubeconfig: str = attrs.field(
        default=MINIALAUDA_KUBECONFIG,
        metadata=doc("The kubeconfig setup.sh writes; the install waits for it, then uses it."),
    )
    arch: Literal["amd64", "arm64"] | None = attrs.field(
        default=None,
        metadata=doc("Architecture of the bootstrap host (installer/res/<arch>); unset: "
                     "this host's."),
    )


@attrs.frozen
class InstallSpec:
    """Everything one install needs. Validated completely before any side effect."""

    provider: str = attrs.field(metadata=doc("Provider id (see `acp-install providers`)."))
    hostIP: str = attrs.field( metadata=doc("IP of the bootstrap (KIND) host.", env="HOST_IP")
    )
    controlPlaneVIP: str = attrs.field(
        metadata=doc("Stable API endpoint of the global control plane.", env="CONTROL_PLANE_VIP"),
    )
    platformHost: str = attrs.field(
        metadata=doc("Platform access domain or VIP.", env="PLATFORM_HOST"),
    )
    registryDomain: str = attrs.field(
        metadata=doc("Platform registry domain or VIP with port (host:port).", env="REGISTRY_DOMAIN"),
    )
    k8sVersion: str = attrs.field(
        metadata=doc("v-prefixed Kubernetes version of the OS image.", env="K8S_VERSION"),
    )
    packages: Packages = attrs.field(metadata=doc("Provider packages (Step 3)."))
    credentials: Credentials = attrs.field(metadata=doc("Accounts for the installer request."))
    platform: Any = attrs.field(metadata=doc("Provider-owned section; see the provider docs."))
    localRegistryAddress: str = attrs.field(
        default=f"127.0.0.1:{REGISTRY_PORT}",
        metadata=doc("Registry as seen from the bootstrap host (packtool push).",
                     env="LOCAL_REGISTRY_ADDRESS"),
    )
    bootstrapRegistryAddress: str = attrs.field(
        default=f"172.18.0.1:{REGISTRY_PORT}",
        metadata=doc("Registry as seen from inside the KIND network (AppRelease repoURL).",
                     env="BOOTSTRAP_REGISTRY_ADDRESS"),
    )
    nodeRegistryAddress: str | None = attrs.field(
        default=None,
        metadata=doc("Registry as seen from the new nodes (cpaas.io/registry-address); "
                     "derived as hostIP:11443 when unset.", env="NODE_REGISTRY_ADDRESS"),
    )
    clusterCIDR: str = attrs.field(
        default="100.3.0.0/16",
        metadata=doc("Pod CIDR.", env="CLUSTER_CIDR"),
    )
    serviceCIDR: str = attrs.field(
        default="100.4.0.0/16",
        metadata=doc("Service CIDR.", env="SERVICE_CIDR"),
    )
    kubeOvnJoinCIDR: str | None = attrs.field(
        default=None,
        metadata=doc("Kube-OVN join CIDR (cpaas.io/kube-ovn-join-cidr annotation).",
                     env="KUBE_OVN_JOIN_CIDR"),
    )
    ingressClassName: str = attrs.field(
        default="global-alb2",
        metadata=doc("Ingress class / ALB name of the platform.", env="INGRESS_CLASS_NAME"),
    )
    providerSecretName: str = attrs.field(
        default="global-secret",
        metadata=doc("Name of the provider credential Secret.",
                     env="PROVIDER_SECRET_NAME"),
    )
    controlPlane: ControlPlane = attrs.field(
        factory=ControlPlane, metadata=doc("Control plane settings.")
    )
    console: Console = attrs.field(
        factory=Console, metadata=doc("Platform console (Step 8 console.cert).")
    )
    kindNetworkCIDR: str = attrs.field(
        default="172.18.0.0/16",
        metadata=doc("The bootstrap host's KIND container network (docker network 'kind'): "
                     "node-facing addresses inside it are refused, nodes cannot reach them."),
    )
    dr: DisasterRecovery | None = attrs.field(
        default=None, metadata=doc("Disaster-recovery settings; omit for a normal install.")
    )
    corePackage: CorePackage | None = attrs.field(
        default=None,
        metadata=doc("Step 2: the Core Package the bootstrap phase unpacks and runs setup.sh "
                     "from, when no minialauda kubeconfig is given; omit when minialauda runs."),
    )
    apiVersion: str = attrs.field(default=API_VERSION,
                                  metadata=doc("Spec format version."))
    kind: str = attrs.field(default=KIND, metadata=doc("Always GlobalClusterInstall."))

    @property
    def node_registry_address(self) -> str:
        """NODE_REGISTRY_ADDRESS: explicit, or derived from HOST_IP as the procedure does."""
        return self.nodeRegistryAddress or f"{self.hostIP}:{REGISTRY_PORT}"

    @property
    def namespace(self) -> str:
        return NAMESPACE

    def packtool_for(self, arch: str) -> str:
        """``packages.packtool``, else the Core Package's ``installer/res/<arch>/packtool``."""
        if self.packages.packtool:
            return self.packages.packtool
        root = self.corePackage.directory if self.corePackage is not None else CORE_DIRECTORY
        return f"{root.rstrip('/')}/installer/res/{arch}/packtool"

    @property
    def render_arch(self) -> str:
        """The architecture rendered files assume: ``corePackage.arch``, else amd64 (the seed's)."""
        return (self.corePackage.arch if self.corePackage is not None else None) or "amd64"

    @property
    def k8s_minor(self) -> tuple[int, int]:
        """(major, minor) of ``k8sVersion``; (0, 0) when it does not parse (validation says why)."""
        head = self.k8sVersion.lstrip("v").split("-")[0].split(".")
        try:
            return int(head[0]), int(head[1])
        except (IndexError, ValueError):
            return 0, 0
