"""Every provider's rendered global.yaml applies with real kubectl against the real CRDs, and a
deliberately invalid object is rejected with a 422 naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox_helpers import Kubectl
from specs import example, render
from support import objects_of


@pytest.mark.sandbox(preinstall_crds=True)
@pytest.mark.parametrize("provider_id", ["dcs", "vsphere", "hcs", "baremetal"])
def test_rendered_global_manifest_applies(provider_id: str, kubectl: Kubectl, tmp_path: Path,
                                          canaries: dict[str, str]) -> None:
    out = render(tmp_path, example(provider_id))
    manifest = out / "global.yaml"
    objects = objects_of(manifest.read_text())
    applied = kubectl("apply", "-f", str(manifest)).stdout
    for obj in objects:
        assert f"/{obj['metadata']['name']} created" in applied, f"{obj['kind']} not created"
    got = kubectl("get", "clusters.cluster.x-k8s.io", "-n", "cpaas-system", "-o", "name").stdout
    assert got.strip() == "cluster.cluster.x-k8s.io/global"


@pytest.mark.sandbox(preinstall_crds=True)
def test_invalid_rendered_object_is_rejected_naming_the_field(kubectl: Kubectl, tmp_path: Path,
                                                              canaries: dict[str, str]) -> None:
    out = render(tmp_path, example("dcs"))
    bad = (out / "global.yaml").read_text().replace("format: ignition", "format: cloud-init")
    path = tmp_path / "bad.yaml"
    path.write_text(bad)
    proc = kubectl("apply", "-f", str(path), check=False)
    assert proc.returncode != 0
    assert "spec.kubeadmConfigSpec.format" in proc.stderr and "cloud-init" in proc.stderr
