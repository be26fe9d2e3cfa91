"""What this provider teaches the sandbox: the chart its package installs and that chart's CRDs.

Loaded only by ``acp-install-sandbox`` (entry-point group ``acp_install_sandbox.providers``);
the provider itself never imports it. ``crds/`` is generated with
``python -m acp_install_sandbox.schemagen`` (provenance in ``crds/PROVENANCE.json``).
"""

from __future__ import annotations

from pathlib import Path

from acp_install_sandbox.provider import Chart, SandboxProvider

__all__ = ["declaration"]


def declaration() -> SandboxProvider:
    return SandboxProvider(charts=(Chart("cluster-api-provider-dcs", Path(__file__).resolve().parent / "crds",
                                         versions=("v1.0.21",)),))
