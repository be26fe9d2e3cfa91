"""Helpers shared by the sandbox tests (real clients against a live sandbox)."""

from __future__ import annotations

import base64
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config

from acp_install_sandbox import Sandbox

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"


def api_client(sb: Sandbox, token: str | None = None) -> client.ApiClient:
    """An official-client ApiClient built from the sandbox kubeconfig (TLS verified).

    With ``token`` a copy of the kubeconfig carrying that token is used instead.
    """
    path = sb.kubeconfig_path
    if token is not None:
        data = yaml.safe_load(path.read_text())
        data["users"][0]["user"]["token"] = token
        path = sb.state_dir / "kubeconfig-other-token"
        path.write_text(yaml.safe_dump(data))
    return config.new_client_from_config(config_file=str(path))


Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def global_kubeconfig(sb: Sandbox, path: Path, timeout: float = 20.0) -> Path:
    """The new global cluster's kubeconfig, read as a user would: the Cluster API Secret
    ``global-kubeconfig`` (key ``value``) in minialauda, written to ``path`` (waits for it)."""
    core = client.CoreV1Api(api_client(sb))

    def read() -> Any:
        try:
            return core.read_namespaced_secret("global-kubeconfig", "cpaas-system")
        except client.ApiException as err:
            if err.status == 404:
                return None
            raise

    secret = wait_for(read, timeout=timeout)
    path.write_bytes(base64.b64decode(secret.data["value"]))
    return path


def make_kubectl(sb: Sandbox, cache: Path, kubeconfig: Path | None = None) -> Kubectl:
    def run(
        *args: str, input: str | None = None, check: bool = True, timeout: float = 30
    ) -> subprocess.CompletedProcess[str]:
        cmd = [KUBECTL, "--kubeconfig", str(kubeconfig or sb.kubeconfig_path), "--cache-dir", str(cache), *args]
        proc = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    return run


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Poll (test helper only; the engine itself watches)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)
