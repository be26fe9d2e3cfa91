"""The public API for provider authors: hook markers, the records hooks return, helpers.

The helpers (``platform_of``, ``Findings``, ``worker_group``, ``worker_findings``,
``secret_object``, ``spec_example``...) are what every provider used to write again; using them
keeps providers alike. ``docs/plugin-authors.md`` ("Helpers in acp_install.provider") lists them.

A provider distribution imports from here and from nothing else of ``acp_install`` (embedders
use :mod:`acp_install`); the modules behind these names are private and may move::

    from acp_install.provider import Finding, InstallSpec, ProviderInfo, hookimpl
"""

from __future__ import annotations

from . import netcheck, templating
from .errors import GateClosed, PluginError
from .hookspecs import CONTRACT_VERSION, hookimpl
from .objects import crd_data, object_meta, provider_package, secret_object
from .plan import encryption_config
from .providerkit import (
    COMPATIBILITY_TABLE,
    OS_SUPPORT_MATRIX,
    SSH_PUBLIC_KEY,
    VERSIONS_RULE,
    Findings,
    KcpBaseSection,
    WorkerSection,
    acp_releases,
    annotation_findings,
    image_fields,
    image_tag_findings,
    kcp_base_findings,
    kubeadm_base,
    matrix_field,
    matrix_hint,
    package_gate,
    platform_of,
    release,
    spec_example,
    worker_findings,
    worker_group,
)
from .records import (
    Diagnosis,
    DRContribution,
    Finding,
    Gate,
    ImportEntry,
    InstallerHA,
    InstallerPayloadPart,
    KubeadmContribution,
    KubeadmFile,
    ObjectRef,
    Probe,
    ProviderInfo,
    ProviderManifest,
    ProviderPackage,
    RunbookStep,
    SpecAlias,
    SpecExample,
    WorkerGroup,
)
from .secrets import Base64Of, SecretRef, SecretText, SecretValue
from .spec.model import InstallSpec, doc
from .yamlio import dump as dump_yaml
from .yamlio import dump_all as dump_yaml_all

__all__ = [
    "COMPATIBILITY_TABLE",
    "CONTRACT_VERSION",
    "OS_SUPPORT_MATRIX",
    "SSH_PUBLIC_KEY",
    "VERSIONS_RULE",
    "Base64Of",
    "DRContribution",
    "Diagnosis",
    "Finding",
    "Findings",
    "Gate",
    "GateClosed",
    "ImportEntry",
    "InstallSpec",
    "InstallerHA",
    "InstallerPayloadPart",
    "KcpBaseSection",
    "KubeadmContribution",
    "KubeadmFile",
    "ObjectRef",
    "PluginError",
    "Probe",
    "ProviderInfo",
    "ProviderManifest",
    "ProviderPackage",
    "RunbookStep",
    "SecretRef",
    "SecretText",
    "SecretValue",
    "SpecAlias",
    "SpecExample",
    "WorkerGroup",
    "WorkerSection",
    "acp_releases",
    "annotation_findings",
    "crd_data",
    "doc",
    "dump_yaml",
    "dump_yaml_all",
    "encryption_config",
    "hookimpl",
    "image_fields",
    "image_tag_findings",
    "kcp_base_findings",
    "kubeadm_base",
    "matrix_field",
    "matrix_hint",
    "netcheck",
    "object_meta",
    "package_gate",
    "platform_of",
    "provider_package",
    "release",
    "secret_object",
    "spec_example",
    "templating",
    "worker_findings",
    "worker_group",
]
