"""The core's internal plugin: what every install ships regardless of provider.

It is registered through the same hooks as a provider (no special path in the engine), so a
provider sees and may extend the same contributions.
"""

from __future__ import annotations

from .hookspecs import hookimpl
from .records import ProviderPackage
from .spec.model import InstallSpec

KUBEADM_RELEASE = "cluster-api-provider-kubeadm"
KUBEADM_CRD = "kubeadmcontrolplanes.controlplane.cluster.x-k8s.io"


@hookimpl(trylast=True)
def acp_packages(spec: InstallSpec) -> list[ProviderPackage]:
    """The Alauda Kubeadm provider package: installed first, on every provider."""
    return [
        ProviderPackage(
            release_name=KUBEADM_RELEASE,
            chart=f"ait/chart-{KUBEADM_RELEASE}",
            version=spec.packages.kubeadm.version,
            tarball=spec.packages.kubeadm.path,
            wait_crds=(KUBEADM_CRD,),
            order=0,
        )
    ]
