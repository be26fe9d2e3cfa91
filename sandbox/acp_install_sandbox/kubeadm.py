"""The sandbox's own declaration: the Cluster API core/kubeadm chart every install applies.

Registered through the same entry-point group as any provider's declaration, so the sandbox
learns the Cluster API kinds the way it learns everyone else's.
"""

from __future__ import annotations

from pathlib import Path

from .provider import Chart, SandboxProvider

__all__ = ["declaration"]


def declaration() -> SandboxProvider:
    # v1.0.14: the kubeadm provider version of the `acp-install init` example
    return SandboxProvider(charts=(Chart("cluster-api-provider-kubeadm", Path(__file__).parent / "crds",
                                         versions=("v1.0.14",)),))
