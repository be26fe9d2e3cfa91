"""Requests per install are a count, not a function of time (issue 13).

The engine judges gates from an informer-style cache (each kind listed once, then watched) and
asks discovery about a kind once, so a slow sandbox — every wait longer — costs no more
requests than a fast one. Polled gates cost 17-24 requests per poll: a Bare Metal install took
188 requests at sandbox speed 20, 307 at speed 5 and 819 at speed 1.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from acp_install.cli.main import main


def install_counts(capsys: pytest.CaptureFixture[str], provider: str, speed: int) -> dict[str, Any]:
    rc = main(["install", "--sandbox", "--provider", provider, "--speed", str(speed), "-o", "json"])
    out = capsys.readouterr().out
    assert rc == 0, out[-3000:]
    result = json.loads(out.splitlines()[-1])
    assert result["complete"] is True
    counts: dict[str, Any] = result["sandbox"]
    return counts


def test_a_slow_bare_metal_install_makes_no_more_requests_than_its_objects_need(
        capsys: pytest.CaptureFixture[str], canaries: dict[str, str]) -> None:
    # speed 20 (the CLI's default; the tests' sandboxes run at 1000): polling gates made
    # 188 requests here, 307 at speed 5
    counts = install_counts(capsys, "baremetal", 20)
    assert 40 <= counts["api_requests_served"] <= 150, counts
    assert counts["installer_requests"] == 1


def test_gate_kinds_are_listed_once_and_discovery_is_not_thrown_away(
        capsys: pytest.CaptureFixture[str], canaries: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from acp_install_sandbox import Recorder

    seen: list[Recorder] = []
    real_init = Recorder.__init__

    def keep(self: Recorder, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        seen.append(self)

    monkeypatch.setattr(Recorder, "__init__", keep)
    install_counts(capsys, "baremetal", 50)
    requests = seen[0].requests
    # the whole discovery (/version, /apis) is read once, never again after a kind is missed
    assert sum(1 for r in requests if r.path == "/apis") == 1
    assert sum(1 for r in requests if r.path == "/version") <= 2  # the client and the identity check
    # a gate kind (MachineInventory) is listed once (then watched), whatever the gate waited
    lists = [r for r in requests if r.method == "GET" and r.path.endswith("/machineinventories")
             and "watch=" not in r.query]
    assert len(lists) == 1, lists
    # package CRDs are read until found, not on every snapshot
    crd_reads = [r for r in requests if "/customresourcedefinitions/machineinventories" in r.path]
    assert len(crd_reads) <= 4, crd_reads
