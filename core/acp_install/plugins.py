"""Finding, loading and calling providers.

Providers are distributions registering under the entry-point group ``acp_install.providers``.
Only the provider the spec names is loaded and registered (with the core's internal plugin), so
hooks never filter on provider ids. :class:`Provider` is a typed façade over ``pm.hook``: the
rest of the core never touches pluggy directly, and mypy keeps working (pluggy#191).

The façade is also where results are checked (tox-style): each plugin's implementation is
called on its own, so a wrong return type, or an exception raised inside a hook, becomes a
:class:`PluginError` naming the distribution, the hook and what the hookspec's annotation
expects — at the call site every caller shares, before the caller acts on the result.
"""

from __future__ import annotations

import collections.abc
import contextlib
import difflib
import os
import re
import sys
import typing
import warnings
from collections.abc import Callable, Iterable, Mapping
from importlib import metadata
from typing import Any, TypeVar

import attrs
import pluggy

from . import hookspecs, internal, records, secret_fields
from .errors import PluginError, SecretError
from .records import (
    Diagnosis,
    DRContribution,
    Finding,
    Gate,
    ImportEntry,
    InstallerPayloadPart,
    Probe,
    ProviderInfo,
    ProviderManifest,
    ProviderPackage,
    RunbookStage,
    RunbookStep,
    SpecExample,
)
from .secrets import spec_refs
from .spec.model import InstallSpec

T = TypeVar("T")

GROUP = "acp_install.providers"
DISABLE_ENV = "ACP_INSTALL_DISABLE_PLUGINS"


class PluginWarning(UserWarning):
    """A provider that was not selected failed to load; listed, not fatal."""


@attrs.frozen
class InstalledProvider:
    """An entry point found in the environment (not yet imported).

    ``rivals`` names the other distributions registering the same id: such an id cannot be
    selected, but the other providers still can.
    """

    id: str
    distribution: str
    version: str
    entry_point: metadata.EntryPoint
    rivals: tuple[str, ...] = ()


@attrs.frozen
class BrokenProvider:
    """An installed provider that cannot be used, with the reason (``acp-install providers``)."""

    id: str
    distribution: str
    version: str
    error: str


def _disabled() -> set[str]:
    return {p.strip() for p in os.environ.get(DISABLE_ENV, "").split(",") if p.strip()}


def _environment_key() -> tuple[Any, ...]:
    """What the installed entry points depend on: the import path, the disabled ids, and each
    path entry's modification time (installing or removing a distribution changes its
    directory's), so a cached scan is reused exactly while it would find the same."""
    stamps: list[int | None] = []
    for entry in sys.path:
        try:
            stamps.append(os.stat(entry or ".").st_mtime_ns)
        except OSError:
            stamps.append(None)
    return (tuple(sys.path), tuple(stamps), os.environ.get(DISABLE_ENV, ""))


_installed_cache: tuple[tuple[Any, ...], dict[str, InstalledProvider]] | None = None


def installed() -> dict[str, InstalledProvider]:
    """Every provider entry point installed, by id (none is imported).

    An id registered by two distributions is kept with its ``rivals``: selecting it is an
    error, listing the others is not. Why cached: scanning every distribution's metadata costs
    ten times a whole ``parse``; the scan is repeated only when the environment changed.
    """
    global _installed_cache
    key = _environment_key()
    if _installed_cache is not None and _installed_cache[0] == key:
        return dict(_installed_cache[1])
    found = _scan()
    _installed_cache = (key, found)
    return dict(found)


def _scan() -> dict[str, InstalledProvider]:
    found: dict[str, InstalledProvider] = {}
    disabled = _disabled()
    for ep in metadata.entry_points(group=GROUP):
        if ep.name in disabled:
            continue
        dist = ep.dist.name if ep.dist is not None else "?"
        version = ep.dist.version if ep.dist is not None else "?"
        first = found.get(ep.name)
        if first is not None and first.distribution != dist:
            found[ep.name] = attrs.evolve(first, rivals=(*first.rivals, dist))
            continue
        found[ep.name] = InstalledProvider(ep.name, dist, version, ep)
    return found


def _core_version() -> str:
    try:
        return metadata.version("acp-install")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "?"


@attrs.frozen
class _Expected:
    """What a hook must return, read from its hookspec's return annotation."""

    record: type
    many: bool  # collecting: an iterable of ``record``; else one ``record``

    def describe(self) -> str:
        name = self.record.__name__
        return (f"an iterable (list, tuple or generator) of {name} records" if self.many
                else f"one {name} record")


def _expected(hook: str) -> _Expected:
    """The hookspec annotation is the contract: ``Iterable[R]`` for collecting hooks, ``R``."""
    hint = typing.get_type_hints(getattr(hookspecs, hook), localns={**vars(records),
                                                                    "InstallSpec": InstallSpec})
    ret = hint["return"]
    if typing.get_origin(ret) is collections.abc.Iterable:
        return _Expected(typing.get_args(ret)[0], many=True)
    return _Expected(ret, many=False)


def _describe(value: Any) -> str:
    return "None" if value is None else f"a {type(value).__name__}"


class Provider:
    """The selected provider, with the core's internal plugin, behind typed methods."""

    def __init__(self, plugin: Any, *, distribution: str = "<in-process>", version: str = "") -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.pm.register(internal, name="acp_install.internal")
        self.distribution = distribution
        self.version = version
        self.plugin = plugin
        self._callers: dict[tuple[str, int], Callable[..., Any]] = {}
        try:
            self.pm.register(plugin, name=distribution)
            self.pm.check_pending()
        except (pluggy.PluginValidationError, ValueError) as err:
            raise PluginError(
                f"provider plugin from {self._who()} does not match the hook contract: {_contract_problem(err)}",
                hint="see docs/reference/hooks.md for the hooks and their arguments",
                distribution=distribution,
            ) from None
        missing = [h for h in hookspecs.MANDATORY if not self._implements(h)]
        if missing:
            raise PluginError(
                f"provider plugin from {self._who()} does not implement mandatory hook(s): "
                + ", ".join(missing),
                hint="see docs/reference/hooks.md",
                distribution=distribution,
            )
        info = self._first("acp_provider_info", ProviderInfo)
        if info is None:
            raise self._wrong(self.plugin, "acp_provider_info", None)
        self.info: ProviderInfo = info
        if not attrs.has(self.info.platform_type):
            raise PluginError(
                f"provider plugin from {self._who()}: hook acp_provider_info returned "
                f"platform_type={self.info.platform_type!r}, expected an attrs class "
                "(the model of the spec's platform: section)",
                hint="decorate the platform model with @attrs.frozen", distribution=distribution)
        want = hookspecs.CONTRACT_VERSION.split(".")[0]
        have = str(self.info.contract).split(".")[0]
        if have != want:
            raise PluginError(
                f"provider {self.info.id!r} ({self._who()}) speaks hook contract {self.info.contract}, "
                f"this acp-install speaks {hookspecs.CONTRACT_VERSION}",
                hint="install matching versions of acp-install and the provider",
                distribution=distribution,
            )
        # a credential typed str would take the secret as a literal: refused before any use
        secret_fields.check_spec_class(self.info.platform_type, prefix="platform",
                                       provider=self.info.id, distribution=self._who())

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

    # --- calling one plugin's implementation, checking what it returns ------------------------

    def _who(self, plugin: Any = None) -> str:
        """The distribution a plugin comes from, with its version, for messages."""
        if plugin is internal:
            return f"acp-install {_core_version()} (internal plugin)"
        return " ".join(p for p in (self.distribution, self.version) if p)

    def _impls(self, hook: str) -> list[Any]:
        """The plugins implementing ``hook``, in the order pluggy calls them."""
        caller = getattr(self.pm.hook, hook)
        return [impl.plugin for impl in reversed(caller.get_hookimpls())]

    def _call_one(self, plugin: Any, hook: str, kwargs: Mapping[str, Any]) -> Any:
        """``plugin``'s own implementation of ``hook`` (through pluggy, which picks the
        arguments it accepts); an exception inside it becomes a :class:`PluginError`."""
        key = (hook, id(plugin))
        caller = self._callers.get(key)
        if caller is None:
            others = [p for p in self.pm.get_plugins() if p is not plugin]
            caller = self._callers[key] = self.pm.subset_hook_caller(hook, remove_plugins=others)
        try:
            result = caller(**kwargs)
        except Exception as err:
            raise self._raised(plugin, hook, err, kwargs) from err
        if getattr(self.pm.hook, hook).spec.opts.get("firstresult"):
            return result
        return result[0] if result else None  # pluggy drops a None result from the list

    def _raised(self, plugin: Any, hook: str, err: Exception,
                kwargs: Mapping[str, Any]) -> PluginError:
        spec = kwargs.get("spec")
        redact = spec_redactor(spec) if isinstance(spec, InstallSpec) else str
        return PluginError(
            f"provider plugin from {self._who(plugin)}: hook {hook} raised "
            f"{type(err).__name__}: {redact(str(err))} (expected {EXPECTED[hook].describe()})",
            hint="a bug in the plugin: report it to its maintainers with the --debug output "
                 "(a problem with the spec is reported by returning a Finding, not by raising)",
            distribution=self.distribution if plugin is self.plugin else "acp-install",
        )

    def _wrong(self, plugin: Any, hook: str, got: Any, where: str = "") -> PluginError:
        return PluginError(
            f"provider plugin from {self._who(plugin)}: hook {hook} returned "
            f"{where}{_describe(got)}, expected {EXPECTED[hook].describe()}",
            hint=f"fix the plugin's {hook} (docs/reference/hooks.md#{hook.replace('_', '-')})",
            distribution=self.distribution if plugin is self.plugin else "acp-install",
        )

    def _first(self, hook: str, record: type[T], **kwargs: Any) -> T | None:
        """A firstresult hook: the first non-``None`` result, which must be a ``record``."""
        for plugin in self._impls(hook):
            result = self._call_one(plugin, hook, kwargs)
            if result is None:
                continue
            if not isinstance(result, record):
                raise self._wrong(plugin, hook, result)
            return result
        return None

    def _collect(self, hook: str, record: type[T], **kwargs: Any) -> list[T]:
        """A collecting hook: every implementation returns an iterable of ``record``."""
        out: list[T] = []
        for plugin in self._impls(hook):
            result = self._call_one(plugin, hook, kwargs)
            if (isinstance(result, str | bytes | Mapping | record)
                    or not isinstance(result, Iterable)):
                raise self._wrong(plugin, hook, result)
            try:
                items = list(result)  # a generator runs the hook's body only now
            except Exception as err:
                raise self._raised(plugin, hook, err, kwargs) from err
            for n, item in enumerate(items):
                if not isinstance(item, record):
                    raise self._wrong(plugin, hook, item, where=f"an iterable whose item {n} is ")
            out.extend(items)
        return out

    # --- typed façade -------------------------------------------------------------------------

    def validate(self, spec: InstallSpec) -> list[Finding]:
        redact = spec_redactor(spec)
        return [redact_finding(f, redact)
                for f in self._collect("acp_validate", Finding, spec=spec)]

    def packages(self, spec: InstallSpec) -> list[ProviderPackage]:
        pkgs = self._collect("acp_packages", ProviderPackage, spec=spec)
        pkgs.sort(key=lambda p: (p.order, p.release_name))
        names = [p.release_name for p in pkgs]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise PluginError(f"package(s) contributed twice: {', '.join(dupes)}",
                              hint="each AppRelease release_name is contributed once",
                              distribution=self.distribution)
        return pkgs

    def manifest(self, spec: InstallSpec) -> list[ProviderManifest]:
        return self._collect("acp_manifest", ProviderManifest, spec=spec)

    def extra_resources(
        self, spec: InstallSpec, objects: tuple[Mapping[str, Any], ...]
    ) -> list[ImportEntry]:
        return self._collect("acp_extra_resources", ImportEntry, spec=spec, objects=objects)

    def installer_payload(self, spec: InstallSpec) -> InstallerPayloadPart:
        part = self._first("acp_installer_payload", InstallerPayloadPart, spec=spec)
        if part is None:
            raise self._wrong(self.plugin, "acp_installer_payload", None)
        return part

    def dr_fields(self, spec: InstallSpec, role: str) -> list[DRContribution]:
        return self._collect("acp_dr_fields", DRContribution, spec=spec, role=role)

    def supports_dr(self) -> bool:
        return self._implements("acp_dr_fields")

    def diagnose(self, snapshot: Mapping[str, Any]) -> list[Diagnosis]:
        return self._collect("acp_diagnose", Diagnosis, snapshot=snapshot)

    def ready_gates(self, spec: InstallSpec, gate: Gate, snapshot: Mapping[str, Any]) -> list[Finding]:
        """What still blocks ``gate``; the gate is open when no finding is an error."""
        if gate not in hookspecs.READY_GATES:
            raise ValueError(f"unknown gate {gate!r}; gates are {', '.join(hookspecs.READY_GATES)}")
        redact = spec_redactor(spec)
        return [redact_finding(f, redact)
                for f in self._collect("acp_ready_gates", Finding, spec=spec, gate=gate,
                                       snapshot=snapshot)]

    def spec_example(self) -> SpecExample | None:
        return self._first("acp_spec_example", SpecExample)

    def preflight_probes(self, spec: InstallSpec) -> list[Probe]:
        probes = self._collect("acp_preflight", Probe, spec=spec)
        for probe in probes:
            if probe.expect not in ("tls", "free") or not 0 < probe.port < 65536:
                raise PluginError(
                    f"provider {self.id!r} ({self.distribution}) returned probe {probe.name!r} "
                    f"from acp_preflight with expect={probe.expect!r}, port={probe.port!r}",
                    hint="expect is 'tls' or 'free' and the port is 1-65535",
                    distribution=self.distribution)
        return probes

    def runbook_steps(self, spec: InstallSpec) -> list[RunbookStep]:
        steps = self._collect("acp_runbook_steps", RunbookStep, spec=spec)
        stages = typing.get_args(RunbookStage)
        for step in steps:
            if step.stage not in stages:
                raise PluginError(
                    f"provider {self.id!r} ({self.distribution}) returned a runbook step for "
                    f"stage {step.stage!r} from acp_runbook_steps",
                    hint=f"use one of {', '.join(stages)}", distribution=self.distribution)
        return steps


def _contract_problem(err: BaseException) -> str:
    """pluggy's message without the plugin object's repr, and a "did you mean" for a misspelled
    hook name (``acp_valdate``)."""
    text = re.sub(r" in plugin <[^\n]*", "", str(err))
    unknown = re.match(r"unknown hook '([^']+)'", text)
    if unknown:
        close = difflib.get_close_matches(unknown.group(1), list(iter_hook_names()), n=1)
        if close:
            text += f"; did you mean {close[0]!r}?"
    return text


def spec_redactor(spec: InstallSpec) -> Callable[[str], str]:
    """Replaces the value of every secret the spec references that can be read now.

    Why: a provider's finding or exception text may quote a value it resolved (a token in a
    "login failed with ..." message); what the provider returns is output, so it is redacted
    before anyone sees it. A reference that cannot be read has no value to leak.
    """
    from .clients.redact import Redactor

    redactor = Redactor()
    for ref in spec_refs(spec):
        if ref.available():
            with contextlib.suppress(SecretError):
                redactor.add(ref.reveal().get())
    return redactor if redactor else str


def redact_finding(finding: Finding, redact: Callable[[str], str]) -> Finding:
    return attrs.evolve(finding, path=redact(finding.path), message=redact(finding.message),
                        fix=redact(finding.fix))


#: Loaded providers by entry point (and where its distribution lives), with the module the
#: entry point came from: a provider is built once per process, not once per spec parsed.
_loaded: dict[tuple[Any, ...], tuple[Provider, Any]] = {}


def _entry_key(entry: InstalledProvider) -> tuple[Any, ...]:
    dist = entry.entry_point.dist
    return (entry.id, entry.distribution, entry.version, entry.entry_point.value,
            str(getattr(dist, "_path", "")))


def load_provider(provider_id: str) -> Provider:
    """Load the provider named in a spec. Unknown or broken → :class:`PluginError`.

    Only this provider's entry point is imported: another installed distribution that is
    broken never affects the run. The :class:`Provider` (a pluggy plugin manager) is built once
    per entry point and reused while its module is the one imported.
    """
    available = installed()
    entry = available.get(provider_id)
    if entry is None:
        names = ", ".join(sorted(available)) or "none"
        # a high cutoff: short ids may differ by one letter without one being a typo of the other
        close = difflib.get_close_matches(provider_id, sorted(available), n=1, cutoff=0.75)
        guess = f" (did you mean {close[0]!r}?)" if close else ""
        raise PluginError(
            f"unknown provider {provider_id!r}{guess}; installed providers: {names}",
            hint=f"pip install acp-install-{provider_id}, or fix 'provider:' in the spec",
        )
    if entry.rivals:
        raise PluginError(
            f"provider id {provider_id!r} is registered by several distributions: "
            + ", ".join((entry.distribution, *entry.rivals)),
            hint="uninstall all but one of them",
            distribution=entry.distribution,
        )
    key = _entry_key(entry)
    module_name = entry.entry_point.value.split(":")[0].strip()  # .module raises on a malformed value
    cached = _loaded.get(key)
    if cached is not None and sys.modules.get(module_name) is cached[1]:
        return cached[0]
    try:
        plugin = entry.entry_point.load()
    except Exception as err:
        raise PluginError(
            f"provider {provider_id!r} from {entry.distribution} {entry.version} failed to load "
            f"(entry point {entry.entry_point.value!r}): {type(err).__name__}: {err}",
            hint="reinstall the provider distribution or run with --debug",
            distribution=entry.distribution,
        ) from err
    provider = Provider(plugin, distribution=entry.distribution, version=entry.version)
    if provider.id != provider_id:
        raise PluginError(
            f"provider plugin from {entry.distribution} {entry.version}: hook acp_provider_info "
            f"returned id {provider.id!r}, expected {provider_id!r} (its entry-point name)",
            hint="make ProviderInfo.id and the entry-point name the same",
            distribution=entry.distribution,
        )
    _loaded[key] = (provider, sys.modules.get(module_name))
    return provider


def load_all() -> tuple[list[Provider], list[BrokenProvider]]:
    """Every installed provider that loads, and every one that does not, with the reason.

    A broken one is also warned about (:class:`PluginWarning`); it never hides the others.
    """
    loaded: list[Provider] = []
    broken: list[BrokenProvider] = []
    for pid, entry in sorted(installed().items()):
        try:
            loaded.append(load_provider(pid))
        except PluginError as err:
            warnings.warn(f"{entry.distribution}: {err.message}", PluginWarning, stacklevel=2)
            broken.append(BrokenProvider(pid, entry.distribution, entry.version, err.message))
    return loaded, broken


def iter_hook_names() -> Iterable[str]:
    """Every hook of the contract, in declaration order."""
    return [name for name in vars(hookspecs) if name.startswith("acp_")]


#: Every hook's expected result, read once from the hookspecs.
EXPECTED: Mapping[str, _Expected] = {name: _expected(name) for name in iter_hook_names()}
