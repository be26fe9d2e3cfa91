"""Every bundled provider passes the conformance suite that third-party providers use."""

from __future__ import annotations

from acp_install.testing.conformance import ProviderConformance


class TestDcs(ProviderConformance):
    provider_id = "dcs"


class TestVsphere(ProviderConformance):
    provider_id = "vsphere"


class TestHcs(ProviderConformance):
    provider_id = "hcs"


class TestBaremetal(ProviderConformance):
    provider_id = "baremetal"
