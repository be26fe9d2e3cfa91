"""The installer side of the engine against the sandbox, through a misbehaving network.

The sandbox installer answers like a healthy one. Real networks and installer builds do not
always: a gateway answers 502 after delivering the POST, a connection drops before the answer,
a progress answer has no ``type``, a 4xx body echoes the request. :class:`Front` is a small HTTP
server in front of the sandbox installer that does exactly that; the engine talks to it with its
real httpx client (``installer_address``), and what reached the installer is read back from the
sandbox recorder.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_engine import assert_no_canaries, engine, fast, posts

from acp_install.clients.installer import InstallerClient, discover_address, parse_progress
from acp_install.clients.kube import KubeClient
from acp_install.clients.retry import Deadline
from acp_install.engine import EngineWarning, read_state, state_path
from acp_install.errors import InstallerError
from acp_install.plan import InstallPlan, build_plan
from acp_install.spec.load import LoadedSpec, load_spec
from acp_install_sandbox import Sandbox

from specs import example, write
from support import HTTP


@pytest.fixture
def dcs_spec(tmp_path: Path, canaries: dict[str, str]) -> LoadedSpec:
    return load_spec(write(tmp_path / "spec.yaml", example("dcs")))


@pytest.fixture
def plan(dcs_spec: LoadedSpec) -> InstallPlan:
    return build_plan(dcs_spec)


@pytest.fixture
def start(sandbox_factory: Callable[..., Sandbox]) -> Callable[..., Sandbox]:
    def make(scenario: str = "happy") -> Sandbox:
        return sandbox_factory(scenario=scenario)

    return make


PostHook = Callable[["Front", bytes], "tuple[int, bytes] | None"]


class Front:
    """An HTTP server forwarding to the sandbox installer, with hooks to misbehave.

    ``on_post(front, body)`` returns ``(status, body)`` to answer, or ``None`` to close the
    connection without an answer; ``front.forward_post(body, delay)`` delivers a POST to the
    installer (after ``delay`` seconds, in the background). ``on_progress(data)`` rewrites a
    progress answer.
    """

    def __init__(self, upstream: str, *, on_post: PostHook | None = None,
                 on_progress: Callable[[Any], Any] | None = None) -> None:
        self.upstream = upstream
        self.on_post = on_post
        self.on_progress = on_progress
        self.posts_seen = 0
        self._threads: list[threading.Thread] = []
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, code: int, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                resp = HTTP.get(front.upstream + self.path, timeout=10)
                body = resp.content
                if resp.status_code == 200 and front.on_progress is not None:
                    body = json.dumps(front.on_progress(resp.json())).encode()
                self._answer(resp.status_code, body)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                front.posts_seen += 1
                answer = (front.on_post(front, raw) if front.on_post is not None
                          else front.forward_post(raw))
                if answer is None:
                    self.close_connection = True
                    self.connection.close()
                    return
                self._answer(*answer)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"{host!s}:{port}"

    def forward_post(self, raw: bytes, delay: float = 0.0) -> tuple[int, bytes]:
        def send() -> httpx.Response:
            return HTTP.post(self.upstream + "/cpaas-installer/api/config/dcs", content=raw,
                              headers={"Content-Type": "application/json"}, timeout=10)

        if not delay:
            resp = send()
            return resp.status_code, resp.content
        thread = threading.Thread(target=lambda: (time.sleep(delay), send()), daemon=True)
        thread.start()
        self._threads.append(thread)
        return 0, b""

    def stop(self) -> None:
        for thread in self._threads:
            thread.join(timeout=10)
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def front_factory() -> Iterator[Callable[..., Front]]:
    fronts: list[Front] = []

    def make(sb: Sandbox, **hooks: Any) -> Front:
        front = Front(sb.installer_url, **hooks)
        fronts.append(front)
        return front

    yield make
    for front in fronts:
        front.stop()


# -- progress without `type` ---------------------------------------------------------------


@pytest.mark.parametrize("data", [{"status": "Running"}, {"status": "Failed", "message": "x"},
                                  {"status": "Running", "step": "Installing"}])
def test_progress_without_type_is_not_idle(data: dict[str, Any]) -> None:
    progress = parse_progress(data)
    assert not progress.idle
    assert progress.failed == (data["status"] == "Failed")
    assert not progress.succeeded


def test_idle_comes_from_status_only() -> None:
    assert parse_progress({"status": "Pending"}).idle
    assert parse_progress({"status": "NotStarted", "type": ""}).idle
    assert not parse_progress({"type": "NotStarted", "status": "Running"}).idle


def test_an_installer_that_sends_type_only_when_complete(
        start: Callable[..., Sandbox], front_factory: Callable[..., Front], plan: InstallPlan,
        tmp_path: Path, canaries: dict[str, str]) -> None:
    sb = start()

    def drop_type(data: dict[str, Any]) -> dict[str, Any]:
        return data if data.get("type") == "Complete" else {k: v for k, v in data.items()
                                                             if k != "type"}

    front = front_factory(sb, on_progress=drop_type)
    eng, rec = engine(plan, sb, tmp_path, installer_address=front.address)
    assert eng.run().complete
    assert len(posts(sb)) == 1 and front.posts_seen == 1
    assert not [w for w in rec.of(EngineWarning) if "restarted" in w.message]


def test_a_failure_without_type_is_a_failure_not_a_restart(
        start: Callable[..., Sandbox], front_factory: Callable[..., Front], plan: InstallPlan,
        tmp_path: Path, canaries: dict[str, str]) -> None:
    sb = start("installer-fail")
    front = front_factory(sb, on_progress=lambda d: {k: v for k, v in d.items() if k != "type"})
    eng, _ = engine(plan, sb, tmp_path, installer_address=front.address)
    with pytest.raises(InstallerError, match="reports failure") as err:
        eng.run()
    assert "restarted" not in str(err.value)
    assert len(posts(sb)) == 1


# -- a POST whose fate is unknown ------------------------------------------------------------


@pytest.mark.parametrize("answer", ["502", "drop"])
def test_an_ambiguous_post_is_not_sent_twice(
        answer: str, start: Callable[..., Sandbox], front_factory: Callable[..., Front],
        plan: InstallPlan, tmp_path: Path, canaries: dict[str, str]) -> None:
    """The POST reaches the installer late (a queue, a slow gateway) and no answer says so.

    The sandbox's installer-5xx scenario makes the progress API answer 503 after the POST on
    top of that.
    """
    sb = start("installer-5xx")
    watching = threading.Event()  # set once the engine says it watches for the request

    def late(front: Front, raw: bytes) -> tuple[int, bytes] | None:
        # delivered once the engine watches the progress API for it: late by an event, not by
        # a guessed delay (an engine that sent again at once would be seen sending twice)
        def deliver() -> None:
            if watching.wait(30):
                front.forward_post(raw)

        thread = threading.Thread(target=deliver, daemon=True)
        thread.start()
        front._threads.append(thread)
        return (502, b'{"message": "bad gateway"}') if answer == "502" else None

    front = front_factory(sb, on_post=late)
    eng, rec = engine(plan, sb, tmp_path, installer_address=front.address,
                      timeouts=fast(post_grace=10))
    eng.subscribe(lambda e: watching.set() if isinstance(e, EngineWarning)
                  and "POST outcome unknown" in e.message else None)
    assert eng.run().complete
    assert front.posts_seen == 1, "the request was sent again before the grace period"
    assert len(posts(sb)) == 1
    assert len(sb.recorder.installer_payloads) == 1
    assert any("POST outcome unknown" in w.message for w in rec.of(EngineWarning))


def test_a_post_that_never_arrives_is_sent_again_after_the_grace_period(
        start: Callable[..., Sandbox], front_factory: Callable[..., Front], plan: InstallPlan,
        tmp_path: Path, canaries: dict[str, str]) -> None:
    sb = start()

    seen: list[str] = []  # what reached the installer, in order

    def lost_once(front: Front, raw: bytes) -> tuple[int, bytes] | None:
        seen.append("POST")
        return (504, b"{}") if front.posts_seen == 1 else front.forward_post(raw)

    def progress(data: Any) -> Any:
        seen.append("progress")
        return data

    front = front_factory(sb, on_post=lost_once, on_progress=progress)
    eng, rec = engine(plan, sb, tmp_path, installer_address=front.address,
                      timeouts=fast(post_grace=0.5))
    eng.run(until="installer")
    assert front.posts_seen == 2 and len(sb.recorder.installer_payloads) == 1
    # not sent again at once: the engine watched the progress API through the grace period first
    between = seen[seen.index("POST") + 1:len(seen) - 1 - seen[::-1].index("POST")]
    assert between and set(between) == {"progress"}
    assert any("watching the progress API" in w.message for w in rec.of(EngineWarning))


# -- a failed request ------------------------------------------------------------------------


def test_a_failed_request_is_sent_again_only_with_resubmit(
        start: Callable[..., Sandbox], plan: InstallPlan, tmp_path: Path,
        canaries: dict[str, str]) -> None:
    sb = start("installer-fail")
    with pytest.raises(InstallerError, match="reports failure") as err:
        engine(plan, sb, tmp_path)[0].run()
    assert "--resubmit" in str(err.value) and "re-run to resume" not in str(err.value)

    # a plain re-run (even with --restart) stops at once and sends nothing
    for restart in (False, True):
        with pytest.raises(InstallerError, match="--resubmit"):
            engine(plan, sb, tmp_path, restart=restart)[0].run()
        assert len(posts(sb)) == 1

    # --resubmit sends it again (the sandbox accepts a new request after a failure) ...
    eng, rec = engine(plan, sb, tmp_path, resubmit=True)
    with pytest.raises(InstallerError, match="reports failure"):  # ... and it fails again
        eng.run()
    assert len(posts(sb)) == 2
    assert [p.status for p in posts(sb)] == [200, 200]
    assert any("--resubmit" in w.message for w in rec.of(EngineWarning))


def test_resubmit_never_resends_a_running_request(
        start: Callable[..., Sandbox], plan: InstallPlan, tmp_path: Path,
        canaries: dict[str, str]) -> None:
    sb = start()
    engine(plan, sb, tmp_path)[0].run(until="installer")
    eng, rec = engine(plan, sb, tmp_path, resubmit=True)
    assert eng.run().complete
    assert rec.outcomes()["installer"] == "already-done"
    assert len(posts(sb)) == 1


# -- secrets echoed by the installer ---------------------------------------------------------


def test_an_echoed_secret_never_reaches_errors_events_or_state(
        start: Callable[..., Sandbox], front_factory: Callable[..., Front], plan: InstallPlan,
        tmp_path: Path, canaries: dict[str, str]) -> None:
    sb = start()
    secret = canaries["ACP_ADMIN_PASSWORD"]
    b64 = base64.b64encode(secret.encode()).decode()

    def echo(front: Front, raw: bytes) -> tuple[int, bytes]:
        return 400, json.dumps({"message": f"password {secret} ({b64}) rejected",
                                "request": raw.decode()}).encode()

    front = front_factory(sb, on_post=echo)
    eng, rec = engine(plan, sb, tmp_path, installer_address=front.address)
    with pytest.raises(InstallerError, match="refused") as err:
        eng.run()
    assert "<redacted>" in str(err.value)
    state = state_path(tmp_path).read_text()
    assert "HTTP 400" in state
    assert_no_canaries(str(err.value) + state + rec.text(), canaries)
    assert not posts(sb)
    note = json.loads(state)["installer"]
    assert note["refused"] is True and note["sending"] is False  # nothing left in flight


# -- the installer address -------------------------------------------------------------------


def test_discovery_takes_address_and_port_from_one_running_pod(
        start: Callable[..., Sandbox], tmp_path: Path) -> None:
    sb = start()
    with KubeClient(sb.kubeconfig_path) as kube:
        pods = kube.resource("v1", "Pod")
        for name, phase, port, ip in (("a-old-installer", "Failed", 9999, "127.0.0.2"),
                                      ("b-pending-installer", "Pending", 9998, None)):
            kube.apply({"apiVersion": "v1", "kind": "Pod",
                        "metadata": {"name": name, "namespace": "cpaas-system",
                                     "labels": {"service_name": "cpaas-installer"}},
                        "spec": {"containers": [{"name": "installer", "image": "x",
                                                 "ports": [{"containerPort": port}]}]}})
            status: dict[str, Any] = {"phase": phase}
            if ip:
                status["podIP"] = ip
            pods.status.patch(name=name, namespace="cpaas-system", body={"status": status},
                              content_type="application/merge-patch+json")
        listed, _ = kube.list("v1", "Pod", "cpaas-system",
                              label_selector="service_name=cpaas-installer")
        assert listed[0]["metadata"]["name"] == "a-old-installer"  # first, as on a real server
        address = discover_address(kube, deadline=Deadline(10))
    assert address == sb.installer_url.removeprefix("http://")


def test_an_unresolvable_installer_address_fails_at_once() -> None:
    retries: list[str] = []
    # "at once" by counting: not one retry, although the deadline would allow an hour of them
    with InstallerClient("no-such-installer.invalid:8080", on_retry=retries.append) as client, \
            pytest.raises(InstallerError, match="does not resolve") as err:
        client.progress(deadline=Deadline(3600))
    assert retries == []
    assert "--installer-address" in str(err.value)


def test_the_engine_stops_at_once_on_an_unresolvable_installer_address(
        start: Callable[..., Sandbox], plan: InstallPlan, dcs_spec: LoadedSpec, tmp_path: Path,
        canaries: dict[str, str]) -> None:
    sb = start()
    eng, _ = engine(plan, sb, tmp_path, installer_address="no-such-installer.invalid:8080",
                    timeouts=fast(installer=60))
    eng.run(until="extra-resources")
    eng, rec = engine(plan, sb, tmp_path, installer_address="no-such-installer.invalid:8080",
                      timeouts=fast(installer=3600))
    with pytest.raises(InstallerError, match="does not resolve"):
        eng.run()
    assert not [w for w in rec.of(EngineWarning) if w.phase == "installer"]  # not retried
    state = read_state(tmp_path)
    assert state is not None and state["phases"]["installer"]["status"] == "failed"
    assert not posts(sb)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port bound but never listening: every connection to it is refused."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def test_an_installer_that_never_answered_fails_in_one_line_naming_the_address(silent_port: int) -> None:
    retries: list[str] = []
    ticks: list[float] = []

    def clock() -> float:  # the client's own clock: one second per look, however slow the host
        ticks.append(float(len(ticks)))
        return ticks[-1]

    address = f"127.0.0.1:{silent_port}"
    with InstallerClient(address, on_retry=retries.append, connect_grace=3.0, clock=clock) as client:
        sent = client._http.request
        attempts: list[str] = []

        def counting(*args: Any, **kwargs: Any) -> httpx.Response:
            attempts.append(str(args[1]))
            return sent(*args, **kwargs)

        client._http.request = counting  # type: ignore[method-assign]
        with pytest.raises(InstallerError) as err:
            client.progress(deadline=Deadline(3600))  # an hour allowed: the grace decides
    # refused at clock 0, 1, 2 (within the 3 s grace), then 3: given up after 4 attempts
    assert len(attempts) == 4
    assert retries == []  # silent retries, one line at the end
    message = str(err.value)
    assert f"nothing listens at {address}" in message and "never answered" in message
    assert "\n" not in err.value.message
    assert "--installer-address" in (err.value.hint or "")
    assert not client.contacted


def test_a_refused_connection_after_first_contact_is_retried_until_the_deadline() -> None:
    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"status": "Running", "type": "ControlPlane"}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    address = f"127.0.0.1:{server.server_address[1]}"
    retries: list[str] = []
    now = [0.0]
    with InstallerClient(address, on_retry=retries.append, connect_grace=0.0,
                         clock=lambda: now[0]) as client:
        assert client.progress(deadline=Deadline(10)).status == "Running"
        assert client.contacted
        server.shutdown()
        server.server_close()  # the installer restarts: its port refuses now
        with pytest.raises(InstallerError, match="unavailable") as err:
            client.progress(deadline=Deadline(1.0))
    # even with no grace at all the refusal is retried (and said) once the installer answered
    assert retries and all("retrying" in r for r in retries)
    assert "never answered" not in str(err.value)
