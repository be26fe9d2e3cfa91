"""The embedded cpaas-installer REST API (seed Steps 8 and 9), through ``httpx``.

Two calls: ``POST`` to the provider's ``ProviderInfo.installer_endpoint`` (the install request;
NOT idempotent — the engine guards it) and ``GET /cpaas-installer/api/progress``. The progress response is not
documented by the seed beyond "status: Success and type: Complete"; :func:`parse_progress` is
the one place that knows its shape, so a real installer answering differently means one
function to change.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import httpx

from ..errors import ClusterError, InstallerError
from . import tls
from .redact import Redactor
from .retry import Deadline, retry_call

DEFAULT_PORT = 8080
PROGRESS_PATH = "/cpaas-installer/api/progress"
INSTALLER_NAMESPACE = "cpaas-system"
INSTALLER_SELECTOR = "service_name=cpaas-installer"

#: ``status`` values meaning the installer has not received a request yet. Only ``status`` says
#: so (and a 404 of the progress API): the seed documents ``type`` only for the final
#: ``Complete``, so a missing ``type`` means "unknown", never "no request".
IDLE_STATUSES = frozenset({"idle", "notstarted", "not_started", "none", "pending", "waiting"})

#: The status a 404 of the progress API is reported as (some builds answer 404 until they
#: have a request).
NO_REQUEST = "NotStarted"


@attrs.frozen
class Progress:
    """One answer of the progress API, normalised.

    Attributes:
        status: ``Running``, ``Success``, ``Failed``... (as the installer says it).
        type: ``Complete`` when the whole install is done; otherwise the stage type.
        phase: the current phase / stage name, if the installer gives one.
        message: the latest message (an error for ``Failed``).
        percent: overall progress in percent, when given.
        raw: the whole response, for diagnostics (it carries no secrets).
    """

    status: str
    type: str = ""
    phase: str = ""
    message: str = ""
    percent: float | None = None
    raw: Any = attrs.field(default=None, eq=False, repr=False)

    @property
    def idle(self) -> bool:
        """The installer has no install request (never received one, or lost it).

        Judged on ``status`` alone: an answer without a ``status`` is not idle (unknown).
        """
        return self.status.strip().lower() in IDLE_STATUSES

    @property
    def succeeded(self) -> bool:
        return self.status.lower() == "success" and self.type.lower() == "complete"

    @property
    def failed(self) -> bool:
        return self.status.lower() in {"failed", "failure", "error"}

    def fingerprint(self) -> tuple[str, str, str, float | None]:
        """What must change for the install to count as advancing (stall detection)."""
        return (self.status, self.type, self.phase, self.percent)

    def summary(self) -> str:
        """One line saying each fact once: ``Running 25%: Control plane bootstrap in progress``.

        Installers repeat themselves (``type=ControlPlane``, ``phase=Control plane bootstrap``,
        ``message=Control plane bootstrap in progress``): the stage is the phase name, or the type
        when there is no phase (the type is the same stage in another spelling, and stays in
        :attr:`raw` and :meth:`fingerprint`); the message replaces the stage when it starts with it.
        """
        head = " ".join(p for p in (self.status or "?",
                                    f"{self.percent:g}%" if self.percent is not None else "") if p)
        stage = self.phase or self.type
        message = self.message.strip()
        if message and stage and message.lower().startswith(stage.lower()):
            stage = ""
        tail = ": ".join(p for p in (stage, message) if p)
        return f"{head}: {tail}" if tail else head


def _transport_words(err: httpx.TransportError) -> str:
    """A transport failure in a few words (``connection refused``), not httpx's class name and
    errno (``ConnectError: [Errno 111] Connection refused``)."""
    text = str(err)
    lowered = text.lower()
    if "refused" in lowered:
        return "connection refused"
    if isinstance(err, httpx.TimeoutException) or "timed out" in lowered:
        return "timed out"
    if isinstance(err, httpx.RemoteProtocolError):
        return f"the connection closed without a complete answer ({text})" if text else \
            "the connection closed without a complete answer"
    if "reset by peer" in lowered:
        return "connection reset"
    return text.split("] ", 1)[-1] if text else "the connection failed"


def _first(data: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if data.get(key) not in (None, ""):
            return data[key]
    return None


def parse_progress(data: Any) -> Progress:
    """The progress response -> :class:`Progress`. The only place that knows its shape.

    Assumption (documented by the sandbox, not by the seed): a JSON object with ``status`` and
    ``type`` at the top level or under ``data``; a current stage as ``phase``/``stage``/``step``
    (a string, or an object with ``name``), a ``message``/``reason``/``error`` and optionally
    ``progress``/``percent``. A list of stages (``phases``/``stages``) falls back to its last
    non-pending entry for the current stage.
    """
    if not isinstance(data, Mapping):
        raise InstallerError(f"unexpected progress response: {type(data).__name__}",
                             hint="the installer API may have changed; see docs/engine.md")
    body: Mapping[str, Any] = data
    inner = data.get("data")
    if isinstance(inner, Mapping) and "status" in inner and "status" not in data:
        body = inner
    status = str(_first(body, "status", "state") or "")
    type_ = str(_first(body, "type") or "")
    phase_val = _first(body, "phase", "stage", "step", "currentPhase", "currentStage")
    if isinstance(phase_val, Mapping):
        phase_val = _first(phase_val, "name", "phase", "stage")
    stages = _first(body, "phases", "stages", "steps")
    if phase_val is None and isinstance(stages, list):
        current = [s for s in stages if isinstance(s, Mapping)
                   and str(s.get("status", "")).lower() not in IDLE_STATUSES | {""}]
        if current:
            phase_val = _first(current[-1], "name", "phase", "stage")
    message = _first(body, "message", "reason", "error", "msg")
    percent = _first(body, "progress", "percent", "percentage")
    try:
        pct = float(percent) if percent is not None else None
    except (TypeError, ValueError):
        pct = None
    return Progress(status=status, type=type_, phase=str(phase_val or ""),
                    message=str(message or ""), percent=pct, raw=data)


class InstallerUnavailable(Exception):
    """A transient installer failure (connection refused, 5xx): retried by the caller.

    ``maybe_delivered`` is true when a request may have reached the installer although no
    answer says so (the connection broke or timed out after the body was sent, or a 5xx): for
    the non-idempotent POST the caller must then look at the progress API for a while before
    sending again.
    """

    def __init__(self, message: str, *, maybe_delivered: bool = False,
                 refused: bool = False) -> None:
        super().__init__(message)
        self.maybe_delivered = maybe_delivered
        self.refused = refused


#: Transport errors raised before a single byte of the request can have left this host.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout,
             httpx.UnsupportedProtocol)


def _refused(err: BaseException) -> bool:
    """Nothing listens at the address (ECONNREFUSED, however httpx and httpcore wrap it)."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _name_resolution_failed(err: BaseException) -> bool:
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


_ADDRESS_HINT = ("pass --installer-address HOST:PORT with the cpaas-installer pod IP (kubectl get "
                 "pods -n cpaas-system -l service_name=cpaas-installer -o wide) and port 8080, "
                 "or leave it out to discover it")


class InstallerClient:
    """HTTP client of one installer address (``host:port``).

    ``redact`` is applied to every text taken from the installer (error bodies, progress
    messages) before it goes into an error, so an echoed secret never leaves this class.

    ``connect_grace``: seconds (on ``clock``) a refused connection is retried, silently, while
    the installer has never answered this client. Nothing listening at the address then means
    a wrong ``--installer-address`` or a pod that is not serving, not a transient fault: it
    fails in seconds with one line naming the address instead of retrying until the phase's
    deadline. Once the installer has answered, a refused connection is a restart and is
    retried until the caller's deadline like every transient fault.
    """

    def __init__(self, address: str, *, timeout: float = 15.0,
                 on_retry: Callable[[str], None] | None = None,
                 redact: Redactor | None = None, connect_grace: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.address = address
        self.connect_grace = connect_grace
        self._clock = clock
        self._contacted = False
        self._refused_since: float | None = None
        self.base_url = f"http://{address}"
        self.on_retry = on_retry
        self.redact = redact if redact is not None else Redactor()
        try:
            url = httpx.URL(self.base_url)
        except httpx.InvalidURL as err:
            raise InstallerError(f"invalid installer address {address!r}: {err}",
                                 hint=_ADDRESS_HINT) from None
        if not url.host:
            raise InstallerError(f"invalid installer address {address!r}: no host",
                                 hint=_ADDRESS_HINT)
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, verify=tls.httpx_default(),
                                  headers={"User-Agent": "acp-install"})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> InstallerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def contacted(self) -> bool:
        """The installer has answered this client at least once (any HTTP status)."""
        return self._contacted

    def _never_answered(self, err: BaseException) -> bool:
        return isinstance(err, InstallerUnavailable) and err.refused and not self._contacted

    def _transient(self, err: BaseException) -> bool:
        """Retry an unavailable installer, except a refused connection to one that has never
        answered, once ``connect_grace`` has passed since the first refusal."""
        if not isinstance(err, InstallerUnavailable):
            return False
        if self._never_answered(err):
            now = self._clock()
            if self._refused_since is None:
                self._refused_since = now
            return now - self._refused_since < self.connect_grace
        return True

    def _retrying(self, fn: Callable[[], Any], what: str, deadline: Deadline) -> Any:
        def on_retry(err: BaseException, sleep: float) -> None:
            if self._never_answered(err):
                return  # one line at the end, not one per retry
            if self.on_retry is not None:
                self.on_retry(f"{what}: {err}; retrying in {sleep:.1f}s")

        try:
            return retry_call(fn, transient=self._transient, deadline=deadline, on_retry=on_retry)
        except InstallerUnavailable as err:
            if self._never_answered(err):
                raise InstallerError(
                    f"{what}: connection refused: nothing listens at {self.address} (the "
                    "cpaas-installer has never answered there)", hint=_ADDRESS_HINT) from None
            raise InstallerError(f"{what}: installer at {self.base_url} unavailable: {err}",
                                 hint="check the cpaas-installer pod in cpaas-system "
                                      "(kubectl get pods -n cpaas-system -l "
                                      "service_name=cpaas-installer) and "
                                      "/var/cpaas/data/installer.log") from None

    def _send(self, method: str, path: str, json: Any = None) -> httpx.Response:
        try:
            resp = self._http.request(method, path, json=json)
        except httpx.TransportError as err:
            if _name_resolution_failed(err):
                # Not transient: retrying a name that does not resolve only burns the deadline.
                raise InstallerError(
                    f"installer address {self.address!r}: the host name does not resolve "
                    f"({err})", hint=_ADDRESS_HINT) from None
            delivered = not isinstance(err, _NOT_SENT)
            raise InstallerUnavailable(_transport_words(err), maybe_delivered=delivered,
                                       refused=_refused(err)) from None
        except httpx.InvalidURL as err:
            raise InstallerError(f"invalid installer address {self.address!r}: {err}",
                                 hint=_ADDRESS_HINT) from None
        self._contacted = True
        self._refused_since = None
        if resp.status_code >= 500:
            # A gateway or the installer itself may have failed after taking the request.
            raise InstallerUnavailable(f"HTTP {resp.status_code}", maybe_delivered=True)
        if resp.status_code == 429:
            raise InstallerUnavailable("HTTP 429")
        return resp

    def progress(self, *, deadline: Deadline) -> Progress:
        """GET the progress API; transient failures retried until ``deadline``."""

        def get() -> Progress:
            resp = self._send("GET", PROGRESS_PATH)
            if resp.status_code == 404:
                # Some installer builds answer 404 until they have a request.
                return Progress(status=NO_REQUEST, message="no install request", raw=None)
            if resp.status_code >= 400:
                raise InstallerError(f"progress API answered HTTP {resp.status_code}: "
                                     f"{self._safe_text(resp)}")
            try:
                data = resp.json()
            except ValueError:
                raise InstallerError("progress API answered with something that is not JSON",
                                     hint="check the installer address") from None
            return parse_progress(self.redact.data(data))

        result: Progress = self._retrying(get, "GET progress", deadline)
        return result

    def submit(self, endpoint: str, payload: Mapping[str, Any], *, deadline: Deadline) -> Any:
        """POST the install request once. Never retried here: the engine decides (see state).

        Failures without an answer are :class:`InstallerUnavailable`; its ``maybe_delivered``
        says whether the request may have arrived (then the caller watches the progress API
        before sending again). A 4xx is :class:`InstallerError`.
        """
        resp = self._send("POST", endpoint, json=dict(payload))
        if resp.status_code >= 400:
            raise InstallerError(f"installer refused the request: HTTP {resp.status_code}: "
                                 f"{self._safe_text(resp)}",
                                 hint="fix the spec (acp-install render shows the payload) "
                                      "and re-run")
        try:
            return resp.json()
        except ValueError:
            return resp.text

    def _safe_text(self, resp: httpx.Response) -> str:
        """The start of a response body for a message: secrets stripped, one line."""
        return self.redact(resp.text)[:300].replace("\n", " ")


def _is_serving(pod: Mapping[str, Any]) -> bool:
    meta = pod.get("metadata") or {}
    status = pod.get("status") or {}
    return (status.get("phase") == "Running" and not meta.get("deletionTimestamp")
            and bool(status.get("podIP")))


def _is_ready(pod: Mapping[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def discover_address(kube: Any, *, port: int | None = None, deadline: Deadline) -> str:
    """The seed's ``INSTALLER_IP``: podIP of the pod labelled ``service_name=cpaas-installer``.

    Only a Running pod that is not being deleted counts (a Ready one first, then the newest);
    the address and the port come from that same pod. The port is ``port`` when given, else
    the pod's first declared container port, else 8080.
    """
    pods, _rv = kube.list("v1", "Pod", INSTALLER_NAMESPACE, label_selector=INSTALLER_SELECTOR,
                          deadline=deadline)
    serving = [p for p in pods if _is_serving(p)]
    if not serving:
        seen = ", ".join(f"{(p.get('metadata') or {}).get('name')} "
                         f"({(p.get('status') or {}).get('phase') or 'no phase'}"
                         f"{', terminating' if (p.get('metadata') or {}).get('deletionTimestamp') else ''})"
                         for p in pods) or "none"
        raise ClusterError(
            f"no Running cpaas-installer pod with a podIP in {INSTALLER_NAMESPACE} "
            f"(label {INSTALLER_SELECTOR}; pods seen: {seen})",
            hint="check the bootstrap (kubectl get pods -n cpaas-system) or pass "
                 "--installer-address HOST:PORT")
    serving.sort(key=lambda p: (_is_ready(p),
                                str((p.get("metadata") or {}).get("creationTimestamp") or "")),
                 reverse=True)
    pod = serving[0]
    if port is None:
        declared = [cp.get("containerPort") for c in pod.get("spec", {}).get("containers", [])
                    for cp in c.get("ports") or []]
        port = next((p for p in declared if isinstance(p, int)), DEFAULT_PORT)
    return f"{pod['status']['podIP']}:{port}"
