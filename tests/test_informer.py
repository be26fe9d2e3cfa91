"""The engine's informer-style cache against the sandbox: a kind is listed once, then every
change arrives by watch; waiting costs no request; closing leaves no thread behind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from acp_install.clients.kube import KubeClient
from acp_install.clients.retry import Deadline

NS = "cpaas-system"


def configmap(name: str, value: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": NS},
            "data": {"k": value}}


def requests_to(sb: Any, suffix: str) -> list[Any]:
    return [r for r in sb.recorder.requests if r.path.endswith(suffix)]


def test_changes_arrive_by_watch_after_one_list(sandbox_factory: Callable[..., Any]) -> None:
    sb = sandbox_factory()
    with KubeClient(sb.kubeconfig_path) as kube:
        cache = kube.cache
        served = cache.served({"ConfigMap": "v1"}, Deadline(30))
        snap, version = cache.snapshot(served, [NS], Deadline(30))
        assert "probe" not in {c["metadata"]["name"] for c in snap["ConfigMap"]}
        for n in range(3):
            sb.api.apply_object(configmap("probe", str(n)))
            deadline = Deadline(30)
            while True:  # a change may take more than one event (create, then update)
                assert cache.wait_changed(version, deadline), "no change arrived"
                snap, version = cache.snapshot(served, [NS], deadline)
                probe = [c for c in snap["ConfigMap"] if c["metadata"]["name"] == "probe"]
                if probe and probe[0]["data"]["k"] == str(n):
                    break
        lists = [r for r in requests_to(sb, f"/namespaces/{NS}/configmaps") if "watch" not in r.query]
        assert len(lists) == 1, lists
        # waiting on a quiet cache asks the server nothing
        before = sb.recorder.api_requests_served
        assert not cache.wait_changed(version, Deadline(0.3))
        assert sb.recorder.api_requests_served == before
        threads = [i.thread for i in cache._informers.values()]
    assert threads and not any(t.is_alive() for t in threads)


def test_a_kind_not_served_is_asked_about_once_until_something_changes(
        sandbox_factory: Callable[..., Any]) -> None:
    sb = sandbox_factory()
    with KubeClient(sb.kubeconfig_path) as kube:
        cache = kube.cache
        kinds = {"Widget": "example.com/v1", "OtherWidget": "example.com/v1"}
        assert cache.served(kinds, Deadline(30)) == []
        asked = len(requests_to(sb, "/apis/example.com/v1"))
        assert asked == 1  # both kinds of the group version, one request
        for _ in range(5):
            assert cache.served(kinds, Deadline(30)) == []
        assert len(requests_to(sb, "/apis/example.com/v1")) == asked
        assert cache.served(kinds, Deadline(30), recheck=True) == []
        assert len(requests_to(sb, "/apis/example.com/v1")) == asked + 1
        assert len(requests_to(sb, "/apis")) == 1  # the whole discovery, never thrown away
