"""Providers whose Step 7 names runtime objects get the list re-derived from live objects."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import acp_install_dcs.plugin as dcs
import attrs

from acp_install import Engine, Provider, Timeouts, build_plan, load_spec
from acp_install.provider import ImportEntry, ProviderInfo, hookimpl
from acp_install.yamlio import load_all
from acp_install_sandbox import Sandbox

from specs import example, write


class LiveDcs:
    """DCS, plus an import entry for the Machines (which only exist once provisioned)."""

    @hookimpl
    def acp_provider_info(self) -> ProviderInfo:
        return attrs.evolve(dcs.acp_provider_info(), live_extra_resources=True)

    @hookimpl
    def acp_extra_resources(self, spec: Any, objects: Sequence[Mapping[str, Any]]) -> list[ImportEntry]:
        names = sorted(o["metadata"]["name"] for o in objects if o.get("kind") == "Machine")
        return [ImportEntry("machines.cluster.x-k8s.io", names=tuple(names))] if names else []

    acp_packages = staticmethod(dcs.acp_packages)
    acp_manifest = staticmethod(dcs.acp_manifest)
    acp_installer_payload = staticmethod(dcs.acp_installer_payload)


def test_import_list_is_rebuilt_from_live_objects(tmp_path: Path, canaries: dict[str, str],
                                                  sandbox_factory: Callable[..., Sandbox],
                                                  ) -> None:
    provider = Provider(LiveDcs(), distribution="test-live-dcs")
    loaded = load_spec(write(tmp_path / "spec.yaml", example("dcs")), provider=provider)
    plan = build_plan(loaded)
    assert plan.extra_resources is None  # no Machine exists at plan time
    sb = sandbox_factory()
    engine = Engine(plan, kubeconfig=sb.kubeconfig_path, workdir=tmp_path / "w", provider=provider,
                    timeouts=Timeouts(scale=0.05), poll_interval=0.1)
    assert engine.run().complete
    body = subprocess.run(["kubectl", "--kubeconfig", str(sb.kubeconfig_path), "-n", "cpaas-system",
                           "get", "configmap", "dcs-import-extra-resources", "-o",
                           "jsonpath={.data.resources\\.yaml}"], capture_output=True, text=True,
                          check=True).stdout
    entries = load_all(body)[0][0]["resources"]
    (machines,) = [e for e in entries if e["resource"] == "machines.cluster.x-k8s.io"]
    assert len(machines["names"]) == 3 and all(n.startswith("global-kcp") for n in machines["names"])
