"""The install report (``<workdir>/report.html``): written by every run, rebuilt by ``report``.

One install against the sandbox in two runs (``--until manifest``, then a run the installer
fails in ``monitor``), with canary secrets. The page is checked as text (phases, the failed
phase, each object the sandbox saw applied, the exact commands, no secret, nothing fetched)
and as a person sees it: rendered once in headless Chromium over the DevTools protocol, with a
screenshot, DOM assertions and no console error.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from acp_install.cli.main import main
from acp_install.engine.phases import PHASE_NAMES
from acp_install.report import build_report
from acp_install.testing.canaries import Canaries, new_canary
from acp_install_sandbox import Sandbox

from specs import example, write
from support import HTTP

FAST = ["--poll-interval", "0.1", "--timeout-scale", "0.05", "--accept-example-values"]


@pytest.fixture(scope="module")
def failed_install(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A work directory after ``--until manifest`` and then a run failed in ``monitor``."""
    from acp_install_sandbox.pytest_plugin import start_sandbox

    tmp = tmp_path_factory.mktemp("report")
    values = {"ACP_ADMIN_PASSWORD": new_canary(), "DCS_AUTH_KEY": new_canary()}
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    sb: Sandbox = start_sandbox(scenario="installer-fail", speed=1000)
    try:
        spec = write(tmp / "spec.yaml", example("dcs"))
        work = tmp / "work"
        common = ["install", "-f", str(spec), "--kubeconfig", str(sb.kubeconfig_path),
                  "--workdir", str(work), "--no-color", *FAST]
        first = main([*common, "--until", "manifest"])
        after_first = (work / "report.html").read_text()
        second = main(common)
        writes = sorted({f"{w.kind}/{w.name}" for w in sb.recorder.writes if w.manager == "acp-install"})
        yield {"spec": spec, "work": work, "codes": (first, second), "after_first": after_first,
               "writes": writes, "kubeconfig": str(sb.kubeconfig_path),
               "canaries": Canaries(spec, {f"env ${k}": v for k, v in values.items()})}
    finally:
        sb.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_every_run_writes_the_report(failed_install: dict[str, Any]) -> None:
    work: Path = failed_install["work"]
    assert failed_install["codes"] == (0, 11)  # stopped at --until, then InstallerFailed
    page = work / "report.html"
    assert stat.S_IMODE(page.stat().st_mode) == 0o600
    first = failed_install["after_first"]
    assert 'id="outcome">stopped<' in first and "Install stopped" in first
    text = page.read_text()
    assert 'id="outcome">failed<' in text and "Install failed in phase monitor" in text
    assert text != first


def test_report_content(failed_install: dict[str, Any]) -> None:
    text = (failed_install["work"] / "report.html").read_text()
    for phase in PHASE_NAMES:
        assert f'data-phase="{phase}"' in text
    row = re.search(r'<tr class="phase (\w+)" data-phase="monitor" data-status="(\w+)">', text)
    assert row is not None and row.groups() == ("failed", "failed")
    assert 'data-phase="verify" data-status="pending"' in text
    assert '<rect class="bar failed" data-phase="monitor"' in text
    assert text.count('class="run-label"') == 2  # two runs side by side in the timeline
    # every object the sandbox saw acp-install write is listed, with its outcome
    writes = failed_install["writes"]
    assert writes and all(f"<code>{ref}" in text for ref in writes), writes
    assert re.search(r'class="outcome-created">created<', text)
    # the installer's stages and the diagnosis, in the words the run printed
    assert "install request accepted by" in text and "Platform installation failed" in text
    assert 'class="finding error"' in text and "exit code 11" in text
    # the exact commands: this spec, this kubeconfig, this work directory
    resume = f"acp-install install -f {failed_install['spec']} --kubeconfig {failed_install['kubeconfig']} " \
             f"--workdir {failed_install['work']}"
    assert resume in text
    assert f"acp-install gather --workdir {failed_install['work']}" in text
    assert "Traceback" not in text and "InstallerFailed" not in text


def test_report_is_self_contained_and_holds_no_secret(failed_install: dict[str, Any]) -> None:
    text = (failed_install["work"] / "report.html").read_text()
    failed_install["canaries"].assert_absent(text, "report.html")
    lowered = text.lower()
    assert "<script" not in lowered and "<link" not in lowered and "<img" not in lowered
    assert not re.search(r"\b(src|href)\s*=", lowered) and "url(" not in lowered and "@import" not in lowered
    assert "default-src 'none'" in text  # and the browser is told so


def test_report_command_rebuilds_the_page(failed_install: dict[str, Any], tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    work = tmp_path / "copy"
    shutil.copytree(failed_install["work"] / ".acp-install", work / ".acp-install")
    assert main(["report", "--workdir", str(work)]) == 0
    assert "report.html" in capsys.readouterr().err
    rebuilt = (work / "report.html").read_text()
    assert "Install failed in phase monitor" in rebuilt
    assert main(["report", "--workdir", str(work), "--out", "-"]) == 0
    assert capsys.readouterr().out.startswith("<!DOCTYPE html>")
    out = tmp_path / "elsewhere.html"
    assert main(["report", "--workdir", str(work), "--out", str(out)]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and "data-phase=\"monitor\"" in out.read_text()


def test_report_command_refuses_a_directory_without_an_install(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--workdir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no install has run there" in err and "Traceback" not in err
    assert not (tmp_path / "report.html").exists()


def test_report_of_a_killed_run_and_a_damaged_log(tmp_path: Path) -> None:
    """A run killed mid-phase wrote no end: its phase shows running; a cut line is skipped."""
    state_dir = tmp_path / ".acp-install"
    state_dir.mkdir()
    (state_dir / "state.json").write_text(json.dumps({
        "version": 1, "provider": "x", "phases": {
            "bootstrap": {"status": "finished", "outcome": "done", "started": 100.0, "finished": 101.0},
            "push": {"status": "running", "started": 101.0}}}))
    lines = [{"event": "phase-started", "phase": "bootstrap", "index": 1, "total": 9, "time": 100.0},
             {"event": "phase-finished", "phase": "bootstrap", "outcome": "done", "elapsed": 1.0, "time": 101.0},
             {"event": "phase-started", "phase": "push", "index": 2, "total": 9, "time": 101.0},
             {"event": "warning", "message": "<b>same</b> warning", "phase": "push", "time": 102.0},
             {"event": "warning", "message": "<b>same</b> warning", "phase": "push", "time": 103.0}]
    (state_dir / "events.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + '\n{"event": "pha')
    text = build_report(tmp_path)
    assert 'id="outcome">unfinished<' in text
    assert '<rect class="bar running" data-phase="push"' in text
    assert 'data-phase="push" data-status="running"' in text
    assert text.count("&lt;b&gt;same&lt;/b&gt; warning") == 1 and "seen 2 times" in text
    assert "<b>same</b>" not in text  # escaped, never markup


# --- as a person sees it -------------------------------------------------------------------------

def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class _Page:
    """A page target over the DevTools protocol (websocket-client, a kubernetes dependency)."""

    def __init__(self, url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                result: dict[str, Any] = message.get("result", {})
                return result
            self.events.append(message)

    def wait_for(self, method: str) -> None:
        while not any(e.get("method") == method for e in self.events):
            self.events.append(json.loads(self.ws.recv()))


def _devtools_port(user_data: Path, proc: subprocess.Popen[bytes]) -> int:
    """The port Chromium chose (``--remote-debugging-port=0``), from its DevToolsActivePort file."""
    marker = user_data / "DevToolsActivePort"
    while True:
        if marker.exists():
            first = marker.read_text().splitlines()[:1]
            if first and first[0].isdigit():
                return int(first[0])
        try:
            proc.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            continue
        raise AssertionError(f"chromium exited ({proc.returncode}): {proc.stderr.read().decode()[-2000:]}"
                             if proc.stderr else "chromium exited")


_DOM_FACTS = """JSON.stringify({
  rows: [...document.querySelectorAll('#phases tr[data-phase]')].map(r => r.dataset.phase),
  failed: [...document.querySelectorAll('#phases tr.failed')].map(r => r.dataset.phase),
  failedBg: getComputedStyle(document.querySelector('#phases tr.failed td')).backgroundColor,
  failedBar: getComputedStyle(document.querySelector('rect.bar.failed')).fill,
  bars: document.querySelectorAll('#timeline rect.bar').length,
  chartWidth: document.querySelector('#timeline').getBoundingClientRect().width,
  outcome: document.querySelector('#outcome').textContent,
  commands: [...document.querySelectorAll('#commands pre')].map(p => p.textContent),
  overflow: document.documentElement.scrollWidth > window.innerWidth,
  resources: performance.getEntriesByType('resource').length
})"""


def test_report_in_headless_chromium(failed_install: dict[str, Any], tmp_path: Path) -> None:
    """One launch: load the page, read the DOM, take a screenshot, collect console errors."""
    browser = _chromium()
    if browser is None:
        pytest.skip("no Chromium on this machine (.ci/run installs Debian's chromium when apt works)")
    page_file = failed_install["work"] / "report.html"
    user_data = tmp_path / "profile"
    user_data.mkdir()
    proc = subprocess.Popen(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--no-default-browser-check", f"--user-data-dir={user_data}",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
         "--window-size=1280,1600", "about:blank"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        port = _devtools_port(user_data, proc)
        targets = HTTP.get(f"http://127.0.0.1:{port}/json/list", timeout=60).json()
        target = next(t for t in targets if t.get("type") == "page")
        page = _Page(target["webSocketDebuggerUrl"])
        for domain in ("Page", "Runtime", "Log"):
            page.call(f"{domain}.enable")
        page.call("Page.navigate", url=page_file.as_uri())
        page.wait_for("Page.loadEventFired")
        facts = json.loads(page.call("Runtime.evaluate", expression=_DOM_FACTS,
                                     returnByValue=True)["result"]["value"])
        shot = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        png = base64.b64decode(shot["data"])
        (tmp_path / "report.png").write_bytes(png)
        page.call("Runtime.evaluate", expression="1")  # flush the events queued before it
        page.ws.close()
    finally:
        proc.kill()
        proc.wait()
    errors = [e for e in page.events
              if (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert"))
              or e.get("method") == "Runtime.exceptionThrown"
              or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")]
    assert errors == []
    assert facts["rows"] == list(PHASE_NAMES)
    assert facts["failed"] == ["monitor"] and facts["outcome"] == "failed"
    red, green, blue = (int(x) for x in re.findall(r"\d+", facts["failedBg"])[:3])
    assert red > green and red > blue, facts["failedBg"]  # the failed row is tinted red
    assert facts["failedBar"].startswith("rgb(207, 34, 46)"), facts["failedBar"]
    assert facts["bars"] >= 7 and facts["chartWidth"] > 600
    assert any(c.startswith("acp-install install -f ") for c in facts["commands"])
    assert not facts["overflow"], "the page scrolls sideways at 1280 px"
    assert facts["resources"] == 0  # nothing fetched
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_report_writer_failure_does_not_fail_the_run(failed_install: dict[str, Any],
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    """The engine's report is best effort: a broken page builder leaves the install's result alone."""
    import logging

    import acp_install.report as report
    from acp_install.engine.core import Engine

    def broken(workdir: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(report, "write_report", broken)
    engine = Engine.__new__(Engine)
    engine.workdir = failed_install["work"]
    with caplog.at_level(logging.DEBUG, logger="acp_install.engine.core"):
        engine._write_report()  # no exception
    assert "install report not written" in caplog.text
