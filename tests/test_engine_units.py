"""Engine building blocks without a sandbox: retries, deadlines, timeouts, state, stalls."""

from __future__ import annotations

import base64
import json
import math
import threading
import time
from pathlib import Path
from typing import Any, cast

import pytest

from acp_install.clients.retry import Deadline, retry_call
from acp_install.engine import Timeouts, read_state
from acp_install.engine.state import StateStore
from acp_install.errors import ClusterError, StateError, UsageError


class Flaky(Exception):
    pass


def test_retry_call_retries_transient_errors_then_succeeds() -> None:
    calls: list[float] = []
    seen: list[str] = []

    def fn() -> str:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise Flaky("503")
        return "ok"

    out = retry_call(fn, transient=lambda e: isinstance(e, Flaky), deadline=Deadline(10),
                     on_retry=lambda err, sleep: seen.append(f"{err} {sleep:.2f}"), max_wait=0.05)
    assert out == "ok" and len(calls) == 3 and len(seen) == 2


def test_retry_call_gives_up_at_the_deadline_and_on_permanent_errors() -> None:
    def always() -> None:
        raise Flaky("503")

    raised: list[BaseException] = []

    def call() -> None:
        try:
            retry_call(always, transient=lambda e: True, deadline=Deadline(0.5), max_wait=0.1)
        except Flaky as err:
            raised.append(err)

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(30)  # a hang guard, not a timing: without the deadline it retries for ever
    assert not worker.is_alive() and len(raised) == 1

    calls = []

    def permanent() -> None:
        calls.append(1)
        raise ValueError("422")

    with pytest.raises(ValueError):
        retry_call(permanent, transient=lambda e: isinstance(e, Flaky), deadline=Deadline(5))
    assert calls == [1]


def test_unreachable_api_server_is_a_cluster_error_after_retries(tmp_path: Path) -> None:
    from acp_install.clients.kube import KubeClient

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "x",
        "clusters": [{"name": "x", "cluster": {"server": "https://127.0.0.1:9",
                                               "insecure-skip-tls-verify": True}}],
        "contexts": [{"name": "x", "context": {"cluster": "x", "user": "x"}}],
        "users": [{"name": "x", "user": {"token": "t"}}]}))
    retries: list[str] = []
    with KubeClient(kubeconfig, on_retry=retries.append, request_timeout=1,
                    connect_grace=0.2) as kube, \
            pytest.raises(ClusterError, match=r"127\.0\.0\.1:9"):
        kube.get("v1", "Namespace", "cpaas-system", deadline=Deadline(30))
    # never reached: a wrong address or a cluster that is down, said once (not per retry);
    # a refused connection after the server once answered is retried (test_kube_faults.py)
    assert retries == []


def test_timeouts_scale_and_overrides() -> None:
    t = Timeouts(scale=2).with_overrides(control_plane=100)
    assert t.of("control-plane") == 200 and t.of("packages") == 1200
    assert t.stall == 1800
    with pytest.raises(UsageError):
        Timeouts(phases={"nope": 1})
    with pytest.raises(UsageError):
        Timeouts(scale=0)


@pytest.mark.parametrize("kwargs", [
    {"scale": math.nan}, {"scale": math.inf}, {"scale": -1.0}, {"installer_stall": math.nan},
    {"installer_stall": 0.0}, {"post_grace": -1.0}, {"phases": {"manifest": -5.0}},
    {"phases": {"manifest": math.nan}}, {"scale": 1e308},
])
def test_timeouts_must_be_finite_and_positive(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="finite positive") as err:
        Timeouts(**kwargs)
    assert isinstance(err.value, UsageError) and err.value.exit_code == 2
    with pytest.raises(ValueError):
        Timeouts().with_overrides(control_plane=-5)


@pytest.mark.parametrize("kwargs", [{"poll_interval": -1.0}, {"poll_interval": math.nan},
                                    {"resync": 0.0}, {"resync": math.inf}])
def test_engine_intervals_must_be_finite_and_positive(tmp_path: Path,
                                                      kwargs: dict[str, Any]) -> None:
    from acp_install.engine import Engine

    with pytest.raises(ValueError, match="finite positive"):
        Engine(cast(Any, None), provider=cast(Any, None), kubeconfig=tmp_path / "k", workdir=tmp_path, **kwargs)
    assert not (tmp_path / ".acp-install").exists()


def test_redactor_strips_values_and_their_encodings() -> None:
    from acp_install.clients.redact import Redactor

    secret = 'pa"ss-canary'
    redact = Redactor([secret])
    b64 = base64.b64encode(secret.encode()).decode()
    text = f'a {secret} b {b64} c {json.dumps(secret)} d'
    out = redact(text)
    assert secret not in out and b64 not in out and 'pa\\"ss' not in out
    assert out.count("<redacted>") == 3
    assert secret not in repr(redact)
    assert redact.data({"x": [f"<{secret}>"]}) == {"x": ["<<redacted>>"]}


def test_state_is_atomic_private_and_locked(tmp_path: Path) -> None:
    with StateStore(tmp_path) as state:
        state.started("packages")
        state.finish("packages", "done")
        state.note("installer", sent=True)
        with pytest.raises(StateError, match="in use"), StateStore(tmp_path):
            pass
    data = read_state(tmp_path)
    assert data is not None and data["phases"]["packages"]["outcome"] == "done"
    assert not list((tmp_path / ".acp-install").glob("*.tmp"))
    assert (tmp_path / ".acp-install" / "state.json").stat().st_mode & 0o077 == 0
    with StateStore(tmp_path) as again:  # released: a later run may take it
        assert again.finished("packages")


def test_unreadable_state_is_a_state_error(tmp_path: Path) -> None:
    (tmp_path / ".acp-install").mkdir()
    (tmp_path / ".acp-install" / "state.json").write_text("{not json")
    with pytest.raises(StateError, match="cannot read"):
        read_state(tmp_path)
    with pytest.raises(StateError), StateStore(tmp_path):
        pass


def test_a_short_secret_never_mangles_the_redaction_marker() -> None:
    from acp_install.clients.redact import Redactor

    redact = Redactor(["a", "d"])  # both are letters of "<redacted>"
    # short secrets are replaced only where they stand alone: names and words stay intact
    assert redact("ClusterModule/global, phase Ready") == "ClusterModule/global, phase Ready"
    assert redact("password 'a' or d rejected") == "password '<redacted>' or <redacted> rejected"
    assert redact(redact("password a")) == "password <redacted>"
