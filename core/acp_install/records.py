"""Typed records that hooks return and the plan is made of.

Hooks never return loose dicts: a record documents what a provider may contribute, and mypy
checks it. Kubernetes objects themselves are plain ``dict`` data (they are validated against the
real CRDs instead); a place inside one that holds a secret holds a
:class:`~acp_install.secrets.SecretRef` (or :class:`~acp_install.secrets.Base64Of`) that the
renderer replaces with a placeholder or, when asked, the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

KubeObject = dict[str, Any]
Severity = Literal["error", "warning"]
#: The gates of the procedure ``acp_ready_gates`` is asked about, in the order the engine
#: reaches them: ``packages`` (before the AppReleases), ``control-plane`` (manifest applied),
#: ``handoff`` (before the bootstrap cluster is deleted). A ``Literal``, so mypy flags a
#: misspelled gate in a provider's comparison (``--strict-equality``).
Gate = Literal["packages", "control-plane", "handoff"]
#: Where a provider's RUNBOOK section goes (``acp_runbook_steps``), in procedure order:
#: ``packages`` before the AppReleases are applied, ``manifest`` after global.yaml is applied,
#: ``control-plane`` after the control plane waits, ``extra-resources`` before the Step 7
#: ConfigMap is applied, ``installer`` after the Step 8 request, ``handoff`` before the
#: bootstrap host is decommissioned.
RunbookStage = Literal["packages", "manifest", "control-plane", "extra-resources", "installer",
                       "handoff"]


def _frozen_map(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return dict(value or {})


@attrs.frozen
class Finding:
    """One validation result, reported with every other one before anything is applied.

    Attributes:
        severity: ``error`` stops the run; ``warning`` is printed and the run goes on.
        path: the spec field (``platform.controlPlane.pool[2].ip``) or the object
            (``KubeadmControlPlane/global-kcp``) the finding is about.
        message: what is wrong, in the user's words.
        fix: what to change so the finding goes away.
        line: line in the source file, filled in by the core from ``path`` when known.
        rule: short id of the rule, stable across releases (for docs and suppression).
    """

    severity: Severity
    path: str
    message: str
    fix: str = ""
    line: int | None = None
    rule: str = ""

    def format(self, source: str | None = None) -> str:
        parts = [source if source and self.line else None,
                 str(self.line) if source and self.line else (f"line {self.line}" if self.line else None)]
        location = ":".join(p for p in parts if p)
        where = ": ".join(p for p in (location, clip(self.path)) if p)
        text = f"  {self.severity}: {where + ': ' if where else ''}{clip(self.message)}"
        if self.fix:
            text += f"\n    fix: {self.fix}"
        return text


#: Longest message (or path) a finding prints whole: a message quotes the offending value, which
#: may be megabytes (a pasted file, a runaway template); the start says enough to find it.
MAX_SHOWN = 500


def clip(text: str, limit: int = MAX_SHOWN) -> str:
    """``text``, or its start and end with the number of characters left out in between."""
    if len(text) <= limit:
        return text
    head, tail = limit // 2, limit // 8
    return f"{text[:head]}... ({len(text) - head - tail} characters not shown) ..." + \
        (text[-tail:] if tail else "")


@attrs.frozen
class ObjectRef:
    """A typed reference to a rendered object (``infrastructureRef``, ``configRef``...)."""

    api_version: str
    kind: str
    name: str

    def as_ref(self) -> dict[str, str]:
        return {"apiVersion": self.api_version, "kind": self.kind, "name": self.name}


@attrs.frozen
class SpecAlias:
    """An old name of a spec field, still accepted on load with a deprecation warning.

    Attributes:
        old: dotted path of the old key (``secretName``, ``platform.oldName``).
        new: dotted path of the field it now is; setting both is an error.
        env: the old Step 1 variable of that field, read by ``init --from-env`` when the
            field's current variable is unset.
    """

    old: str
    new: str
    env: str | None = None


@attrs.frozen
class ProviderInfo:
    """Who a provider is. Returned by ``acp_provider_info``.

    Attributes:
        id: the entry-point name and the spec's ``provider:`` value.
        display_name: for humans (``acp-install providers``, the runbook).
        contract: the hook contract version the provider was written for (``"1"``).
        infra_cluster_kind: the kind of the infrastructure cluster object named ``global``.
        cluster_type: value of the ``cluster-type`` label on the CAPI ``Cluster``.
        bootstrap_format: the ``kubeadmConfigSpec.format`` the provider accepts
            (``ignition`` or ``cloud-config``); ``None`` leaves it unset.
        platform_type: the attrs class of the spec's ``platform:`` section.
        installer_endpoint: path of the Step 8 installer config endpoint the request is
            POSTed to.
        import_configmap: name of the Step 7 ConfigMap the installer reads import entries
            from.
        chart_cluster_type: the charts' ``values.global.cluster.type`` on every AppRelease
            (a chart-internal classifier, not the IaaS name).

    The last three are wire values of the installer: the procedure documents the same ones
    for every provider today (``docs/plugin-authors.md`` lists them), and the core names none.
        infra_api_version: apiVersion of the infrastructure kinds.
        owned_api_groups: API groups besides the Cluster API family whose objects belong to
            the global cluster and so obey the naming convention.
        live_extra_resources: some Step 7 entries name objects that only exist at runtime
            (e.g. Secrets created per machine): the engine calls ``acp_extra_resources`` again
            with the live objects, just before the installer request, and applies that list.
        aliases: old names of spec fields this provider's users may still write (see
            :class:`SpecAlias`); the core accepts them, with a warning, only for this provider.
    """

    id: str
    display_name: str
    contract: str
    infra_cluster_kind: str
    cluster_type: str
    bootstrap_format: str | None
    platform_type: type
    # Wire values of the installer protocol: declared by the provider, so the core names none.
    installer_endpoint: str = attrs.field(kw_only=True)
    import_configmap: str = attrs.field(kw_only=True)
    chart_cluster_type: str = attrs.field(kw_only=True)
    infra_api_version: str = "infrastructure.cluster.x-k8s.io/v1beta1"
    owned_api_groups: tuple[str, ...] = ()
    live_extra_resources: bool = False
    aliases: tuple[SpecAlias, ...] = ()


@attrs.frozen
class ProviderPackage:
    """One chart package delivered in Step 3: pushed with packtool, installed by an AppRelease.

    Attributes:
        release_name: AppRelease ``metadata.name`` and chart ``releaseName``.
        chart: chart name in the registry, e.g. ``ait/chart-<release_name>``.
        version: chart ``targetRevision``.
        tarball: path of the package on the bootstrap host (pushed with packtool).
        wait_crds: CRD names Step 3 waits for before going on.
        values: extra AppRelease values, deep-merged over the common ``global`` values.
        extra_objects: objects applied together with the AppRelease (e.g. certificates).
        order: packages are applied by ascending order (the kubeadm provider is 0).
    """

    release_name: str
    chart: str
    version: str
    tarball: str
    wait_crds: tuple[str, ...] = ()
    values: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_map)
    extra_objects: tuple[KubeObject, ...] = ()
    order: int = 100


@attrs.frozen
class KubeadmFile:
    """An entry of ``kubeadmConfigSpec.files``.

    ``content`` may be a :class:`~acp_install.secrets.SecretRef` (e.g. an encryption key file).
    """

    path: str
    content: Any = None
    owner: str = "root:root"
    permissions: str = "0644"
    append: bool | None = None
    content_from: Mapping[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "owner": self.owner, "permissions": self.permissions}
        if self.append is not None:
            out["append"] = self.append
        if self.content_from is not None:
            out["contentFrom"] = dict(self.content_from)
        else:
            out["content"] = self.content
        return out


@attrs.frozen
class KubeadmContribution:
    """What a provider adds to a kubeadm config body (KCP or a worker KubeadmConfigTemplate).

    Mappings are deep-merged into the core's baseline; lists (files, commands, users) are
    appended in contribution order, files replacing a baseline file of the same path.
    ``kubelet_config`` holds keys added to the core's KubeletConfiguration patch file;
    ``extra`` is deep-merged into the rendered body last (any other kubeadm field).

    ``complete`` marks a body that already is the provider's complete documented base (see
    ``kubeadm_base`` in :mod:`acp_install.provider`): the core then adds no baseline of its own,
    because its generic hardened body would put keys into a provider's body that the provider's
    documentation does not have. The global-specific fields (format, etcd SANs, the
    ``controlPlane.auditPolicyFile`` and ``controlPlane.apiServerExtraArgs`` overrides) are
    still layered on top.
    """

    files: tuple[KubeadmFile, ...] = ()
    pre_kubeadm_commands: tuple[str, ...] = ()
    post_kubeadm_commands: tuple[str, ...] = ()
    users: tuple[Mapping[str, Any], ...] = ()
    cluster_configuration: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_map)
    init_configuration: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_map)
    join_configuration: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_map)
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_map)
    kubelet_config: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_map)
    complete: bool = False


@attrs.frozen
class WorkerGroup:
    """A worker MachineDeployment the core wires (with its KubeadmConfigTemplate).

    Attributes:
        name: name of the MachineDeployment (``global-`` prefixed); the KubeadmConfigTemplate
            is named ``<name>-bootstrap`` unless ``bootstrap_name`` is given.
        replicas: MachineDeployment replicas.
        infrastructure: the provider machine template the MachineDeployment references.
        kubeadm: body of the worker KubeadmConfigTemplate.
        max_surge / max_unavailable: rolling update strategy.
        labels: extra labels on the machine template metadata.
        failure_domain: ``spec.template.spec.failureDomain`` of the MachineDeployment (the
            provider's name of a deployment target), unset when the group is not pinned.
    """

    name: str
    replicas: int
    infrastructure: ObjectRef
    kubeadm: KubeadmContribution = KubeadmContribution()
    bootstrap_name: str | None = None
    max_surge: int = 0
    max_unavailable: int = 1
    labels: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    failure_domain: str | None = None


@attrs.frozen
class ProviderManifest:
    """A provider's share of the Step 4 global manifest. Returned by ``acp_manifest``.

    The core builds the ``Cluster``, the ``KubeadmControlPlane`` and the worker
    ``KubeadmConfigTemplate``/``MachineDeployment`` objects and wires them to what is here.

    Attributes:
        objects: provider objects applied before the control plane (credentials, pools,
            machine templates, the infrastructure cluster ``global``), in apply order.
        control_plane_template: the machine template the KubeadmControlPlane references.
        kubeadm: the provider's contribution to the KCP ``kubeadmConfigSpec``.
        kcp_annotations: extra annotations on the KubeadmControlPlane.
        cluster_labels / cluster_annotations: extra labels/annotations on ``Cluster global``.
        workers: worker groups; their provider objects belong in ``objects``.
        trailing_objects: objects applied after the core objects (e.g. addon resource sets).
        control_plane_machine_labels: labels for the control plane Machines
            (``KubeadmControlPlane.spec.machineTemplate.metadata.labels``).
        control_plane_rollout: override of the KCP ``rolloutStrategy`` (``None`` keeps the
            core's ``maxSurge: 0``).
    """

    objects: tuple[KubeObject, ...] = ()
    control_plane_template: ObjectRef | None = None
    kubeadm: KubeadmContribution = KubeadmContribution()
    kcp_annotations: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    cluster_labels: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    cluster_annotations: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    workers: tuple[WorkerGroup, ...] = ()
    trailing_objects: tuple[KubeObject, ...] = ()
    control_plane_machine_labels: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)


@attrs.frozen
class ImportEntry:
    """One entry of the Step 7 import ConfigMap (``ProviderInfo.import_configmap``)."""

    resource: str
    method: Literal["kubectl", "etcdctl"] = "kubectl"
    names: tuple[str, ...] | None = None
    etcd_key_base: str | None = None

    @classmethod
    def etcd(cls, resource: str, names: tuple[str, ...] | list[str] | None = None,
             namespace: str = "cpaas-system") -> ImportEntry:
        """An ``etcdctl`` entry for ``<plural>.<group>`` with the documented key base
        ``/registry/<group>/<plural>/<namespace>/`` (procedure Step 7)."""
        plural, _, group = resource.partition(".")
        prefix = f"/registry/{group}/{plural}" if group else f"/registry/{plural}"
        return cls(resource, method="etcdctl", names=None if names is None else tuple(names),
                   etcd_key_base=f"{prefix}/{namespace}/")

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"resource": self.resource}
        if self.names is not None:
            out["names"] = list(self.names)
        if self.etcd_key_base is not None:
            out["etcdKeyBase"] = self.etcd_key_base
        out["method"] = self.method
        return out


@attrs.frozen
class InstallerHA:
    """``cluster.features.ha`` of the installer request."""

    vip: str
    vport: int = 6443
    is_third_party: bool = True


@attrs.frozen
class InstallerPayloadPart:
    """The provider-specific part of the Step 8 installer request (``acp_installer_payload``).

    Attributes:
        console_hosts: ``console.host`` (the local HA VIP list, or empty).
        cluster: whether to send the ``cluster`` block (CIDRs + ``features.ha``).
        ha: ``cluster.features.ha``, only meaningful with ``cluster``.
        registry_domain: overrides ``registry.domain`` (default: the spec's registryDomain).
    """

    console_hosts: tuple[str, ...]
    cluster: bool
    ha: InstallerHA | None = None
    registry_domain: str | None = None


@attrs.frozen
class DRContribution:
    """What a provider adds for a disaster-recovery install (``acp_dr_fields``).

    Attributes:
        objects: objects applied before the manifest (e.g. the encryption config Secret).
        kubeadm: KCP additions (e.g. the encryption file entry for providers that use one).
        infra_cluster_spec: deep-merged into the infrastructure cluster's ``spec``.
        import_entries: additions to the Step 7 ConfigMap.
    """

    objects: tuple[KubeObject, ...] = ()
    kubeadm: KubeadmContribution = KubeadmContribution()
    infra_cluster_spec: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_map)
    import_entries: tuple[ImportEntry, ...] = ()


@attrs.frozen
class Diagnosis:
    """A provider's explanation of a stall, shown by the engine and ``gather``."""

    title: str
    detail: str
    hint: str = ""
    object: str = ""


@attrs.frozen
class RunbookStep:
    """A provider's section of ``RUNBOOK.md`` (``acp_runbook_steps``).

    Attributes:
        stage: where it goes (:data:`RunbookStage`).
        title: a short heading ("Boot the hosts from the seed ISO").
        text: Markdown; commands in fenced ``bash`` blocks. Every value from the spec that lands
            in a command is shell-quoted (``shlex.quote``), and no command may send a
            placeholder: a command that needs a value only the site knows says how to get it,
            or refuses (``"${VAR:?how to set it}"``).
    """

    stage: RunbookStage
    title: str
    text: str


@attrs.frozen
class Probe:
    """A preflight probe of the site's infrastructure (``acp_preflight``).

    The core runs every probe concurrently before the first side effect, each with a timeout,
    and reports it by ``name`` (skippable with ``--skip-preflight NAME``).

    Attributes:
        name: stable id, e.g. ``iaas-api``.
        field: the spec field whose address is probed (``platform.credentials.endpoint``);
            against a sandbox the probe goes to that field's announced loopback stand-in, or
            is skipped when there is none.
        host, port: where to connect.
        expect: ``tls`` — the endpoint must complete a TLS handshake (an IaaS API);
            ``free`` — nothing may answer there (an address the install will claim).
        what: a few words for the table ("Foo API", "node IP 10.0.0.11").
    """

    name: str
    field: str
    host: str
    port: int
    expect: Literal["tls", "free"] = "tls"
    what: str = ""


@attrs.frozen
class SpecExample:
    """The provider's commented ``platform:`` section for ``acp-install init``.

    Attributes:
        platform_yaml: the section's text, starting with ``platform:``.
        placeholders: field paths (``[*]`` for every list item, e.g.
            ``platform.controlPlane.pool[*].ip``) whose example value must be replaced by the
            site's own (endpoints, site ids, keys, node IPs, datastores). A spec still holding
            the example's value there gets a warning from ``validate``/``render``, and
            ``install`` refuses to start.
    """

    platform_yaml: str
    placeholders: tuple[str, ...] = ()
