"""JSON of the wrong shape from or to a registry: a clear refusal, never an internal error.

The client side talks to a loopback server that answers with JSON lists; the sandbox side is
sent a manifest that is a JSON list and must answer 400 with an OCI error body.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from acp_install.clients.registry import RegistryClient
from acp_install.clients.retry import Deadline
from acp_install.errors import PackageError
from acp_install_sandbox.registry import Registry, RegistryServer

from support import HTTP


class _Lists(BaseHTTPRequestHandler):
    """Every answer a JSON list: ``/v2/bad/tags/list`` 200, ``/v2/denied/…`` 403, and a Bearer
    challenge for ``/v2/locked/…`` whose token service answers a list too."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        host, port = self.server.server_address[:2]
        headers: dict[str, str] = {}
        if self.path.startswith("/v2/denied/"):
            code = 403
        elif self.path.startswith("/v2/locked/") and "Authorization" not in self.headers:
            code = 401
            headers["WWW-Authenticate"] = f'Bearer realm="http://{host!s}:{port}/token",service="r"'
        else:
            code = 200
        body = json.dumps(["tags", "token", "errors"]).encode()
        self.send_response(code)
        for k, v in {**headers, "Content-Type": "application/json", "Content-Length": str(len(body))}.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def lists() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Lists)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize(("repository", "says"), [
    ("bad", "not a JSON object with a tags list"),
    ("denied", "HTTP 403"),
    ("locked", "answered without a token"),
])
def test_a_registry_answering_a_json_list_is_a_package_error(lists: str, repository: str, says: str) -> None:
    with RegistryClient(lists, request_timeout=10.0) as client, pytest.raises(PackageError, match=says) as got:
        client.tags(repository, deadline=Deadline(30.0))
    assert got.value.exit_code == PackageError.exit_code == 14


@pytest.mark.parametrize("manifest", [[], ["a"], "text", {"layers": ["x"]}, {"config": "x"}],
                         ids=["empty-list", "list", "string", "layers-not-descriptors", "config-string"])
def test_the_sandbox_registry_refuses_a_manifest_that_is_not_an_object(manifest: object) -> None:
    server = RegistryServer(Registry(), address="127.0.0.1")
    server.start()
    try:
        resp = HTTP.put(f"http://{server.host_port}/v2/charts/app/manifests/1.0",
                         content=json.dumps(manifest).encode(),
                         headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, timeout=10.0)
        assert resp.status_code == 400
        assert resp.json()["errors"][0]["code"] == "MANIFEST_INVALID"
        # the connection and the server are still fine: the next request is answered
        assert HTTP.get(f"http://{server.host_port}/v2/charts/app/tags/list", timeout=10.0).status_code == 404
    finally:
        server.stop()
