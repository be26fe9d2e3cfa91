"""acp-install: install the Alauda Container Platform global cluster through Cluster API.

This module is the whole public API: provider authors and embedding applications import from
here, never from the private modules (which may move).
"""

from __future__ import annotations

from . import netcheck, templating
from .engine import (
    Engine,
    Event,
    InstallResult,
    PhaseFinished,
    PhaseProgress,
    PhaseResult,
    PhaseStarted,
    Timeouts,
    read_state,
)
from .engine import Warning as EngineWarning
from .errors import (
    AcpInstallError,
    ClusterError,
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
    "ImportEntry",
    "InstallPlan",
    "InstallResult",
    "InstallSpec",
    "InstallerError",
    "InstallerHA",
    "InstallerPayloadPart",
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
