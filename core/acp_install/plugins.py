"""Finding, loading and calling providers.

Providers are distributions registering under the entry-point group ``acp_install.providers``.
Only the provider the spec names is loaded and registered (with the core's internal plugin), so
hooks never filter on provider ids. :class:`Provider` is a typed façade over ``pm.hook``: the
rest of the core never touches pluggy directly, and mypy keeps working (pluggy#191).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from importlib import metadata
from typing import Any

import attrs
import pluggy

from . import hookspecs, internal, secret_fields
from .errors import PluginError
from .records import (
    Diagnosis,
    DRContribution,
    Finding,
    ImportEntry,
    InstallerPayloadPart,
    ProviderInfo,
    ProviderManifest,
    ProviderPackage,
    SpecExample,
)
from .spec.model import InstallSpec

GROUP = "acp_install.providers"
DISABLE_ENV = "ACP_INSTALL_DISABLE_PLUGINS"


class PluginWarning(UserWarning):
    """A provider that was not selected failed to load; listed, not fatal."""


@attrs.frozen
class InstalledProvider:
    """An entry point found in the environment (not yet imported)."""

    id: str
    distribution: str
    version: str
    entry_point: metadata.EntryPoint


def _disabled() -> set[str]:
    return {p.strip() for p in os.environ.get(DISABLE_ENV, "").split(",") if p.strip()}


def installed() -> dict[str, InstalledProvider]:
    """Every provider entry point installed, by id. Duplicate ids are an error."""
    found: dict[str, InstalledProvider] = {}
    disabled = _disabled()
    for ep in metadata.entry_points(group=GROUP):
        if ep.name in disabled:
            continue
        dist = ep.dist.name if ep.dist is not None else "?"
        version = ep.dist.version if ep.dist is not None else "?"
        if ep.name in found and found[ep.name].distribution != dist:
            raise PluginError(
                f"provider id {ep.name!r} is registered by two distributions: "
                f"{found[ep.name].distribution} and {dist}",
                hint="uninstall one of them",
            )
        found[ep.name] = InstalledProvider(ep.name, dist, version, ep)
    return found


class Provider:
    """The selected provider, with the core's internal plugin, behind typed methods."""

    def __init__(self, plugin: Any, *, distribution: str = "<in-process>", version: str = "") -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.pm.register(internal, name="acp_install.internal")
        self.distribution = distribution
        self.version = version
        self.plugin = plugin
        try:
            self.pm.register(plugin, name=distribution)
            self.pm.check_pending()
        except pluggy.PluginValidationError as err:
            raise PluginError(
                f"provider plugin from {distribution} does not match the hook contract: {err}",
                distribution=distribution,
            ) from None
        missing = [h for h in hookspecs.MANDATORY if not self._implements(h)]
        if missing:
            raise PluginError(
                f"provider plugin from {distribution} does not implement mandatory hook(s): "
                + ", ".join(missing),
                hint="see docs/hooks.md",
                distribution=distribution,
            )
        self.info: ProviderInfo = self.pm.hook.acp_provider_info()
        want = hookspecs.CONTRACT_VERSION.split(".")[0]
        have = str(self.info.contract).split(".")[0]
        if have != want:
            raise PluginError(
                f"provider {self.info.id!r} ({distribution}) speaks hook contract {self.info.contract}, "
                f"this acp-install speaks {hookspecs.CONTRACT_VERSION}",
                hint="install matching versions of acp-install and the provider",
                distribution=distribution,
            )
        # a credential typed str would take the secret as a literal: refused before any use
        secret_fields.check_spec_class(self.info.platform_type, prefix="platform",
                                       provider=self.info.id, distribution=distribution)

    @property
    def id(self) -> str:
        return self.info.id

    def _implements(self, hook_name: str) -> bool:
        caller = getattr(self.pm.hook, hook_name)
        return any(impl.plugin is self.plugin for impl in caller.get_hookimpls())

    def hooks_implemented(self) -> list[str]:
        """Names of the hooks the provider itself implements (not the internal plugin)."""
        return sorted(
            name for name in iter_hook_names() if self._implements(name)
        )

    # --- typed façade -------------------------------------------------------------------------

    def validate(self, spec: InstallSpec) -> list[Finding]:
        return [f for batch in self.pm.hook.acp_validate(spec=spec) for f in batch]

    def packages(self, spec: InstallSpec) -> list[ProviderPackage]:
        pkgs = [p for batch in self.pm.hook.acp_packages(spec=spec) for p in batch]
        pkgs.sort(key=lambda p: (p.order, p.release_name))
        names = [p.release_name for p in pkgs]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise PluginError(f"package(s) contributed twice: {', '.join(dupes)}")
        return pkgs

    def manifest(self, spec: InstallSpec) -> list[ProviderManifest]:
        return list(self.pm.hook.acp_manifest(spec=spec))

    def extra_resources(
        self, spec: InstallSpec, objects: tuple[Mapping[str, Any], ...]
    ) -> list[ImportEntry]:
        return [e for batch in self.pm.hook.acp_extra_resources(spec=spec, objects=objects)
                for e in batch]

    def installer_payload(self, spec: InstallSpec) -> InstallerPayloadPart:
        part: InstallerPayloadPart | None = self.pm.hook.acp_installer_payload(spec=spec)
        if part is None:
            raise PluginError(f"provider {self.id!r} returned no installer payload")
        return part

    def dr_fields(self, spec: InstallSpec, role: str) -> list[DRContribution]:
        return list(self.pm.hook.acp_dr_fields(spec=spec, role=role))

    def supports_dr(self) -> bool:
        return self._implements("acp_dr_fields")

    def diagnose(self, snapshot: Mapping[str, Any]) -> list[Diagnosis]:
        return [d for batch in self.pm.hook.acp_diagnose(snapshot=snapshot) for d in batch]

    def ready_gates(self, spec: InstallSpec, gate: str, snapshot: Mapping[str, Any]) -> list[Finding]:
        """What still blocks ``gate``; the gate is open when no finding is an error."""
        return [f for batch in self.pm.hook.acp_ready_gates(spec=spec, gate=gate, snapshot=snapshot)
                for f in batch]

    def spec_example(self) -> SpecExample | None:
        example: SpecExample | None = self.pm.hook.acp_spec_example()
        return example


def load_provider(provider_id: str) -> Provider:
    """Load the provider named in a spec. Unknown or broken → :class:`PluginError`."""
    available = installed()
    entry = available.get(provider_id)
    if entry is None:
        names = ", ".join(sorted(available)) or "none"
        raise PluginError(
            f"unknown provider {provider_id!r}; installed providers: {names}",
            hint=f"pip install acp-install-{provider_id}, or fix 'provider:' in the spec",
        )
    try:
        plugin = entry.entry_point.load()
    except Exception as err:
        raise PluginError(
            f"provider {provider_id!r} from {entry.distribution} {entry.version} failed to load: "
            f"{type(err).__name__}: {err}",
            hint="reinstall the provider distribution or run with --debug",
            distribution=entry.distribution,
        ) from err
    return Provider(plugin, distribution=entry.distribution, version=entry.version)


def load_all() -> tuple[list[Provider], list[InstalledProvider]]:
    """Every installed provider that loads; the ones that fail are warned about and returned."""
    loaded: list[Provider] = []
    broken: list[InstalledProvider] = []
    for pid, entry in sorted(installed().items()):
        try:
            loaded.append(load_provider(pid))
        except PluginError as err:
            warnings.warn(f"{entry.distribution}: {err.message}", PluginWarning, stacklevel=2)
            broken.append(entry)
    return loaded, broken


def iter_hook_names() -> Iterable[str]:
    """Every hook of the contract, in declaration order."""
    return [name for name in vars(hookspecs) if name.startswith("acp_")]
