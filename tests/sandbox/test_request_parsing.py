"""The sandbox's request parsing under hostile input (issue: "Found by probing").

Each case failed before its fix: a 501-byte YAML alias bomb sent as an apply patch grew the
sandbox past 4 GB, ``Content-Length: abc`` answered 500 (installer: dropped the connection with
a traceback), every reset connection printed a traceback, and names a real API server refuses
(``../../x``, 10,000 characters) were stored. Afterwards the sandbox always still serves.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from test_apiserver import raw

from acp_install.cli.main import main
from acp_install_sandbox import Sandbox

BOMB = "\n".join(
    ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
) + "\nmetadata: {name: bomb}\n"


def _tls(sb: Sandbox) -> ssl.SSLContext:
    return ssl.create_default_context(cadata=sb.ca_pem.decode())


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def exchange(sb: Sandbox, data: bytes, *, installer: bool = False) -> bytes:
    """Send raw bytes to the API server (TLS) or the installer; the status line and headers."""
    if installer:
        sock = socket.create_connection((sb.address, sb.installer_port), timeout=10)
    else:
        sock = _tls(sb).wrap_socket(socket.create_connection((sb.address, _port(sb.server_url)), timeout=10),
                                    server_hostname=sb.address)
    with sock:
        sock.sendall(data)
        out = b""
        while b"\r\n\r\n" not in out:
            chunk = sock.recv(4096)
            if not chunk:
                break
            out += chunk
        return out


def serving(sb: Sandbox) -> bool:
    status, body = raw(sb, "GET", "/api/v1/namespaces")
    return status == 200 and any(i["metadata"]["name"] == "cpaas-system" for i in body["items"])


def test_yaml_alias_bomb_apply_patch_is_refused(sandbox: Sandbox) -> None:
    assert len(BOMB) < 600
    status, body = raw(sandbox, "PATCH", "/api/v1/namespaces/default/configmaps/bomb?fieldManager=t",
                       BOMB.encode(), content_type="application/apply-patch+yaml")
    assert status == 400 and "expands to more than" in body["message"]
    assert serving(sandbox)


@pytest.mark.parametrize("body", [b"[" * 5000 + b"]" * 5000, b'{"a":' * 3000 + b"1" + b"}" * 3000])
@pytest.mark.parametrize("content_type", ["application/json", "application/apply-patch+yaml"])
def test_deeply_nested_body_is_refused(sandbox: Sandbox, body: bytes, content_type: str) -> None:
    method, path = ("POST", "/api/v1/namespaces/default/configmaps") if content_type == "application/json" \
        else ("PATCH", "/api/v1/namespaces/default/configmaps/deep?fieldManager=t")
    status, reply = raw(sandbox, method, path, body, content_type=content_type)
    assert status == 400, reply
    assert serving(sandbox)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1E400"])
def test_json_without_a_json_number_is_refused_and_an_apply_reads_it_as_yaml(sandbox: Sandbox, literal: str) -> None:
    """A real API server refuses NaN, Infinity and numbers out of a double's range in JSON;
    an apply body that is not JSON is read as YAML, where they are strings (before the JSON
    fast path every apply was, and NaN, never equal to itself, made an unchanged apply a change)."""
    body = f'{{"metadata": {{"name": "n"}}, "data": {{"x": {literal}}}}}'.encode()
    status, reply = raw(sandbox, "POST", "/api/v1/namespaces/default/configmaps", body,
                        content_type="application/json")
    assert status == 400 and ("not a JSON number" in reply["message"] or "out of range" in reply["message"]), reply
    path = "/api/v1/namespaces/default/configmaps/n?fieldManager=t"
    versions = []
    for _ in range(2):
        status, reply = raw(sandbox, "PATCH", path, body, content_type="application/apply-patch+yaml")
        assert status in (200, 201), reply
        versions.append(reply["metadata"]["resourceVersion"])
    assert reply["data"] == {"x": literal}
    assert versions[0] == versions[1]  # the same apply again changes nothing
    assert serving(sandbox)


def test_the_same_apply_a_second_later_changes_nothing(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the time of the manager's managedFields entry would differ: no new resourceVersion
    (the second apply of an unchanged object landed in another second now and then)."""
    import itertools

    import acp_install_sandbox.api as api_module

    seconds = itertools.count()
    monkeypatch.setattr(api_module, "now_ts", lambda: f"2026-01-01T00:00:{next(seconds):02d}Z")
    body = b'{"metadata": {"name": "again"}, "data": {"x": "1"}}'
    path = "/api/v1/namespaces/default/configmaps/again?fieldManager=t"
    first = raw(sandbox, "PATCH", path, body, content_type="application/apply-patch+yaml")[1]
    second = raw(sandbox, "PATCH", path, body, content_type="application/apply-patch+yaml")[1]
    assert second["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    assert second["metadata"]["managedFields"] == first["metadata"]["managedFields"]


@pytest.mark.parametrize("value", ["abc", "-1", "1e3", "0x10", " "])
def test_bad_content_length_is_400(sandbox: Sandbox, value: str) -> None:
    request = (f"POST /api/v1/namespaces HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {sandbox.token}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {value}\r\n\r\n").encode()
    reply = exchange(sandbox, request)
    assert reply.startswith(b"HTTP/1.1 400 "), reply[:80]
    reply = exchange(sandbox, (f"POST /cpaas-installer/api/config/x HTTP/1.1\r\nHost: x\r\n"
                               f"Content-Length: {value}\r\n\r\n").encode(), installer=True)
    assert reply.startswith(b"HTTP/1.1 400 "), reply[:80]
    assert serving(sandbox)
    assert sandbox.recorder.installer_payloads == []


def _reset(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_reset_connections_print_no_traceback(sandbox: Sandbox, capfd: pytest.CaptureFixture[str]) -> None:
    api = (sandbox.address, _port(sandbox.server_url))
    partial = [b"", b"GET /api HTTP/1.1\r\nHost: x\r\n",
               (f"POST /api/v1/namespaces HTTP/1.1\r\nAuthorization: Bearer {sandbox.token}\r\n"
                "Content-Length: 100\r\n\r\n{").encode()]
    for data in partial:
        _reset(socket.create_connection(api))  # before the TLS handshake
        tls = _tls(sandbox).wrap_socket(socket.create_connection(api), server_hostname=sandbox.address)
        tls.sendall(data or b"G")
        _reset(tls)
        plain = socket.create_connection((sandbox.address, sandbox.installer_port))
        plain.sendall(data.replace(b"/api/v1/namespaces", b"/cpaas-installer/api/config/x"))
        _reset(plain)
    assert serving(sandbox)  # every connection above was handled (or dropped) before this answer
    exchange(sandbox, b"GET /cpaas-installer/api/progress HTTP/1.1\r\nHost: x\r\n\r\n", installer=True)
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception occurred" not in err
    assert sandbox.recorder.installer_payloads == []


@pytest.mark.parametrize(("name", "plural"), [
    ("../../x", "configmaps"), ("a" * 10_000, "configmaps"), ("Upper", "configmaps"), ("a/b", "secrets"),
    ("-x", "configmaps"), ("x" * 64, "namespaces"), ("a.b", "namespaces"),
], ids=["dotdot", "10000-chars", "upper", "slash", "leading-dash", "ns-64", "ns-dot"])
def test_invalid_names_are_refused(sandbox: Sandbox, name: str, plural: str) -> None:
    path = "/api/v1/namespaces" if plural == "namespaces" else f"/api/v1/namespaces/default/{plural}"
    kind = {"configmaps": "ConfigMap", "secrets": "Secret", "namespaces": "Namespace"}[plural]
    status, body = raw(sandbox, "POST", path, json.dumps({"apiVersion": "v1", "kind": kind,
                                                           "metadata": {"name": name}}).encode())
    assert status == 422 and body["reason"] == "Invalid", body
    assert "metadata.name" in body["message"] and len(body["message"]) < 1000
    status, listed = raw(sandbox, "GET", path)
    assert all(i["metadata"]["name"] != name for i in listed["items"])


def test_valid_names_still_accepted(sandbox: Sandbox) -> None:
    for name in ("global", "global-cp-pool", "a.b-c", "x" * 253):
        status, body = raw(sandbox, "POST", "/api/v1/namespaces/default/configmaps",
                           json.dumps({"metadata": {"name": name}}).encode())
        assert status == 201, body


# --- sandbox down only signals the sandbox ------------------------------------------------------


def test_down_refuses_a_reused_pid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A stale ``sandbox.pid`` now naming an unrelated process: not signalled."""
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        state = tmp_path / "sd"
        state.mkdir()
        (state / "sandbox.pid").write_text(str(victim.pid))
        assert main(["sandbox", "down", "--state-dir", str(state)]) == 7
        err = capsys.readouterr().err
        assert f"pid {victim.pid}" in err and "is not the sandbox" in err
        assert victim.poll() is None  # still running: it was not signalled
        assert not (state / "sandbox.pid").exists()
        # a record of the sandbox's own start time that does not match: refused as well
        (state / "sandbox.pid").write_text(str(victim.pid))
        (state / "sandbox.json").write_text(json.dumps({"pid": victim.pid, "pid_start": "1"}))
        assert main(["sandbox", "down", "--state-dir", str(state)]) == 7
        assert "started after the sandbox" in capsys.readouterr().err
        assert victim.poll() is None
    finally:
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
