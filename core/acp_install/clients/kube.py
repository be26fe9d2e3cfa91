"""The bootstrap cluster (minialauda), through the official ``kubernetes`` client.

Objects are written with server-side apply (field manager ``acp-install``), so a re-run is a
no-op and a human's ``kubectl apply`` next to ours does not fight it. Waits use the watch API
with a resync (a fresh list) every ``resync`` seconds and after any broken or expired watch:
no fixed sleep loops. Transient failures (connection errors, 429, 5xx, expired watches) are
retried with backoff and jitter inside the caller's deadline; anything else becomes a
:class:`~acp_install.errors.ClusterError` that names the object and the server's reason.

Objects handed to :meth:`KubeClient.apply` must already hold plain values: the engine reveals
secrets just before the call and drops the revealed copy right after. Error messages never carry
an object body.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import socket
import ssl
import tempfile
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import urllib3
import yaml
from kubernetes import config, dynamic, watch
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic.discovery import LazyDiscoverer
from kubernetes.dynamic.exceptions import DynamicApiError, NotFoundError, ResourceNotFoundError
from kubernetes.dynamic.resource import Resource, ResourceList

from ..errors import ClusterError
from .informer import ClusterCache
from .redact import Redactor
from .retry import Deadline, retry_call

FIELD_MANAGER = "acp-install"
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})

Obj = dict[str, Any]
ObjList = list[Obj]
Predicate = Callable[[Obj | None], bool]

log = logging.getLogger(__name__)


def _status(err: BaseException) -> int | None:
    status = getattr(err, "status", None)
    return status if isinstance(status, int) else None


def is_transient(err: BaseException) -> bool:
    """Connection trouble, throttling, server errors and expired watches are worth retrying."""
    if isinstance(err, DynamicApiError | ApiException):
        return _status(err) in TRANSIENT_STATUS or _status(err) == 410
    return isinstance(err, urllib3.exceptions.HTTPError | ConnectionError | TimeoutError)


def _chain(err: BaseException) -> list[BaseException]:
    """The error and every error it wraps (urllib3 nests the socket's error in layers)."""
    chain: list[BaseException] = []
    cause: BaseException | None = err
    while cause is not None and cause not in chain:
        chain.append(cause)
        nested = cause.args[0] if cause.args and isinstance(cause.args[0], BaseException) else None
        reason = getattr(cause, "reason", None)
        cause = (cause.__cause__ or cause.__context__ or nested
                 or (reason if isinstance(reason, BaseException) else None))
    return chain


def tls_failure(err: BaseException) -> ssl.SSLError | None:
    """The TLS error behind ``err`` (wrong or missing CA, name or IP not in the certificate).

    Permanent: the same certificate fails the same way on every retry.
    """
    return next((c for c in _chain(err) if isinstance(c, ssl.SSLError)), None)


def refused(err: BaseException) -> bool:
    """Nothing listens at the address (the socket's ECONNREFUSED, however wrapped)."""
    return any(isinstance(c, ConnectionRefusedError) for c in _chain(err))


def _tls_hint(server: str, err: ssl.SSLError) -> str:
    text = str(err)
    if "mismatch" in text or "doesn't match" in text or "not valid for" in text:
        return (f"the server certificate does not name {server}'s host: use the address the "
                "cluster's own kubeconfig gives (a VIP or IP in its SANs), not another one")
    return ("the kubeconfig's certificate-authority-data (or certificate-authority file) is "
            f"not the CA that signed {server}'s certificate, or is missing: a re-created "
            "bootstrap cluster has a new CA, so use the kubeconfig it wrote "
            "(/var/cpaas/data/alauda.kubeconfig); check with kubectl --kubeconfig FILE get nodes")


class _StrictDiscoverer(LazyDiscoverer):
    """The library's lazy discovery, except that a 503 on a group version is an error.

    ``LazyDiscoverer.get_resources_for_api_version`` turns a 503 (an aggregated API or the
    server itself briefly unavailable) into "no resources", which a lookup then reads as "this
    kind is not served" — aborting an install on a transient fault. Here the 503 propagates and
    is retried like any other; "not served" is concluded only from a successful answer. The
    body is the library's (kubernetes 37) otherwise.
    """

    def get_resources_for_api_version(self, prefix: str, group: str, version: str,
                                      preferred: bool) -> dict[str, list[Any]]:
        resources: dict[str, list[Any]] = defaultdict(list)
        subresources: dict[str, dict[str, Any]] = {}
        path = "/".join(filter(None, [prefix, group, version]))
        response = self.client.request("GET", path).resources or []
        for sub in (r for r in response if "/" in r["name"]):
            resource, name = sub["name"].split("/", 1)
            subresources.setdefault(resource, {})[name] = sub
        for raw in (r for r in response if "/" not in r["name"]):
            for key in ("prefix", "group", "api_version", "client", "preferred"):
                raw.pop(key, None)
            resources[raw["kind"]].append(Resource(
                prefix=prefix, group=group, api_version=version, client=self.client,
                preferred=preferred, subresources=subresources.get(raw["name"]), **raw))
            listing = ResourceList(self.client, group=group, api_version=version,
                                   base_kind=raw["kind"])
            resources[listing.kind].append(listing)
        return resources


def _reason(err: BaseException) -> str:
    if isinstance(err, DynamicApiError):
        summary = err.summary() if hasattr(err, "summary") else str(err)
        return summary.strip() or f"HTTP {_status(err)}"
    if isinstance(err, ApiException):
        return f"HTTP {err.status}: {err.reason}"
    if isinstance(err, urllib3.exceptions.MaxRetryError) and err.reason is not None:
        return _connection_reason(err.reason)
    if isinstance(err, urllib3.exceptions.HTTPError | OSError):
        return _connection_reason(err)
    return f"{type(err).__name__}: {err}"


def _connection_reason(err: BaseException) -> str:
    """What went wrong on the wire, in a few words: urllib3 wraps the socket error in layers
    whose text repeats the pool, the URL and the object reprs."""
    chain: list[BaseException] = []
    cause: BaseException | None = err
    while cause is not None and cause not in chain:
        chain.append(cause)
        nested = cause.args[0] if cause.args and isinstance(cause.args[0], BaseException) else None
        cause = cause.__cause__ or cause.__context__ or nested
    # the socket's own error first: urllib3's NewConnectionError is also a ConnectTimeoutError
    for c in chain:
        if isinstance(c, ConnectionRefusedError):
            return "connection refused"
        if isinstance(c, socket.gaierror):
            return "host name does not resolve"
        if isinstance(c, ssl.SSLError):
            return f"TLS error: {c.reason or c}"[:200]
    if any(isinstance(c, TimeoutError | socket.timeout) for c in chain):
        return "timed out"
    text = str(err)
    if "Connection refused" in text:
        return "connection refused"
    if isinstance(err, urllib3.exceptions.TimeoutError):
        return "timed out"
    return f"{type(err).__name__}: {text.splitlines()[0][:200]}"


def describe(obj: Mapping[str, Any]) -> str:
    """``Kind/namespace/name`` of an object, for messages."""
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{obj.get('kind')}/{ns + '/' if ns else ''}{meta.get('name')}"


def _check_server(kubeconfig: str, server: str) -> None:
    """The kubeconfig's server must be an ``https://host[:port]`` URL: the client library
    raises a bare ``ValueError`` for anything else at the first request (or a parse error deep
    in urllib3 for a bad port), so it is checked once here with the kubeconfig named."""
    from urllib.parse import urlsplit

    problem = None
    try:
        url = urlsplit(server)
        port = url.port  # raises ValueError when out of range or not a number
    except ValueError:
        problem, url, port = "its port is not a number from 1 to 65535", None, None
    if problem is None and url is not None:
        if url.scheme != "https":
            problem = "it is not an https:// URL"
        elif not url.hostname:
            problem = "it names no host"
        elif port == 0:
            problem = "its port is not a number from 1 to 65535"
    if problem:
        raise ClusterError(f"kubeconfig {kubeconfig}: server {server[:200]!r}: {problem}",
                           hint="the cluster's server must be https://HOST:PORT of minialauda's "
                                "API (kubectl config view shows it)")


def _load_client(kubeconfig: str, config_dict: Mapping[str, Any] | None, context: str | None,
                 scratch: str) -> Any:
    """An ``ApiClient`` for the kubeconfig, without the library writing credentials to
    ``$TMPDIR``: the CA of the selected cluster stays in memory (``ca_cert_data``), the
    selected user's client certificate and key data are written 0600 into ``scratch``."""
    import base64

    from kubernetes.client import ApiClient, Configuration
    from kubernetes.config.kube_config import KubeConfigLoader

    base = ""
    if config_dict is None:
        if os.pathsep in kubeconfig and not os.path.isfile(kubeconfig):  # KUBECONFIG=a:b
            return config.new_client_from_config(config_file=kubeconfig, context=context)
        from ..inputs import UnreadableInput, read_text

        try:
            data = yaml.safe_load(read_text(kubeconfig, limit=4 << 20, what="kubeconfig"))
        except UnreadableInput as err:
            raise config.ConfigException(err.message) from None
        base = os.path.dirname(os.path.abspath(kubeconfig))
    else:
        data = config_dict
    if not isinstance(data, Mapping):
        raise config.ConfigException("the kubeconfig is not a mapping")
    data = json.loads(json.dumps(data, default=str))  # a deep copy of plain data
    name = context or data.get("current-context")
    ctx = next((c.get("context") or {} for c in data.get("contexts") or []
                if isinstance(c, Mapping) and c.get("name") == name), {})
    ctx = ctx if isinstance(ctx, Mapping) else {}
    ca_pem: bytes | None = None
    for entry in data.get("clusters") or []:
        cluster = entry.get("cluster") if isinstance(entry, Mapping) else None
        if isinstance(cluster, dict) and entry.get("name") == ctx.get("cluster") \
                and "certificate-authority-data" in cluster:
            ca_pem = base64.standard_b64decode(str(cluster.pop("certificate-authority-data")))
    for entry in data.get("users") or []:
        user = entry.get("user") if isinstance(entry, Mapping) else None
        if not (isinstance(user, dict) and entry.get("name") == ctx.get("user")):
            continue
        for key, path_key in (("client-certificate-data", "client-certificate"),
                              ("client-key-data", "client-key")):
            if key in user:
                raw = base64.standard_b64decode(str(user.pop(key)))
                fd, path = tempfile.mkstemp(dir=scratch, prefix=f"{path_key}-")
                with os.fdopen(fd, "wb") as fh:  # mkstemp: mode 0600
                    fh.write(raw)
                user[path_key] = path
    cfg = type.__call__(Configuration)
    KubeConfigLoader(config_dict=data, active_context=context, config_base_path=base,
                     temp_file_path=scratch).load_and_set(cfg)
    if ca_pem is not None:
        cfg.ssl_ca_cert = None
        cfg.ca_cert_data = ca_pem.decode("ascii", errors="replace")
    return ApiClient(configuration=cfg)


class KubeClient:
    """A thin, typed façade over ``kubernetes.dynamic.DynamicClient``.

    Args:
        kubeconfig: path of the kubeconfig of minialauda (the seed's
            ``/var/cpaas/data/alauda.kubeconfig``).
        context: kubeconfig context; default is the current one.
        request_timeout: per-request socket timeout in seconds.
        on_retry: called with a short message whenever a transient error is retried.
        redact: applied to every reason the API server gives before it goes into a message
            (a validation error may quote a field's value, e.g. a Secret's).
        connect_grace: seconds a refused connection is retried (silently) before this client
            has ever reached the server: nothing listening at the address is a wrong address or
            a cluster that is down, not a transient fault, and says so in seconds. Once the
            server has answered, a refused connection is a restart and is retried in the
            caller's deadline like any transient fault.
        config_dict: the kubeconfig itself (parsed) instead of a file; ``kubeconfig`` then
            only names where it came from (the new global cluster's is read from a Secret and
            never written to disk).
        role: what the cluster is, for hints ("minialauda", "the new global cluster").

    TLS failures (wrong or missing CA, an address not in the certificate) are never retried.
    ``insecure`` is true when the kubeconfig sets ``insecure-skip-tls-verify: true``; the
    library's warning on every request to that server is silenced (the engine says it once).
    """

    def __init__(self, kubeconfig: str | os.PathLike[str], *, context: str | None = None,
                 request_timeout: float = 30.0,
                 on_retry: Callable[[str], None] | None = None,
                 redact: Redactor | None = None, connect_grace: float = 3.0,
                 config_dict: Mapping[str, Any] | None = None,
                 role: str = "minialauda", scratch: str | os.PathLike[str] | None = None) -> None:
        self.kubeconfig = str(kubeconfig)
        self.connect_grace = connect_grace
        self._contacted = False
        self._refused_since: float | None = None
        self.redact = redact if redact is not None else Redactor()
        self.request_timeout = request_timeout
        self.on_retry = on_retry
        self.role = role
        # Files this client writes (the discovery cache, a client key from the kubeconfig) go
        # into ``scratch`` (the engine's 0700 directory under the work directory, emptied at the
        # start of every run) or a private temporary directory: never the library's own
        # ``$TMPDIR`` files, which a SIGKILL leaves behind (the decoded private key among them).
        if scratch is not None:
            os.makedirs(scratch, mode=0o700, exist_ok=True)
            self._scratch = tempfile.mkdtemp(prefix="client-", dir=scratch)
        else:
            self._scratch = tempfile.mkdtemp(prefix="acp-install-client-")
        try:
            self.api_client = _load_client(self.kubeconfig, config_dict, context, self._scratch)
        except (config.ConfigException, OSError, yaml.YAMLError, TypeError, AttributeError,
                ValueError) as err:
            shutil.rmtree(self._scratch, ignore_errors=True)
            # a malformed file (not YAML, or YAML of the wrong shape) is a usage problem too
            detail = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise ClusterError(f"cannot load kubeconfig {self.kubeconfig}: {detail}",
                               hint="pass --kubeconfig with the minialauda kubeconfig "
                                    "(/var/cpaas/data/alauda.kubeconfig)") from None
        # _load_client has written the decoded client key and certificate into the scratch
        # directory: any refusal from here on (a plain-http server, say) removes them, since
        # no close() will ever run for a client that was never returned
        try:
            _check_server(self.kubeconfig, str(self.api_client.configuration.host))
            self.insecure = not self.api_client.configuration.verify_ssl
            if self.insecure:
                host = urllib3.util.parse_url(self.server).host or ""
                warnings.filterwarnings(
                    "ignore", category=urllib3.exceptions.InsecureRequestWarning,
                    message=rf"Unverified HTTPS request is being made to host '{re.escape(host)}'")
            # A private discovery cache: the default one in /tmp is keyed by host:port only, and
            # a sandbox reusing a port would otherwise see another run's kinds.
            self._dyn: dynamic.DynamicClient | None = None
            self._served: dict[tuple[str, str], Any] = {}
            self._cache: ClusterCache | None = None
            # every watched kind holds a connection of its own while the engine waits (informer.py)
            pool = getattr(getattr(self.api_client, "rest_client", None), "pool_manager", None)
            if pool is not None and hasattr(pool, "connection_pool_kw"):
                pool.connection_pool_kw["maxsize"] = max(int(pool.connection_pool_kw.get("maxsize") or 1), 64)
        except BaseException:
            shutil.rmtree(self._scratch, ignore_errors=True)
            raise

    @property
    def cache(self) -> ClusterCache:
        """The informer-style cache every wait of this client shares (started on first use)."""
        if self._cache is None:
            self._cache = ClusterCache(self)
        return self._cache

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
        self.api_client.close()
        shutil.rmtree(self._scratch, ignore_errors=True)

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ------------------------------------------------------------------------------

    def _reason(self, err: BaseException) -> str:
        return self.redact(_reason(err))

    @property
    def server(self) -> str:
        return str(self.api_client.configuration.host)

    def _transient(self, err: BaseException) -> bool:
        """Worth retrying here: :func:`is_transient`, except TLS failures (permanent) and a
        refused connection to a server never reached, past ``connect_grace``."""
        if tls_failure(err) is not None:
            return False
        if refused(err) and not self._contacted:
            now = time.monotonic()
            if self._refused_since is None:
                self._refused_since = now
            return now - self._refused_since < self.connect_grace
        return is_transient(err)

    def _call(self, fn: Callable[[], Any], what: str, deadline: Deadline | None) -> Any:
        def on_retry(err: BaseException, sleep: float) -> None:
            if refused(err) and not self._contacted:
                return  # one line at the end, not one per retry
            if self.on_retry is not None:
                self.on_retry(f"{what}: {self._reason(err)}; retrying in {sleep:.1f}s")

        try:
            out = retry_call(fn, transient=self._transient, deadline=deadline or Deadline(60),
                             on_retry=on_retry)
        except (DynamicApiError, ApiException, urllib3.exceptions.HTTPError, OSError) as err:
            raise self._error(what, err) from None
        self._contacted = True
        return out

    def _error(self, what: str, err: BaseException) -> ClusterError:
        tls = tls_failure(err)
        if tls is not None:
            return ClusterError(f"{what} failed: TLS with {self.server} failed: "
                                f"{self.redact(str(tls.reason or tls))[:200]}",
                                hint=_tls_hint(self.server, tls))
        if refused(err) and not self._contacted:
            return ClusterError(f"{what} failed: connection refused: nothing listens at "
                                f"{self.server}",
                                hint="check the server address in the kubeconfig and that the "
                                     f"{'bootstrap cluster' if self.role == 'minialauda' else self.role}"
                                     f" is running (kubectl --kubeconfig {self.kubeconfig} get nodes)")
        return ClusterError(f"{what} failed: {self._reason(err)}",
                            hint=f"check that {self.server} is {self.role} and reachable "
                                 "(kubectl get nodes)")

    @property
    def dyn(self) -> dynamic.DynamicClient:
        return self._client(None)

    def _client(self, deadline: Deadline | None) -> dynamic.DynamicClient:
        if self._dyn is None:
            cache = os.path.join(self._scratch, "discovery.json")
            self._dyn = self._call(lambda: dynamic.DynamicClient(
                self.api_client, cache_file=cache, discoverer=_StrictDiscoverer),
                f"API discovery at {self.server}", deadline)
        return self._dyn

    def _lookup(self, api_version: str, kind: str, deadline: Deadline | None) -> Any | None:
        """The resource serving a kind or None (see :meth:`lookup_kinds`)."""
        return self.lookup_kinds(api_version, [kind], deadline)[kind]

    def lookup_kinds(self, api_version: str, kinds: list[str], deadline: Deadline | None
                     ) -> dict[str, Any | None]:
        """The resources serving ``kinds`` of one group version (None: not served).

        Why not ``dyn.resources.get``: on a miss the client library throws its whole discovery
        cache away and rediscovers every group (three requests and more, on every check of a
        kind whose CRD is not there yet). Here a kind already found is never looked up again,
        and the others cost one request for their group version together.
        """
        out: dict[str, Any | None] = {k: self._served.get((api_version, k)) for k in kinds}
        missing = [k for k, res in out.items() if res is None]
        if not missing:
            return out
        dyn = self._client(deadline)
        group, _, version = api_version.rpartition("/")
        prefix = "apis" if group else "api"

        def find() -> dict[str, list[Any]]:
            try:
                found: dict[str, list[Any]] = dyn.resources.get_resources_for_api_version(
                    prefix, group, version, True)
                return found
            except (NotFoundError, ResourceNotFoundError):
                return {}

        resources = self._call(find, f"discover {', '.join(missing)} ({api_version})", deadline)
        for kind in missing:
            for candidate in resources.get(kind) or []:
                if getattr(candidate, "kind", None) == kind and "/" not in getattr(candidate, "name", "/"):
                    self._served[(api_version, kind)] = out[kind] = candidate
                    break
        return out

    def resource(self, api_version: str, kind: str, *, deadline: Deadline | None = None) -> Any:
        """The API resource serving a kind (its group version is re-read: a CRD may be new)."""
        res = self._lookup(api_version, kind, deadline)
        if res is None:
            raise ClusterError(f"the API server does not serve {kind} ({api_version})",
                               hint="its CRD is missing: did the provider packages install? "
                                    "(kubectl get apprelease -n cpaas-system)")
        return res

    def has_kind(self, api_version: str, kind: str, *, deadline: Deadline | None = None) -> bool:
        return self._lookup(api_version, kind, deadline) is not None

    def find_kind(self, kind: str, *, deadline: Deadline | None = None) -> Any | None:
        """The resource serving ``kind`` in any group (``ClusterModule`` has no fixed one here)."""
        dyn = self._client(deadline)

        def search() -> list[Any]:
            try:
                return list(dyn.resources.search(kind=kind))
            except ResourceNotFoundError:
                return []

        found = [r for r in self._call(search, f"discover {kind}", deadline)
                 if getattr(r, "kind", None) == kind and "/" not in r.name]
        return found[0] if found else None

    # -- reads ---------------------------------------------------------------------------------

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None, *,
            deadline: Deadline | None = None) -> Obj | None:
        """The object, or ``None`` when it does not exist."""
        res = self.resource(api_version, kind, deadline=deadline)
        return self._get(res, name, namespace, deadline)

    def _get(self, res: Any, name: str, namespace: str | None,
             deadline: Deadline | None) -> Obj | None:
        def fetch() -> Obj | None:
            try:
                out: Obj = res.get(name=name, namespace=namespace,
                                   _request_timeout=self.request_timeout).to_dict()
                return out
            except DynamicApiError as err:
                if _status(err) == 404:
                    return None
                raise

        return self._call(fetch, f"get {res.kind}/{name}", deadline)

    def list(self, api_version: str, kind: str, namespace: str | None = None, *,
             label_selector: str | None = None, field_selector: str | None = None,
             deadline: Deadline | None = None) -> tuple[ObjList, str]:
        """Items and the list's resourceVersion (to start a watch from)."""
        res = self.resource(api_version, kind, deadline=deadline)
        return self._list(res, namespace, label_selector, field_selector, deadline)

    def _list(self, res: Any, namespace: str | None, label_selector: str | None,
              field_selector: str | None, deadline: Deadline | None) -> tuple[ObjList, str]:
        def fetch() -> tuple[ObjList, str]:
            out = res.get(namespace=namespace, label_selector=label_selector,
                          field_selector=field_selector,
                          _request_timeout=self.request_timeout).to_dict()
            return list(out.get("items") or []), str((out.get("metadata") or {})
                                                      .get("resourceVersion", ""))

        return self._call(fetch, f"list {res.kind}", deadline)

    def pod_log(self, name: str, namespace: str, *, container: str | None = None,
                tail_lines: int | None = None, deadline: Deadline | None = None) -> str:
        """A Pod's log (``kubectl logs``), last ``tail_lines`` lines; passes the redactor."""
        from kubernetes.client import CoreV1Api

        core = CoreV1Api(self.api_client)

        def fetch() -> str:
            kwargs: dict[str, Any] = {"_request_timeout": self.request_timeout}
            if container:
                kwargs["container"] = container
            if tail_lines is not None:
                kwargs["tail_lines"] = tail_lines
            return str(core.read_namespaced_pod_log(name, namespace, **kwargs))

        return self.redact(self._call(fetch, f"logs of Pod {namespace}/{name}", deadline))

    # -- writes --------------------------------------------------------------------------------

    def apply(self, obj: Mapping[str, Any], *, deadline: Deadline | None = None,
              dry_run: bool = False) -> Obj:
        """Server-side apply one object (field manager ``acp-install``, conflicts forced).

        ``dry_run``: ``dryRun=All`` — the server validates and returns the object the apply
        would give, and stores nothing (``install --dry-run``, ``diff``).
        """
        body = dict(obj)
        meta = body.get("metadata") or {}
        res = self.resource(str(body.get("apiVersion")), str(body.get("kind")), deadline=deadline)
        what = f"apply {describe(body)}"

        def send() -> Obj:
            out: Obj = self.dyn.server_side_apply(
                res, body=body, name=meta.get("name"),
                namespace=meta.get("namespace") if res.namespaced else None,
                field_manager=FIELD_MANAGER, force_conflicts=True,
                _request_timeout=self.request_timeout,
                **({"dry_run": "All"} if dry_run else {})).to_dict()
            return out

        return self._call(send, what, deadline)

    def create(self, obj: Mapping[str, Any], *, deadline: Deadline | None = None) -> Obj | None:
        """Create one object; ``None`` when one of that name exists already (409). Unlike
        :meth:`apply`, two clients racing get one winner: the basis of a cluster-side lock."""
        body = dict(obj)
        meta = body.get("metadata") or {}
        res = self.resource(str(body.get("apiVersion")), str(body.get("kind")), deadline=deadline)

        def send() -> Obj | None:
            try:
                out: Obj = res.create(body=body, namespace=meta.get("namespace") if res.namespaced else None,
                                      _request_timeout=self.request_timeout).to_dict()
                return out
            except DynamicApiError as err:
                if _status(err) == 409:
                    return None
                raise

        return self._call(send, f"create {describe(body)}", deadline)

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None, *,
               deadline: Deadline | None = None) -> bool:
        """Delete one object; False when it was not there."""
        res = self.resource(api_version, kind, deadline=deadline)

        def send() -> bool:
            try:
                res.delete(name=name, namespace=namespace if res.namespaced else None,
                           _request_timeout=self.request_timeout)
                return True
            except DynamicApiError as err:
                if _status(err) == 404:
                    return False
                raise

        return self._call(send, f"delete {kind}/{name}", deadline)

    def ensure_namespace(self, name: str, *, deadline: Deadline | None = None) -> bool:
        """Create the namespace when missing (never touch an existing one). True if created."""
        if self.get("v1", "Namespace", name, deadline=deadline) is not None:
            return False
        self.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
                   deadline=deadline)
        return True

    # -- waits ---------------------------------------------------------------------------------

    def wait_for(self, api_version: str, kind: str, name: str, namespace: str | None,
                 done: Predicate, *, deadline: Deadline, resync: float = 30.0,
                 on_change: Callable[[Obj | None], None] | None = None) -> tuple[bool, Obj | None]:
        """Watch one object until ``done(obj)`` (``obj`` is ``None`` while it is absent).

        Returns ``(True, obj)`` when done, ``(False, last seen)`` when the deadline passes:
        the caller knows what a stall of this object means and raises the right error.
        """
        last: Obj | None = None
        for obj in self.observe(api_version, kind, name, namespace, deadline=deadline,
                                resync=resync):
            last = obj
            if on_change is not None:
                on_change(obj)
            if done(obj):
                return True, obj
        return False, last

    def observe(self, api_version: str, kind: str, name: str, namespace: str | None, *,
                deadline: Deadline, resync: float = 30.0) -> Iterator[Obj | None]:
        """Yield the object's state on start, on every change, and at every resync.

        Ends when the deadline passes. A list gives the state and a resourceVersion; a watch from
        there gives changes until its server-side timeout (``resync``); then we list again, which
        also repairs a watch that broke or expired (410 Gone). A cancel of the deadline's token
        shuts the open watch's socket down, so even a long ``resync`` is left at once, with
        :class:`~acp_install.errors.Interrupted`.
        """
        selector = f"metadata.name={name}"
        kind_known = False
        while not deadline.expired:
            deadline.cancel.check(f"the wait for {kind}/{name}")
            if not kind_known:
                # The kind itself may not exist yet (its CRD is on its way).
                if not self.has_kind(api_version, kind, deadline=deadline):
                    yield None
                    deadline.within(min(resync, 2.0)).sleep(resync)
                    continue
                kind_known = True
            res = self.resource(api_version, kind, deadline=deadline)
            items, rv = self._list(res, namespace, None, selector, deadline)
            yield items[0] if items else None
            timeout = int(max(1, min(resync, deadline.remaining())))
            opened = _OpenStream(res.get)
            try:
                with deadline.cancel.on_cancel(opened.shutdown):
                    for event in watch.Watch().stream(
                            opened, namespace=namespace, field_selector=selector,
                            resource_version=rv, timeout_seconds=timeout, serialize=False,
                            allow_watch_bookmarks=True,
                            _request_timeout=(self.request_timeout, timeout + 5)):
                        deadline.cancel.check(f"the wait for {kind}/{name}")
                        etype = event.get("type")
                        if etype == "BOOKMARK":
                            continue
                        raw = event.get("raw_object") or event.get("object")
                        yield None if etype == "DELETED" else raw
                        if deadline.expired:
                            return
            except (DynamicApiError, ApiException, urllib3.exceptions.HTTPError,
                    OSError, ValueError) as err:
                # a stream cut by cancel ends in a protocol error: that is the cancel, not trouble
                deadline.cancel.check(f"the wait for {kind}/{name}")
                if isinstance(err, ValueError):
                    raise
                if not self._transient(err):
                    raise self._error(f"watch {kind}/{name}", err) from None
                if self.on_retry is not None and _status(err) != 410:
                    self.on_retry(f"watch {kind}/{name}: {self._reason(err)}; resyncing")
                deadline.within(0.5).sleep(0.5)


class _OpenStream:
    """The watch request, remembering its response so a cancel can shut its socket down.

    ``watch.Watch`` reads the response in this thread and blocks in ``recv`` until the server
    sends or closes; ``shutdown(SHUT_RD)`` from another thread (or a signal handler) makes that
    read return at once. Closing the response instead would not wake the read.
    """

    def __init__(self, request: Callable[..., Any]) -> None:
        self._request = request
        self._response: Any = None
        self._cancelled = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self._response = self._request(*args, **kwargs)
        if self._cancelled:  # cancelled while the request was being sent
            self.shutdown()
        return self._response

    def shutdown(self) -> None:
        self._cancelled = True
        response = self._response
        if response is None:
            return
        with contextlib.suppress(Exception):  # already closed or released: nothing to wake
            response.shutdown()
