"""A full vSphere install against the sandbox: real kubernetes client, real httpx, loopback.

The sandbox validates every applied custom resource against the shipped CRD schemas, makes the vSphere
CRDs appear from the AppRelease, provisions the control plane and runs the installer API; what
acp-install did is read back from what the sandbox recorded.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from acp_install.engine import PHASE_NAMES, Engine, Timeouts
from acp_install.plan import build_plan
from acp_install.spec.load import load_spec
from acp_install_sandbox import Sandbox

from specs import example, write

KEY_FILE = "~/.acp-install/192.168.1.100/global-encryption-key"


def test_full_vsphere_install(sandbox_factory: Callable[..., Sandbox],
                              tmp_path: Path, canaries: dict[str, str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # the generated key lands in ~/.acp-install
    loaded = load_spec(write(tmp_path / "spec.yaml", example("vsphere")))
    plan = build_plan(loaded)
    sb = sandbox_factory(scenario="happy")
    base = {"packages": 15, "manifest": 15, "control_plane": 20, "extra_resources": 15,
            "installer": 15, "monitor": 20, "verify": 15}
    eng = Engine(plan, kubeconfig=sb.kubeconfig_path, workdir=tmp_path / "work",
                 provider=loaded.provider, poll_interval=0.1, resync=2.0,
                 timeouts=Timeouts(installer_stall=10.0).with_overrides(**base))
    result = eng.run()
    assert result.complete
    assert [p.name for p in result.phases] == list(PHASE_NAMES)

    applied = {(w.kind, w.name) for w in sb.recorder.writes
               if w.manager == "acp-install" and w.verb == "apply"}
    wanted = {(o["kind"], o["metadata"]["name"])
              for o in [*plan.appreleases, *plan.manifest]}
    assert wanted <= applied
    assert ("ConfigMap", "dcs-import-extra-resources") in applied

    (post,) = [r for r in sb.recorder.installer_requests if r.method == "POST"]
    body: dict[str, Any] = post.body if isinstance(post.body, dict) else json.loads(post.body)
    assert body["console"]["host"] == [] and "cluster" not in body
    assert body["basic"]["password"] == base64.b64encode(
        canaries["ACP_ADMIN_PASSWORD"].encode()).decode()

    # the key was generated once, 0600, on the apply
    key = Path(KEY_FILE).expanduser()
    assert not (tmp_path / ".acp-install").exists()
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    value = key.read_text().strip()
    assert len(base64.b64decode(value)) == 32
    # ... and that very key, not a placeholder, is what the KubeadmControlPlane carries
    (kcp,) = [w.obj for w in sb.recorder.writes
              if w.kind == "KubeadmControlPlane" and w.manager == "acp-install"][-1:]
    files = {f["path"]: f for f in kcp["spec"]["kubeadmConfigSpec"]["files"]}
    assert f"secret: {value}\n" in files["/etc/kubernetes/encryption-provider.conf"]["content"]
