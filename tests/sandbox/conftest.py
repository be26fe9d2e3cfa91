"""Fixtures for the sandbox tests: real clients (kubernetes, kubectl) against a live sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from acp_install.sandbox import Sandbox
from acp_install.testing import pytest_configure, sandbox, sandbox_factory

from sandbox_helpers import CRDS, KUBECTL, Kubectl, api_client, make_kubectl

__all__ = ["pytest_configure", "sandbox", "sandbox_factory"]


@pytest.fixture(scope="session")
def crds_dir() -> Path:
    if not CRDS.is_dir():
        pytest.skip("../shared/crds not available")
    return CRDS


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
