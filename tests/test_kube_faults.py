"""The Kubernetes client against faults: what is retried, what fails at once, what is said.

Real ``kubernetes`` client over loopback against the sandbox (or a closed loopback port). No
elapsed-time assertion: "at once" is shown by the absence of retries, and by a deadline far
longer than the fast path that has not passed when the error arrives.
"""

from __future__ import annotations

import base64
import socket
import ssl
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import urllib3
import yaml

from acp_install.clients.kube import KubeClient, _tls_hint
from acp_install.clients.retry import Deadline
from acp_install.engine import Engine, Warning, read_state
from acp_install.errors import ClusterError
from acp_install.plan import build_plan
from acp_install.spec.load import load_spec
from acp_install_sandbox import Sandbox
from acp_install_sandbox.tls import make_certificates

from specs import example, write

LONG = 60.0


def kubeconfig_variant(sb: Sandbox, path: Path, **cluster: Any) -> Path:
    """The sandbox's kubeconfig with its cluster entry changed (None removes a key)."""
    data = yaml.safe_load(sb.kubeconfig_path.read_text())
    entry = data["clusters"][0]["cluster"]
    for key, value in cluster.items():
        key = key.replace("_", "-")
        if value is None:
            entry.pop(key, None)
        else:
            entry[key] = value
    path.write_text(yaml.safe_dump(data))
    return path


def closed_port() -> int:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_transient_503_on_discovery_is_retried_not_read_as_not_served(
        sandbox: Sandbox) -> None:
    fault = sandbox.fail("/api/v1", times=2)
    retries: list[str] = []
    with KubeClient(sandbox.kubeconfig_path, on_retry=retries.append) as kube:
        assert kube.has_kind("v1", "Namespace", deadline=Deadline(LONG))
        assert kube.get("v1", "Namespace", "cpaas-system", deadline=Deadline(LONG)) is not None
    assert fault.served == 2
    assert retries and all("503" in r or "Unavailable" in r for r in retries), retries


def test_a_persistent_503_on_discovery_is_an_error_not_a_missing_kind(sandbox: Sandbox) -> None:
    sandbox.fail("/apis/apiextensions.k8s.io/v1", times=10_000)
    with KubeClient(sandbox.kubeconfig_path) as kube, \
            pytest.raises(ClusterError, match=r"503|Unavailable") as err:
        kube.has_kind("apiextensions.k8s.io/v1", "CustomResourceDefinition",
                      deadline=Deadline(1.0))
    assert "does not serve" not in str(err.value)


@pytest.mark.parametrize("variant", ["wrong-ca", "missing-ca"])
def test_tls_failures_are_permanent_and_say_what_to_check(
        sandbox: Sandbox, tmp_path: Path, variant: str) -> None:
    other_ca = base64.b64encode(make_certificates("127.0.0.1").ca_pem).decode()
    path = kubeconfig_variant(sandbox, tmp_path / "kubeconfig",
                              certificate_authority_data=other_ca if variant == "wrong-ca"
                              else None)
    retries: list[str] = []
    deadline = Deadline(LONG)
    with KubeClient(path, on_retry=retries.append) as kube, \
            pytest.raises(ClusterError) as err:
        kube.get("v1", "Namespace", "default", deadline=deadline)
    text = str(err.value)
    assert f"TLS with {sandbox.server_url} failed" in text
    assert "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text
    assert "certificate-authority-data" in text and "new CA" in text
    assert retries == [] and not deadline.expired


def test_the_tls_hint_for_an_address_not_in_the_certificate() -> None:
    err = ssl.SSLCertVerificationError(
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: IP address mismatch, "
        "certificate is not valid for '127.0.0.2'")
    assert "does not name" in _tls_hint("https://127.0.0.2:6443", err)


def test_refused_before_any_contact_fails_in_one_line_without_retries(tmp_path: Path) -> None:
    port = closed_port()
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "x",
        "clusters": [{"name": "x", "cluster": {"server": f"https://127.0.0.1:{port}"}}],
        "contexts": [{"name": "x", "context": {"cluster": "x", "user": "x"}}],
        "users": [{"name": "x", "user": {"token": "t"}}]}))
    retries: list[str] = []
    deadline = Deadline(LONG)
    # the first refusal is always retried (inside any grace), so a loud retry would show; a
    # longer grace only adds backoff sleeps
    with KubeClient(path, on_retry=retries.append, connect_grace=0.1) as kube, \
            pytest.raises(ClusterError) as err:
        kube.get("v1", "Namespace", "default", deadline=deadline)
    assert f"connection refused: nothing listens at https://127.0.0.1:{port}" in err.value.message
    assert "\n" not in err.value.message
    assert retries == [] and not deadline.expired


def test_refused_after_the_server_answered_is_a_restart_and_is_retried(
        sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory()
    retries: list[str] = []
    with KubeClient(sb.kubeconfig_path, on_retry=retries.append, connect_grace=0.1) as kube:
        assert kube.get("v1", "Namespace", "default", deadline=Deadline(LONG)) is not None
        sb.stop()
        with pytest.raises(ClusterError, match="connection refused"):
            kube.get("v1", "Namespace", "default", deadline=Deadline(1.0))
    assert any("connection refused" in r for r in retries)


def test_insecure_skip_tls_verify_is_said_once_recorded_and_the_library_is_quiet(
        sandbox: Sandbox, tmp_path: Path, canaries: dict[str, str],
        capsys: pytest.CaptureFixture[str]) -> None:
    path = kubeconfig_variant(sandbox, tmp_path / "kubeconfig", certificate_authority_data=None,
                              insecure_skip_tls_verify=True)
    loaded = load_spec(write(tmp_path / "spec.yaml", example("dcs")))
    eng = Engine(build_plan(loaded), provider=loaded.provider, kubeconfig=path,
                 workdir=tmp_path / "w", poll_interval=0.1, resync=1.0)
    events: list[Any] = []
    eng.subscribe(events.append)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        assert eng.run(until="manifest")
    assert not [w for w in caught if issubclass(w.category, urllib3.exceptions.InsecureRequestWarning)]
    said = [e.message for e in events if isinstance(e, Warning) and "TLS VERIFICATION IS OFF" in e.message]
    assert len(said) == 1 and sandbox.server_url in said[0]
    state = read_state(tmp_path / "w")
    assert state is not None and state["tls"] == {"server": sandbox.server_url, "verify": False}
    from acp_install.cli.main import main

    assert main(["status", "--workdir", str(tmp_path / "w"), "--no-cluster"]) in (0, 22)
    assert f"TLS verification: OFF for {sandbox.server_url}" in capsys.readouterr().out


def test_an_install_survives_a_503_on_a_provider_group_discovery(
        sandbox_factory: Callable[..., Sandbox], tmp_path: Path, canaries: dict[str, str]) -> None:
    """Was: exit 10, "the API server does not serve ... its CRD is missing"."""
    sb = sandbox_factory(speed=50)
    fault = sb.fail("/apis/cluster.x-k8s.io/v1beta1", times=2)
    loaded = load_spec(write(tmp_path / "spec.yaml", example("dcs")))
    eng = Engine(build_plan(loaded), provider=loaded.provider, kubeconfig=sb.kubeconfig_path,
                 workdir=tmp_path / "w", poll_interval=0.1, resync=1.0)
    assert eng.run(until="manifest")
    assert fault.served == 2
