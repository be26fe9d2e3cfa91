"""The Kubernetes REST front end: HTTPS, bearer token, routing, JSON in and out, watch streams.

Why the standard library: ``ThreadingHTTPServer`` + ``ssl`` start in milliseconds and add no
dependency; one thread per connection is plenty for a test double and keeps watch streaming
simple (a blocking generator per request). HTTP/1.1 keep-alive matters: clients reuse TLS
connections instead of paying a handshake per request.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .api import Api, decode_body
from .errors import ApiError, status_body
from .faults import Faults
from .kinds import ResourceType
from .openapi import OPENAPI_V2_PROTOBUF, v3_document, v3_root
from .serving import BackgroundServer
from .table import to_table, wants_table

__all__ = ["ApiServer"]

log = logging.getLogger(__name__)

KUBE_VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0-acp-sandbox",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2025-01-01T00:00:00Z",
    "goVersion": "go1.23",
    "compiler": "gc",
    "platform": "linux/amd64",
}
_PUBLIC = ("/version", "/healthz", "/livez", "/readyz")
_MAX_BODY = 16 * 1024 * 1024
_MAX_WATCH = 1800.0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], handler: type[BaseHTTPRequestHandler], owner: ApiServer) -> None:
        self.owner = owner
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(addr, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def drain(self, timeout: float) -> None:
        """Wait (up to ``timeout``) until every connection's handler has finished, so what they
        record (a watch is recorded when its stream ends) is there once ``stop()`` returns."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._conns_lock:
                if not self._conns:
                    return
            time.sleep(0.01)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection error from %s", client_address, exc_info=True)


class ApiServer(BackgroundServer):
    """Serves an :class:`Api` over HTTPS on ``address:port`` (port 0 = pick one)."""

    thread_name = "sandbox-apiserver"
    _httpd: _Server

    def __init__(self, api: Api, *, address: str, port: int, token: str, tls: ssl.SSLContext,
                 extra_tokens: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.api = api
        self.token = token
        self.faults = Faults()
        #: every bearer token accepted (a cluster's admin token and e.g. its ``k8sadmin`` token)
        self.tokens = (token, *extra_tokens)
        self.stopping = threading.Event()
        self._httpd = _Server((address, port), _Handler, self)
        self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True, do_handshake_on_connect=False)

    def stop(self) -> None:
        self.stopping.set()
        super().stop()

    def _after_close(self) -> None:
        self._httpd.close_connections()
        self._httpd.drain(5.0)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "acp-install-sandbox"
    timeout = 60  # idle keep-alive connections are closed after a minute
    server: _Server
    _recorded: bool = False

    # -- plumbing ---------------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def setup(self) -> None:
        # headers and body go out in separate writes; without NODELAY, Nagle + delayed ACK
        # add ~40 ms to every keep-alive request
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()
        try:
            if isinstance(self.connection, ssl.SSLSocket):
                self.connection.do_handshake()
        except (OSError, ssl.SSLError):
            self.close_connection = True
            raise

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, ssl.SSLError, TimeoutError, OSError):
            self.close_connection = True

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    @property
    def api(self) -> Api:
        return self.server.owner.api

    def _send_json(
        self, code: int, body: Any, warnings: list[str] | None = None, content_type: str = "application/json"
    ) -> None:
        data = json.dumps(body, separators=(",", ":")).encode()
        self._send_bytes(code, data, content_type, warnings)

    def _send_bytes(self, code: int, data: bytes, content_type: str, warnings: list[str] | None = None) -> None:
        self._status = code
        self._record()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        for w in warnings or ():
            self.send_header("Warning", '299 - "' + w.replace('"', "'") + '"')
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        raw = (self.headers.get("Content-Length") or "0").strip()
        if not raw.isdigit():  # "abc", "-1", "1e3": the request cannot be framed
            self.close_connection = True
            raise ApiError.bad_request(f"invalid Content-Length header {raw[:40]!r}")
        length = int(raw)
        if length > _MAX_BODY:
            raise ApiError(413, "RequestEntityTooLarge", "request body too large")
        return self.rfile.read(length) if length > 0 else b""

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        given = value.strip().encode()
        # every token compared (no early exit): the time taken says nothing about which matched
        matches = [hmac.compare_digest(given, t.encode()) for t in self.server.owner.tokens]
        return scheme.lower() == "bearer" and any(matches)

    def _record(self) -> None:
        """Record this request once, *before* its response goes out: a client that saw the
        response then finds it in the recorder (counting after the send raced the client)."""
        if self._recorded:
            return
        self._recorded = True
        url = urlsplit(self.path)
        self.api.recorder.request(self.command, url.path, url.query, self.headers.get("Content-Type", ""),
                                  self.headers.get("User-Agent", ""), self._status)

    def _dispatch(self, method: str) -> None:
        self._status = 0
        self._recorded = False
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        path = url.path.rstrip("/") or "/"
        self.api.recorder.received()
        try:
            if path not in _PUBLIC and not self._authorized():
                self._body()
                raise ApiError(401, "Unauthorized", "Unauthorized")
            fault = self.server.owner.faults.take(method, path)
            if fault is not None and self._inject(fault, query):
                return
            self._route(method, path, query)
        except ApiError as err:
            if self._status == 0:
                self._send_json(err.code, err.status())
        except (ConnectionError, ssl.SSLError, TimeoutError):
            self.close_connection = True
        except Exception as err:  # a bug must not take the server down
            log.exception("sandbox apiserver: %s %s failed", method, url.path)
            if self._status == 0:
                self._send_json(500, status_body(500, "InternalError", f"Internal error occurred: {err!r}"))
        finally:
            self._record()  # a request that ended without a response (reset connection)

    def _inject(self, fault: Any, query: dict[str, str]) -> bool:
        """Act out an injected fault; True when the request is answered (or dropped) by it."""
        watch = query.get("watch") in ("true", "1")
        if fault.action == "slow":
            threading.Event().wait(fault.delay)
            return False
        if fault.action == "drop-watch" and not watch:
            return False
        self._body()
        if fault.action in ("reset", "drop-watch"):
            # no answer at all: the client sees its connection reset (a dropped watch ends
            # before its first event)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return True
        reason = {503: "ServiceUnavailable", 429: "TooManyRequests"}.get(fault.status, "InternalError")
        body = status_body(fault.status, reason, f"injected fault (sandbox): HTTP {fault.status}")
        data = json.dumps(body, separators=(",", ":")).encode()
        self._status = fault.status
        self.send_response(fault.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if fault.status == 429:
            self.send_header("Retry-After", "1")
        self.end_headers()
        self.wfile.write(data)
        return True

    # -- routing ----------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: dict[str, str]) -> None:
        parts = [p for p in path.split("/") if p]
        if path in ("/healthz", "/livez", "/readyz"):
            return self._send_bytes(200, b"ok", "text/plain")
        if path == "/version":
            return self._send_json(200, KUBE_VERSION)
        if parts[:1] == ["openapi"]:
            return self._openapi(parts[1:])
        if parts == ["api"]:
            return self._send_json(
                200,
                {
                    "kind": "APIVersions",
                    "versions": ["v1"],
                    "serverAddressByClientCIDRs": [
                        {
                            "clientCIDR": "0.0.0.0/0",
                            "serverAddress": f"{self.server.owner.address}:{self.server.owner.port}",
                        }
                    ],
                },
            )
        if parts == ["apis"]:
            return self._send_json(
                200,
                {
                    "kind": "APIGroupList",
                    "apiVersion": "v1",
                    "groups": [self._group_doc(g, vs) for g, vs in self.api.kinds.groups().items() if g],
                },
            )
        if parts[:2] == ["api", "v1"]:
            group, version, rest = "", "v1", parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        elif parts[:1] == ["apis"] and len(parts) == 2:
            versions = self.api.kinds.groups().get(parts[1])
            if not versions:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return self._send_json(200, {"kind": "APIGroup", "apiVersion": "v1", **self._group_doc(parts[1], versions)})
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if not rest:
            resources = self.api.kinds.resources(group, version)
            if not resources:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return self._send_json(
                200,
                {
                    "kind": "APIResourceList",
                    "apiVersion": "v1",
                    "groupVersion": f"{group}/{version}" if group else version,
                    "resources": [e for rt in resources for e in rt.discovery_entries()],
                },
            )
        namespace = None
        if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in ("status", "finalize"):
            namespace, rest = rest[1], rest[2:]
        if len(rest) > 3:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        rt = self.api.resource(group, version, rest[0])
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else ""
        if sub == "log" and rt.key == ("", "pods") and method == "GET" and name and namespace:
            return self._send_bytes(200, self.api.pod_log(namespace, name).encode(), "text/plain")
        if sub not in ("", "status") or (sub == "status" and not rt.status_subresource):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if rt.namespaced and namespace is None and method not in ("GET", "DELETE"):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if not rt.namespaced and namespace is not None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        self._resource(method, rt, namespace, name, sub, query)

    @staticmethod
    def _group_doc(group: str, versions: list[str]) -> dict[str, Any]:
        vs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {"name": group, "versions": vs, "preferredVersion": vs[0]}

    def _openapi(self, rest: list[str]) -> None:
        if rest == ["v2"]:
            # an empty protobuf message is a valid (empty) OpenAPI v2 document
            accept = self.headers.get("Accept", "")
            if "protobuf" in accept:
                return self._send_bytes(200, b"", OPENAPI_V2_PROTOBUF)
            return self._send_json(
                200,
                {
                    "swagger": "2.0",
                    "info": {"title": "Kubernetes (acp-install sandbox)", "version": "v1.32.0"},
                    "paths": {},
                    "definitions": {},
                },
            )
        if rest == ["v3"]:
            return self._send_json(200, v3_root(self.api.kinds))
        if len(rest) >= 3 and rest[0] == "v3":
            if rest[1] == "api" and len(rest) == 3:
                doc = v3_document(self.api.kinds, "", rest[2])
            elif rest[1] == "apis" and len(rest) == 4:
                doc = v3_document(self.api.kinds, rest[2], rest[3])
            else:
                doc = None
            if doc is not None:
                return self._send_json(200, doc)
        raise ApiError(404, "NotFound", "the server could not find the requested resource")

    # -- resources --------------------------------------------------------------------------

    def _manager(self, query: dict[str, str]) -> str:
        if query.get("fieldManager"):
            return query["fieldManager"]
        agent = self.headers.get("User-Agent", "unknown")
        return agent.split("/")[0][:128] or "unknown"

    def _resource(
        self, method: str, rt: ResourceType, namespace: str | None, name: str | None, sub: str, query: dict[str, str]
    ) -> None:
        api = self.api
        fv = query.get("fieldValidation") or None
        if fv not in (None, "Strict", "Warn", "Ignore"):
            raise ApiError.bad_request(f"fieldValidation must be Strict, Warn or Ignore: {fv}")
        accept = self.headers.get("Accept", "")
        if method == "GET" and name is None:
            if query.get("watch") in ("true", "1"):
                return self._watch(rt, namespace, query, accept)
            listed = api.list(rt, namespace, query.get("labelSelector"), query.get("fieldSelector"))
            if wants_table(accept):
                return self._send_json(
                    200,
                    to_table(
                        rt,
                        listed["items"],
                        listed["metadata"]["resourceVersion"],
                        query.get("includeObject", "Metadata"),
                    ),
                )
            return self._send_json(200, listed)
        if method == "GET" and name is not None:
            obj = api.get(rt, namespace, name)
            if wants_table(accept):
                return self._send_json(
                    200,
                    to_table(
                        rt, [obj], obj["metadata"].get("resourceVersion", ""), query.get("includeObject", "Metadata")
                    ),
                )
            return self._send_json(200, obj)
        if method == "POST" and name is None:
            body = decode_body(self._body())
            created, warnings = api.create(
                rt,
                body,
                namespace,
                manager=self._manager(query),
                field_validation=fv,
                dry_run=query.get("dryRun") == "All",
            )
            return self._send_json(201, created, warnings)
        if method == "PUT" and name is not None:
            body = decode_body(self._body())
            updated, warnings = api.replace(
                rt, namespace, name, body, subresource=sub, manager=self._manager(query), field_validation=fv
            )
            return self._send_json(200, updated, warnings)
        if method == "PATCH" and name is not None:
            raw = self._body()
            patched, warnings, was_created = api.patch(
                rt,
                namespace,
                name,
                raw,
                self.headers.get("Content-Type", ""),
                subresource=sub,
                manager=query.get("fieldManager", ""),
                field_validation=fv,
                force=query.get("force") == "true",
                dry_run=query.get("dryRun") == "All",
            )
            return self._send_json(201 if was_created else 200, patched, warnings)
        if method == "DELETE" and name is not None and not sub:
            raw = self._body()
            options = decode_body(raw) if raw.strip() else {}
            return self._send_json(200, api.delete(rt, namespace, name, options if isinstance(options, dict) else {}))
        if method == "DELETE" and name is None:
            self._body()
            listed = api.list(rt, namespace, query.get("labelSelector"), query.get("fieldSelector"))
            for item in listed["items"]:
                meta = item["metadata"]
                with contextlib.suppress(ApiError):
                    api.delete(rt, meta.get("namespace"), meta["name"])
            return self._send_json(200, listed)
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    def _watch(self, rt: ResourceType, namespace: str | None, query: dict[str, str], accept: str) -> None:
        try:
            timeout = min(float(query.get("timeoutSeconds") or _MAX_WATCH), _MAX_WATCH)
        except ValueError:
            raise ApiError.bad_request("timeoutSeconds must be a number") from None
        initial = query.get("sendInitialEvents") == "true"
        events: Iterator[tuple[str, dict[str, Any]]] = self.api.watch(
            rt,
            namespace,
            query.get("resourceVersion"),
            query.get("labelSelector"),
            query.get("fieldSelector"),
            timeout,
            self.server.owner.stopping,
            initial,
        )
        table = wants_table(accept)
        self._status = 200
        self._record()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.flush()
        try:
            for etype, obj in events:
                if table and etype in ("ADDED", "MODIFIED", "DELETED"):
                    obj = to_table(
                        rt, [obj], obj["metadata"].get("resourceVersion", ""), query.get("includeObject", "Metadata")
                    )
                elif etype == "BOOKMARK":
                    obj = {"apiVersion": rt.api_version, "kind": rt.kind, **obj}
                line = json.dumps({"type": etype, "object": obj}, separators=(",", ":")) + "\n"
                self._chunk(line.encode())
            self._chunk(b"")
        except (ConnectionError, ssl.SSLError, TimeoutError, OSError):
            self.close_connection = True

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()
