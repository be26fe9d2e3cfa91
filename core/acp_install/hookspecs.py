"""The provider contract: the only place hooks are declared.

A provider is a distribution registering a module (or object) under the entry-point group
``acp_install.providers``; the entry-point name is the provider id. The core loads only the
provider the spec names, so no hook implementation ever asks "is this my provider?".

Hooks are called with keyword arguments only; an implementation may accept any subset of a
hook's arguments, so adding an argument is never a breaking change. Each docstring states when
the hook is called, its kind (*collecting*: every implementation's result is used; *firstresult*:
the first non-``None`` result wins), whether a provider must implement it, and a minimal example.
``docs/reference/hooks.md`` is generated from these docstrings
(``python -m acp_install.refdocs docs/reference``).

The return annotations are the contract the core checks where it receives a result
(:mod:`acp_install.plugins`): a collecting hook returns an ``Iterable`` of the record (a list,
tuple or generator — never a bare record or ``None``), a firstresult hook returns the record.
A wrong type, or an exception raised inside a hook, is a ``PluginError`` naming the
distribution, the hook and what was expected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, get_args

import pluggy

from .records import Gate

if TYPE_CHECKING:
    from .records import (
        Diagnosis,
        DRContribution,
        Finding,
        ImportEntry,
        InstallerPayloadPart,
        Probe,
        ProviderInfo,
        ProviderManifest,
        ProviderPackage,
        RunbookStep,
        SpecExample,
    )
    from .spec.model import InstallSpec

PROJECT = "acp_install"
#: The contract version this core speaks. A provider declares the version it was written for in
#: ``ProviderInfo.contract``; a different major is refused before any side effect.
CONTRACT_VERSION = "2"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

#: Hooks every provider must implement; checked when the provider is loaded.
MANDATORY = (
    "acp_provider_info",
    "acp_packages",
    "acp_manifest",
    "acp_installer_payload",
)


@hookspec(firstresult=True)
def acp_provider_info() -> ProviderInfo:  # type: ignore[empty-body]
    """Describe the provider: id, contract version, infrastructure kinds, bootstrap format.

    **When:** first, as soon as the provider is loaded (``providers``, ``validate``, every run).
    **Kind:** firstresult. **Mandatory:** yes.

    The core checks ``contract`` against :data:`CONTRACT_VERSION` before anything else and uses
    ``platform_type`` (an attrs class) to read the spec's ``platform:`` section. The installer's
    wire values (``installer_endpoint``, ``import_configmap``, ``chart_cluster_type``) are the
    provider's to declare: the procedure documents one value of each for every provider today,
    listed in ``docs/plugin-authors.md``.

    Example::

        @hookimpl
        def acp_provider_info():
            return ProviderInfo(id="foo", display_name="Foo Cloud", contract="2",
                                infra_cluster_kind="FooCluster", cluster_type="Foo",
                                bootstrap_format="cloud-config", platform_type=FooPlatform,
                                # the installer's wire values (docs/plugin-authors.md)
                                installer_endpoint=INSTALLER_CONFIG_PATH,
                                import_configmap=IMPORT_CONFIGMAP,
                                chart_cluster_type=CHART_CLUSTER_TYPE)
    """


@hookspec
def acp_validate(spec: InstallSpec) -> Iterable[Finding]:  # type: ignore[empty-body]
    """Check the provider's own rules on a spec whose structure is already valid.

    **When:** after the spec is loaded and the core's own checks ran, before any plan is built
    or anything is applied; all findings are reported together.
    **Kind:** collecting (each implementation returns an iterable of findings).
    **Mandatory:** no.

    Paths are relative to the spec root (``platform.controlPlane.pool[2].ip``) so the core can
    point at the YAML line.

    Example::

        @hookimpl
        def acp_validate(spec):
            if not spec.platform.sshAuthorizedKeys:
                yield Finding("error", "platform.sshAuthorizedKeys", "must not be empty",
                              fix="add at least one OpenSSH public key")
    """


@hookspec
def acp_packages(spec: InstallSpec) -> Iterable[ProviderPackage]:  # type: ignore[empty-body]
    """Name the chart packages Step 3 pushes and installs with AppReleases.

    **When:** building the plan (``render`` and the ``packages`` phase).
    **Kind:** collecting; the core's internal plugin contributes the kubeadm provider package,
    the provider contributes its own.
    **Mandatory:** yes.

    Example::

        @hookimpl
        def acp_packages(spec):
            return [ProviderPackage(release_name="cluster-api-provider-foo",
                                    chart="ait/chart-cluster-api-provider-foo",
                                    version=spec.packages.provider.version,
                                    tarball=spec.packages.provider.path,
                                    wait_crds=("fooclusters.infrastructure.cluster.x-k8s.io",))]
    """


@hookspec
def acp_manifest(spec: InstallSpec) -> Iterable[ProviderManifest]:  # type: ignore[empty-body]
    """Contribute provider objects and kubeadm body parts to the Step 4 global manifest.

    **When:** building the plan. The core then builds ``Cluster global``, the
    ``KubeadmControlPlane`` and worker ``MachineDeployment``/``KubeadmConfigTemplate`` objects,
    wires them to the returned references and runs the naming convention on the result.
    **Kind:** collecting (each implementation returns an iterable of contributions; they are
    merged and exactly one must name the control-plane machine template). **Mandatory:** yes.

    Example::

        @hookimpl
        def acp_manifest(spec):
            tmpl = ObjectRef(INFRA, "FooMachineTemplate", "global-cp-template")
            yield ProviderManifest(objects=(foo_template(spec), foo_cluster(spec)),
                                   control_plane_template=tmpl)
    """


@hookspec
def acp_extra_resources(  # type: ignore[empty-body]
    spec: InstallSpec, objects: tuple[Mapping[str, Any], ...]
) -> Iterable[ImportEntry]:
    """List what the installer must import through the Step 7 ConfigMap.

    **When:** building the plan, after the manifest; ``objects`` is the complete rendered
    manifest, so entries can be derived from what is actually rendered (never hard-coded names).
    The ConfigMap is named by ``ProviderInfo.import_configmap``.
    **Kind:** collecting; no entries means no ConfigMap. **Mandatory:** no.

    Example::

        @hookimpl
        def acp_extra_resources(spec, objects):
            return [ImportEntry("secrets", names=(spec.providerSecretName,))]
    """


@hookspec(firstresult=True)
def acp_installer_payload(spec: InstallSpec) -> InstallerPayloadPart:  # type: ignore[empty-body]
    """Give the provider-specific part of the Step 8 installer request.

    **When:** building the plan. The core fills the common body (accounts, registry,
    ``console.globalHost``, ports, certificate, products, ``hostIP``).
    **Kind:** firstresult. **Mandatory:** yes.

    Example::

        @hookimpl
        def acp_installer_payload(spec):
            return InstallerPayloadPart(console_hosts=(), cluster=False)
    """


@hookspec
def acp_dr_fields(spec: InstallSpec, role: str) -> Iterable[DRContribution]:  # type: ignore[empty-body]
    """Contribute what a disaster-recovery install adds (encryption delivery, objects).

    **When:** building the plan when the spec has a ``dr:`` section; ``role`` is ``primary``
    or ``standby``. The core adds the shared etcd SANs itself.
    **Kind:** collecting (an iterable of contributions).
    **Mandatory:** no (a provider without it cannot be used for DR).

    Example::

        @hookimpl
        def acp_dr_fields(spec, role):
            yield DRContribution(infra_cluster_spec={"encryptionProviderConfigRef":
                                                     {"name": "encryption-provider-config"}})
    """


@hookspec
def acp_diagnose(snapshot: Mapping[str, Any]) -> Iterable[Diagnosis]:  # type: ignore[empty-body]
    """Explain a stall from a snapshot of the bootstrap cluster.

    **When:** the engine detects a stalled phase, and ``gather``; ``snapshot`` maps a kind
    (``Machine``, ``KubeadmControlPlane``, the infrastructure kinds...) to the list of objects.
    **Kind:** collecting. **Mandatory:** no.

    Example::

        @hookimpl
        def acp_diagnose(snapshot):
            for m in snapshot.get("FooMachine", []):
                if m.get("status", {}).get("failureReason"):
                    yield Diagnosis("VM creation failed", m["status"]["failureMessage"])
    """


#: Gate names the engine asks ``acp_ready_gates`` about, in the order it reaches them (the
#: values of :data:`~acp_install.records.Gate`); any other name is refused before the call.
READY_GATES: tuple[Gate, ...] = get_args(Gate)


@hookspec
def acp_ready_gates(  # type: ignore[empty-body]
    spec: InstallSpec, gate: Gate, snapshot: Mapping[str, Any]
) -> Iterable[Finding]:
    """Say what still blocks a gate of the procedure, from a snapshot of objects.

    **When:** the engine polls a gate while it waits, and before an irreversible step:
    ``packages`` (package objects applied, before the AppReleases), ``control-plane``
    (manifest applied: what must exist before progress can be expected, e.g. hosts that
    register themselves), ``handoff`` (before the bootstrap cluster is deleted; ``snapshot`` is
    taken from the final global cluster). ``snapshot`` maps a kind to its list of objects, as
    for ``acp_diagnose``; an implementation is a pure function of its arguments.
    **Kind:** collecting; the gate is open when no implementation yields an ``error`` finding
    (``warning`` findings are shown). ``gate`` is one of ``READY_GATES`` (typed ``Gate``); a
    gate the provider has nothing to say about yields nothing.
    **Mandatory:** no (without it every gate is open).

    Example::

        @hookimpl
        def acp_ready_gates(spec, gate, snapshot):
            if gate == "control-plane" and not snapshot.get("FooHost"):
                yield Finding("error", "FooHost", "no host registered yet",
                              fix="power on the hosts")
    """


@hookspec
def acp_runbook_steps(spec: InstallSpec) -> Iterable[RunbookStep]:  # type: ignore[empty-body]
    """Add the provider's own hand steps to ``RUNBOOK.md``, each at its stage of the procedure.

    **When:** building the plan (``render`` writes the runbook). **Kind:** collecting; sections
    of one stage keep the order they are returned in. **Mandatory:** no (the runbook then has
    the common steps only).

    The runbook is what an operator follows by hand at 2 a.m.: take the waits and checks your
    provider's documentation asks for (a certificate to become Ready, hosts to register...),
    quote every spec value with ``shlex.quote``, and never write a command that would send a
    placeholder.

    Example::

        @hookimpl
        def acp_runbook_steps(spec):
            yield RunbookStep("manifest", "Wait for the hosts",
                              "Run `kubectl -n cpaas-system get foohosts` until all are Ready.")
    """


@hookspec
def acp_preflight(spec: InstallSpec) -> Iterable[Probe]:  # type: ignore[empty-body]
    """Name the provider's infrastructure to probe before the first side effect.

    **When:** ``install`` (before anything is applied) and ``acp-install preflight``.
    **Kind:** collecting. **Mandatory:** no (a provider without it gets the core's checks only).

    Return a :class:`~acp_install.provider.Probe` per endpoint the install depends on (the IaaS
    API, expect ``tls``) or claims (static node IPs, expect ``free``). The core connects, never
    the provider: probes run concurrently with a timeout, go only to loopback stand-ins when
    the cluster is a sandbox, and are reported by name.

    Example::

        @hookimpl
        def acp_preflight(spec):
            yield Probe("iaas-api", "platform.endpoint", "foo.example.com", 443, "tls", "Foo API")
    """


@hookspec(firstresult=True)
def acp_spec_example() -> SpecExample:  # type: ignore[empty-body]
    """Give a commented, valid ``platform:`` section for ``acp-install init``.

    **When:** ``acp-install init --provider ID``. **Kind:** firstresult. **Mandatory:** no
    (without it ``init`` writes the common part only).

    Example::

        @hookimpl
        def acp_spec_example():
            return SpecExample(platform_yaml="platform:\\n  region: eu-1  # Foo region\\n")
    """
