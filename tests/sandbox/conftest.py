"""Fixtures for the sandbox tests: real clients (kubernetes, kubectl) against a live sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from acp_install_sandbox import Sandbox

from sandbox_helpers import KUBECTL, Kubectl, api_client, make_kubectl


@pytest.fixture
def kube(sandbox: Sandbox) -> Iterator[client.ApiClient]:
    api = api_client(sandbox)
    yield api
    api.close()


@pytest.fixture
def kubectl(sandbox: Sandbox, tmp_path: Path) -> Kubectl:
    if not Path(KUBECTL).exists():
        pytest.skip("kubectl not installed")
    return make_kubectl(sandbox, tmp_path / "kube-cache")
