"""The sandbox: an emulated minialauda on loopback (DESIGN.md §8).

A Kubernetes API server (HTTPS, bearer token, discovery, CRDs, watch, server-side apply,
structural-schema validation), simulated AppRelease and Cluster API controllers, and a
simulated cpaas-installer, all in threads of one process::

    from acp_install.sandbox import Sandbox

    with Sandbox(crds_dir="../shared/crds", scenario="happy", speed=20) as sb:
        sb.kubeconfig_path, sb.installer_url, sb.recorder.installer_payloads

:class:`CRDRegistry` is usable on its own to validate rendered manifests offline.
"""

from __future__ import annotations

from .recorder import AppliedObject, InstallerRequest, RecordedRequest, Recorder
from .runtime import Sandbox
from .scenarios import SCENARIOS, Scenario, Timing
from .schema import CRDRegistry, CRDVersion, FieldError

__all__ = [
    "SCENARIOS",
    "AppliedObject",
    "CRDRegistry",
    "CRDVersion",
    "FieldError",
    "InstallerRequest",
    "RecordedRequest",
    "Recorder",
    "Sandbox",
    "Scenario",
    "Timing",
]
