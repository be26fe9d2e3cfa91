"""acp-install-sandbox: an emulated minialauda on loopback (DESIGN.md §8).

A Kubernetes API server (HTTPS, bearer token, discovery, CRDs, watch, server-side apply,
structural-schema validation), simulated AppRelease and Cluster API controllers, and a
simulated cpaas-installer, all in threads of one process::

    from acp_install_sandbox import Sandbox

    with Sandbox(scenario="happy", speed=20) as sb:
        sb.kubeconfig_path, sb.installer_url, sb.recorder.installer_payloads

Provider distributions teach it their charts, CRD schemas and simulated behaviour through the
entry-point group ``acp_install_sandbox.providers`` (:mod:`acp_install_sandbox.provider`); the
sandbox itself names no provider. Minialauda's registry is served too (OCI distribution API,
:mod:`acp_install_sandbox.registry`); :func:`make_pack`, :func:`push_pack` and
:func:`write_packtool` are the stand-in packtool, :func:`make_core_package` a fixture Core
Package (test doubles). :class:`CRDRegistry` is
usable on its own to validate rendered manifests offline; ``pytest`` gets the ``sandbox``
fixtures from the registered plugin :mod:`acp_install_sandbox.pytest_plugin`.
"""

from __future__ import annotations

from .catalog import installed_registry
from .corepackage import make_core_package
from .holds import Hold
from .kinds import BUILTIN as BUILTIN_KINDS
from .packtool import make_pack, write_packtool
from .packtool import push as push_pack
from .recorder import AppliedObject, InstallerRequest, RecordedRequest, Recorder
from .runtime import Sandbox
from .scenarios import SCENARIOS, Scenario, Timing, all_scenarios
from .schema import CRDRegistry, CRDVersion, FieldError

__all__ = [
    "BUILTIN_KINDS",
    "SCENARIOS",
    "AppliedObject",
    "CRDRegistry",
    "CRDVersion",
    "FieldError",
    "Hold",
    "InstallerRequest",
    "RecordedRequest",
    "Recorder",
    "Sandbox",
    "Scenario",
    "Timing",
    "all_scenarios",
    "installed_registry",
    "make_core_package",
    "make_pack",
    "push_pack",
    "write_packtool",
]
