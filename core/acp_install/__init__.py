"""acp-install: install the Alauda Container Platform global cluster through Cluster API.

This module is the whole public API: provider authors and embedding applications import from
here, never from the private modules (which may move).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import netcheck, templating
    from .engine import (
        Engine,
        EngineWarning,
        Event,
        InstallResult,
        PhaseFinished,
        PhaseProgress,
        PhaseResult,
        PhaseStarted,
        Timeouts,
        read_state,
    )
    from .engine.core import InvalidTiming
    from .errors import (
        AcpInstallError,
        ClusterError,
        GateClosed,
        InstallerError,
        LintError,
        PluginError,
        SecretError,
        SpecError,
        StateError,
        UsageError,
        WaitTimeout,
    )
    from .hookspecs import CONTRACT_VERSION, hookimpl
    from .objects import crd_data, object_meta, provider_package
    from .plan import InstallPlan, build_plan, encryption_config, write_plan
    from .plugins import Provider, installed, load_provider
    from .records import (
        Diagnosis,
        DRContribution,
        Finding,
        ImportEntry,
        InstallerHA,
        InstallerPayloadPart,
        KubeadmContribution,
        KubeadmFile,
        ObjectRef,
        ProviderInfo,
        ProviderManifest,
        ProviderPackage,
        SpecExample,
        WorkerGroup,
    )
    from .secrets import Base64Of, SecretRef, SecretText, SecretValue
    from .spec.load import LoadedSpec, load_spec, parse
    from .spec.model import InstallSpec, doc
    from .yamlio import dump as dump_yaml
    from .yamlio import dump_all as dump_yaml_all

#: public name -> (module, attribute). Imported on first use (PEP 562), so `import acp_install`
#: and the CLI's start-up stay cheap; the names are the same as above.
_EXPORTS: dict[str, tuple[str, str]] = {
    "AcpInstallError": (".errors", "AcpInstallError"),
    "Base64Of": (".secrets", "Base64Of"),
    "CONTRACT_VERSION": (".hookspecs", "CONTRACT_VERSION"),
    "ClusterError": (".errors", "ClusterError"),
    "DRContribution": (".records", "DRContribution"),
    "Diagnosis": (".records", "Diagnosis"),
    "Engine": (".engine", "Engine"),
    "EngineWarning": (".engine", "EngineWarning"),
    "Event": (".engine", "Event"),
    "Finding": (".records", "Finding"),
    "GateClosed": (".errors", "GateClosed"),
    "ImportEntry": (".records", "ImportEntry"),
    "InvalidTiming": (".engine.core", "InvalidTiming"),
    "InstallPlan": (".plan", "InstallPlan"),
    "InstallResult": (".engine", "InstallResult"),
    "InstallSpec": (".spec.model", "InstallSpec"),
    "InstallerError": (".errors", "InstallerError"),
    "InstallerHA": (".records", "InstallerHA"),
    "InstallerPayloadPart": (".records", "InstallerPayloadPart"),
    "KubeadmContribution": (".records", "KubeadmContribution"),
    "KubeadmFile": (".records", "KubeadmFile"),
    "LintError": (".errors", "LintError"),
    "LoadedSpec": (".spec.load", "LoadedSpec"),
    "ObjectRef": (".records", "ObjectRef"),
    "PhaseFinished": (".engine", "PhaseFinished"),
    "PhaseProgress": (".engine", "PhaseProgress"),
    "PhaseResult": (".engine", "PhaseResult"),
    "PhaseStarted": (".engine", "PhaseStarted"),
    "PluginError": (".errors", "PluginError"),
    "Provider": (".plugins", "Provider"),
    "ProviderInfo": (".records", "ProviderInfo"),
    "ProviderManifest": (".records", "ProviderManifest"),
    "ProviderPackage": (".records", "ProviderPackage"),
    "SecretError": (".errors", "SecretError"),
    "SecretRef": (".secrets", "SecretRef"),
    "SecretText": (".secrets", "SecretText"),
    "SecretValue": (".secrets", "SecretValue"),
    "SpecError": (".errors", "SpecError"),
    "SpecExample": (".records", "SpecExample"),
    "StateError": (".errors", "StateError"),
    "Timeouts": (".engine", "Timeouts"),
    "UsageError": (".errors", "UsageError"),
    "WaitTimeout": (".errors", "WaitTimeout"),
    "WorkerGroup": (".records", "WorkerGroup"),
    "build_plan": (".plan", "build_plan"),
    "crd_data": (".objects", "crd_data"),
    "doc": (".spec.model", "doc"),
    "dump_yaml": (".yamlio", "dump"),
    "dump_yaml_all": (".yamlio", "dump_all"),
    "encryption_config": (".plan", "encryption_config"),
    "hookimpl": (".hookspecs", "hookimpl"),
    "installed": (".plugins", "installed"),
    "load_provider": (".plugins", "load_provider"),
    "load_spec": (".spec.load", "load_spec"),
    "netcheck": (".netcheck", "netcheck"),
    "object_meta": (".objects", "object_meta"),
    "parse": (".spec.load", "parse"),
    "provider_package": (".objects", "provider_package"),
    "read_state": (".engine", "read_state"),
    "templating": (".templating", "templating"),
    "write_plan": (".plan", "write_plan"),
}

__all__ = [
    "CONTRACT_VERSION",
    "AcpInstallError",
    "Base64Of",
    "ClusterError",
    "DRContribution",
    "Diagnosis",
    "Engine",
    "EngineWarning",
    "Event",
    "Finding",
    "GateClosed",
    "ImportEntry",
    "InstallPlan",
    "InstallResult",
    "InstallSpec",
    "InstallerError",
    "InstallerHA",
    "InstallerPayloadPart",
    "InvalidTiming",
    "KubeadmContribution",
    "KubeadmFile",
    "LintError",
    "LoadedSpec",
    "ObjectRef",
    "PhaseFinished",
    "PhaseProgress",
    "PhaseResult",
    "PhaseStarted",
    "PluginError",
    "Provider",
    "ProviderInfo",
    "ProviderManifest",
    "ProviderPackage",
    "SecretError",
    "SecretRef",
    "SecretText",
    "SecretValue",
    "SpecError",
    "SpecExample",
    "StateError",
    "Timeouts",
    "UsageError",
    "WaitTimeout",
    "WorkerGroup",
    "build_plan",
    "crd_data",
    "doc",
    "dump_yaml",
    "dump_yaml_all",
    "encryption_config",
    "hookimpl",
    "installed",
    "load_provider",
    "load_spec",
    "netcheck",
    "object_meta",
    "parse",
    "provider_package",
    "read_state",
    "templating",
    "write_plan",
]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'acp_install' has no attribute {name!r}") from None
    value = importlib.import_module(module, __name__)
    if attr != module.lstrip("."):
        value = getattr(value, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
