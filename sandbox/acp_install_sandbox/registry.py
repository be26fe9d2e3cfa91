"""Minialauda's embedded registry: the OCI distribution API (read and push) on loopback.

What the seed's Step 3 talks to: ``packtool pack push -r LOCAL_REGISTRY_ADDRESS`` pushes the
provider packages' charts here, the AppReleases install them from here. Plain HTTP (the
reference's registry URL is ``http://${LOCAL_REGISTRY_ADDRESS}/v2/...``), listening on the
sandbox's loopback address only.

Served (the subset of the OCI distribution spec a chart push and a chart check use):

- ``GET /v2/``; ``GET /v2/<name>/tags/list`` (404 ``NAME_UNKNOWN`` for an unknown repository)
- ``GET|HEAD /v2/<name>/manifests/<tag|digest>``, ``GET|HEAD /v2/<name>/blobs/<digest>``
- ``POST /v2/<name>/blobs/uploads/`` (``?digest=`` for a monolithic upload),
  ``PATCH``/``PUT /v2/<name>/blobs/uploads/<id>[?digest=]``, ``PUT /v2/<name>/manifests/<tag>``
- ``DELETE /v2/<name>/manifests/<tag|digest>`` (tests take a chart away)

Authentication, optional (``Sandbox(registry_auth=(user, password))``): ``basic`` answers
``401`` with ``WWW-Authenticate: Basic``; ``bearer`` answers ``401`` with a ``Bearer`` challenge
whose realm is this server's ``/token`` endpoint (Basic credentials in, a token out), as
distribution's token auth does.

At start the registry holds the charts the installed distributions declare with versions
(``Chart.versions``), as if their packages had been pushed; ``Sandbox(registry="empty")``
starts it empty, for tests that push with the stand-in packtool (:mod:`.packtool`).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import secrets
import tarfile
import threading
import uuid
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from .serving import BackgroundServer

__all__ = ["HELM_CONFIG", "HELM_LAYER", "OCI_MANIFEST", "Registry", "RegistryServer", "chart_archive"]

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
HELM_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
AuthScheme = Literal["basic", "bearer"]

_NAME = r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
_ROUTES = [
    ("tags", re.compile(rf"^/v2/(?P<name>{_NAME})/tags/list$")),
    ("manifest", re.compile(rf"^/v2/(?P<name>{_NAME})/manifests/(?P<ref>[A-Za-z0-9_.:+-]+)$")),
    ("blob", re.compile(rf"^/v2/(?P<name>{_NAME})/blobs/(?P<digest>sha256:[a-f0-9]{{64}})$")),
    ("uploads", re.compile(rf"^/v2/(?P<name>{_NAME})/blobs/uploads/?$")),
    ("upload", re.compile(rf"^/v2/(?P<name>{_NAME})/blobs/uploads/(?P<id>[a-f0-9-]+)$")),
]


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def chart_archive(name: str, version: str) -> bytes:
    """A minimal Helm chart ``.tgz`` (``<name>/Chart.yaml``): what the sandbox stores as a chart."""
    chart_yaml = f"apiVersion: v2\nname: {name}\nversion: {version.lstrip('v')}\n".encode()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        info = tarfile.TarInfo(f"{name}/Chart.yaml")
        info.size = len(chart_yaml)
        info.mtime = 0
        tar.addfile(info, io.BytesIO(chart_yaml))
    return out.getvalue()


class Registry:
    """Repositories, tags, manifests and blobs in memory; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.blobs: dict[str, bytes] = {}
        self.manifests: dict[str, dict[str, tuple[str, bytes]]] = {}  # repo -> digest -> (type, body)
        self.tags: dict[str, dict[str, str]] = {}  # repo -> tag -> digest
        self.uploads: dict[str, bytearray] = {}
        #: every push of a manifest, as ``(repository, tag)``: what tests check a push did
        self.pushed: list[tuple[str, str]] = []

    def tag_list(self, repo: str) -> list[str] | None:
        with self._lock:
            tags = self.tags.get(repo)
            return None if tags is None else sorted(tags)

    def put_blob(self, data: bytes) -> str:
        digest = digest_of(data)
        with self._lock:
            self.blobs[digest] = data
        return digest

    def put_manifest(self, repo: str, ref: str, media_type: str, body: bytes) -> str:
        digest = digest_of(body)
        with self._lock:
            self.manifests.setdefault(repo, {})[digest] = (media_type, body)
            if not ref.startswith("sha256:"):
                self.tags.setdefault(repo, {})[ref] = digest
                self.pushed.append((repo, ref))
            else:
                self.tags.setdefault(repo, {})
        return digest

    def manifest(self, repo: str, ref: str) -> tuple[str, str, bytes] | None:
        with self._lock:
            digest = ref if ref.startswith("sha256:") else self.tags.get(repo, {}).get(ref)
            found = self.manifests.get(repo, {}).get(digest or "")
            return None if found is None or digest is None else (digest, found[0], found[1])

    def delete(self, repo: str, ref: str) -> bool:
        """Remove a tag (or every tag of a digest); True when something was removed."""
        with self._lock:
            tags = self.tags.get(repo, {})
            gone = [t for t, d in tags.items() if ref in (t, d)]
            for tag in gone:
                del tags[tag]
            return bool(gone)

    def push_chart(self, repo: str, version: str, archive: bytes | None = None) -> str:
        """Store a chart as Helm's OCI layout does (config + one chart layer); the digest."""
        name = repo.rsplit("/", 1)[-1].removeprefix("chart-")
        archive = archive if archive is not None else chart_archive(name, version)
        config = json.dumps({"name": name, "version": version}).encode()
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": HELM_CONFIG, "digest": self.put_blob(config), "size": len(config)},
            "layers": [{"mediaType": HELM_LAYER, "digest": self.put_blob(archive), "size": len(archive)}],
        }
        return self.put_manifest(repo, version.replace("+", "_"), OCI_MANIFEST, json.dumps(manifest).encode())

    def preload(self, charts: Iterable[tuple[str, str]]) -> None:
        for repo, version in charts:
            self.push_chart(repo, version)


class RegistryServer(BackgroundServer):
    """Plain-HTTP OCI distribution server for one :class:`Registry`."""

    thread_name = "sandbox-registry"

    def __init__(self, registry: Registry, *, address: str, port: int = 0,
                 auth: tuple[str, str] | None = None, auth_scheme: AuthScheme = "bearer") -> None:
        super().__init__()
        self.registry = registry
        self._httpd = ThreadingHTTPServer((address, port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.registry = registry  # type: ignore[attr-defined]
        self._httpd.auth = auth  # type: ignore[attr-defined]
        self._httpd.auth_scheme = auth_scheme  # type: ignore[attr-defined]
        self._httpd.tokens = set()  # type: ignore[attr-defined]

    @property
    def host_port(self) -> str:
        """``address:port``: the ``LOCAL_REGISTRY_ADDRESS`` of this sandbox."""
        return f"{self.address}:{self.port}"


class _BadRequest(Exception):
    """A request the registry refuses with 400 before reading on."""


class _Handler(BaseHTTPRequestHandler):
    server_version = "sandbox-registry"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def reg(self) -> Registry:
        registry: Registry = self.server.registry  # type: ignore[attr-defined]
        return registry

    def _send(self, code: int, body: bytes = b"", headers: dict[str, str] | None = None,
              content_type: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        if body or code not in (201, 202, 204):
            self.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, code: int, err: str, message: str, headers: dict[str, str] | None = None) -> None:
        body = json.dumps({"errors": [{"code": err, "message": message, "detail": None}]}).encode()
        self._send(code, body, headers)

    def _body(self) -> bytes:
        raw = self.headers.get("Content-Length") or "0"
        if not raw.isdigit():
            raise _BadRequest("Content-Length must be a number")
        length = int(raw)
        return self.rfile.read(length) if length else b""

    def _basic_ok(self) -> bool:
        auth = self.server.auth  # type: ignore[attr-defined]
        header = self.headers.get("Authorization") or ""
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return bool(auth) and secrets.compare_digest(f"{user}:{password}", f"{auth[0]}:{auth[1]}")

    def _authorized(self, scope: str) -> bool:
        """True, or a 401 with the challenge the configured scheme asks for was sent."""
        if self.server.auth is None:  # type: ignore[attr-defined]
            return True
        if self.server.auth_scheme == "basic":  # type: ignore[attr-defined]
            if self._basic_ok():
                return True
            self._error(401, "UNAUTHORIZED", "authentication required",
                        {"WWW-Authenticate": 'Basic realm="sandbox-registry"'})
            return False
        header = self.headers.get("Authorization") or ""
        if header.startswith("Bearer ") and header[7:] in self.server.tokens:  # type: ignore[attr-defined]
            return True
        address: Any = self.server.server_address
        realm = f"http://{address[0]}:{address[1]}/token"
        challenge = f'Bearer realm="{realm}",service="sandbox-registry"' + (f',scope="{scope}"' if scope else "")
        self._error(401, "UNAUTHORIZED", "authentication required", {"WWW-Authenticate": challenge})
        return False

    def _token(self) -> None:
        if not self._basic_ok():
            self._error(401, "UNAUTHORIZED", "invalid credentials",
                        {"WWW-Authenticate": 'Basic realm="sandbox-registry-token"'})
            return
        token = secrets.token_urlsafe(24)
        self.server.tokens.add(token)  # type: ignore[attr-defined]
        self._send(200, json.dumps({"token": token, "access_token": token}).encode())

    # -- routing ----------------------------------------------------------------------------

    def _route(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/token" and self.command == "GET":
            self._token()
            return
        if url.path in ("/v2", "/v2/"):
            if self._authorized(""):
                self._send(200, b"{}")
            return
        for route, pattern in _ROUTES:
            match = pattern.match(url.path)
            if match is None:
                continue
            name = match["name"]
            action = "pull" if self.command in ("GET", "HEAD") else "pull,push"
            if not self._authorized(f"repository:{name}:{action}"):
                return
            getattr(self, f"_{route}")(name, match.groupdict(), query)
            return
        self._error(404, "NOT_FOUND", f"no route for {url.path}")

    def _tags(self, name: str, _groups: dict[str, str], _query: dict[str, str]) -> None:
        if self.command != "GET":
            self._error(405, "UNSUPPORTED", "method not allowed")
            return
        tags = self.reg.tag_list(name)
        if tags is None:
            self._error(404, "NAME_UNKNOWN", f"repository name not known to registry: {name}")
            return
        self._send(200, json.dumps({"name": name, "tags": tags}).encode())

    def _manifest(self, name: str, groups: dict[str, str], _query: dict[str, str]) -> None:
        ref = groups["ref"]
        if self.command in ("GET", "HEAD"):
            found = self.reg.manifest(name, ref)
            if found is None:
                self._error(404, "MANIFEST_UNKNOWN", f"manifest unknown: {name}:{ref}")
                return
            digest, media_type, body = found
            self._send(200, body, {"Docker-Content-Digest": digest}, content_type=media_type)
        elif self.command == "PUT":
            body = self._body()
            try:
                manifest = json.loads(body)
            except ValueError:
                self._error(400, "MANIFEST_INVALID", "manifest is not JSON")
                return
            refs = ([manifest.get("config") or {}, *(manifest.get("layers") or [])]
                    if isinstance(manifest, dict) else None)
            if not isinstance(refs, list) or not all(isinstance(d, dict) for d in refs):
                # a list, a string, layers that are not descriptors: an answer, not a traceback
                self._error(400, "MANIFEST_INVALID", "manifest is not a JSON object with descriptors")
                return
            missing = [d["digest"] for d in refs
                       if d.get("digest") and d["digest"] not in self.reg.blobs]
            if missing:
                self._error(400, "MANIFEST_BLOB_UNKNOWN", f"blob unknown to registry: {missing[0]}")
                return
            media_type = self.headers.get("Content-Type") or manifest.get("mediaType") or OCI_MANIFEST
            digest = self.reg.put_manifest(name, ref, media_type, body)
            self._send(201, headers={"Location": f"/v2/{name}/manifests/{digest}",
                                     "Docker-Content-Digest": digest})
        elif self.command == "DELETE":
            if self.reg.delete(name, ref):
                self._send(202)
            else:
                self._error(404, "MANIFEST_UNKNOWN", f"manifest unknown: {name}:{ref}")
        else:
            self._error(405, "UNSUPPORTED", "method not allowed")

    def _blob(self, name: str, groups: dict[str, str], _query: dict[str, str]) -> None:
        data = self.reg.blobs.get(groups["digest"])
        if self.command not in ("GET", "HEAD"):
            self._error(405, "UNSUPPORTED", "method not allowed")
        elif data is None:
            self._error(404, "BLOB_UNKNOWN", f"blob unknown to registry: {groups['digest']}")
        else:
            self._send(200, data, {"Docker-Content-Digest": groups["digest"]},
                       content_type="application/octet-stream")

    def _uploads(self, name: str, _groups: dict[str, str], query: dict[str, str]) -> None:
        if self.command != "POST":
            self._error(405, "UNSUPPORTED", "method not allowed")
            return
        body = self._body()
        if "digest" in query:  # monolithic upload in one POST
            self._finish(name, query["digest"], body)
            return
        upload = str(uuid.uuid4())
        self.reg.uploads[upload] = bytearray(body)
        self._send(202, headers={"Location": f"/v2/{name}/blobs/uploads/{upload}",
                                 "Docker-Upload-UUID": upload, "Range": f"0-{max(len(body) - 1, 0)}"})

    def _upload(self, name: str, groups: dict[str, str], query: dict[str, str]) -> None:
        upload = groups["id"]
        buf = self.reg.uploads.get(upload)
        if buf is None:
            self._error(404, "BLOB_UPLOAD_UNKNOWN", f"blob upload unknown: {upload}")
            return
        buf.extend(self._body())
        if self.command == "PATCH":
            self._send(202, headers={"Location": f"/v2/{name}/blobs/uploads/{upload}",
                                     "Docker-Upload-UUID": upload, "Range": f"0-{max(len(buf) - 1, 0)}"})
        elif self.command == "PUT" and "digest" in query:
            del self.reg.uploads[upload]
            self._finish(name, query["digest"], bytes(buf))
        else:
            self._error(400, "DIGEST_INVALID", "PUT needs ?digest=")

    def _finish(self, name: str, digest: str, data: bytes) -> None:
        if digest_of(data) != digest:
            self._error(400, "DIGEST_INVALID", f"provided digest {digest} did not match uploaded content")
            return
        self.reg.put_blob(data)
        self._send(201, headers={"Location": f"/v2/{name}/blobs/{digest}", "Docker-Content-Digest": digest})

    def _serve(self) -> None:
        try:
            self._route()
        except _BadRequest as err:
            self.close_connection = True
            self._error(400, "BAD_REQUEST", str(err))
        except (ConnectionError, TimeoutError):
            return

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
