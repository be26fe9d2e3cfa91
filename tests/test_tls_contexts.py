"""The shared TLS contexts trust what httpx would trust, and follow SSL_CERT_FILE."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from acp_install.clients import tls


def _subjects(ctx: object) -> set[object]:
    return {repr(c.get("subject")) for c in ctx.get_ca_certs()}  # type: ignore[attr-defined]


def test_the_default_context_is_built_once_and_trusts_what_httpx_trusts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    ctx = tls.httpx_default()
    assert tls.httpx_default() is ctx
    assert _subjects(ctx) == _subjects(httpx.create_ssl_context())  # certifi's bundle, not the OS store


def test_ssl_cert_file_is_honoured_as_httpx_honours_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from acp_install_sandbox.tls import make_certificates

    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(make_certificates("127.0.0.1").ca_pem)
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    ctx = tls.httpx_default()
    assert ctx is not tls._httpx_default(None, None)
    assert len(ctx.get_ca_certs()) == 1  # only the bundle the variable names


def test_the_probe_context_verifies_nothing() -> None:
    ctx = tls.unverified()
    assert tls.unverified() is ctx and not ctx.check_hostname and ctx.verify_mode.name == "CERT_NONE"
