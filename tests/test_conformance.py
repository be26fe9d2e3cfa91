"""Every bundled provider passes the conformance suite that third-party providers use."""

from __future__ import annotations

from acp_install.testing.conformance import ProviderConformance

from support import CRDS


class TestDcs(ProviderConformance):
    provider_id = "dcs"
    crds_dir = CRDS


class TestVsphere(ProviderConformance):
    provider_id = "vsphere"
    crds_dir = CRDS


class TestHcs(ProviderConformance):
    provider_id = "hcs"
    crds_dir = CRDS


class TestBaremetal(ProviderConformance):
    provider_id = "baremetal"
    crds_dir = CRDS
