"""The install report: ``<workdir>/report.html``, one self-contained page about an install.

Why a page and not more terminal output: the person who reads it is often not the one who ran
the install (a colleague taking over, a support engineer, the change review after the fact),
and a terminal's scrollback is gone by then. The engine writes it at the end of every run;
``acp-install report`` rebuilds it at any time (a run killed with SIGKILL wrote none).

It is built only from what the work directory already holds: the state file (phase status,
times, errors, installer notes) and the event log (``events.jsonl``, every event of every run,
already redacted by the engine). Both hold no secret value by construction, and every text of
the page is HTML-escaped. The page fetches nothing: CSS and the timeline chart (SVG) are inline
and there is no script at all, so it opens the same on an air-gapped bootstrap host, from a
support ticket attachment, or from a file share.

The words are the live view's (:func:`acp_install.cli.view.describe`), so the page says what
the terminal said.
"""

from __future__ import annotations

import datetime
import html
import json
import os
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from .engine.state import STATE_DIR, events_path, read_state

REPORT_FILE = "report.html"

#: Phase status -> (CSS class, words). ``pending``: no run has reached it yet.
_STATUS_WORDS = {"finished": "finished", "failed": "FAILED", "interrupted": "interrupted",
                 "running": "running (or the run was killed)", "pending": "not started"}
_OUTCOME_WORDS = {"done": "done", "already-done": "already done, nothing changed",
                  "skipped": "skipped (finished earlier)"}
_OBJECT = re.compile(r"^(created|updated|unchanged) (.+)$")
_CLASS_PREFIX = re.compile(r"^[A-Z][A-Za-z]+(Error|Diagnosed|Stall|Timeout|Interrupted)?: ")


def report_path(workdir: str | os.PathLike[str]) -> Path:
    return Path(workdir) / REPORT_FILE


@attrs.frozen
class Attempt:
    """One phase in one run: from its start to its end (``end`` None: it never ended)."""

    run: int
    phase: str
    start: float
    end: float | None
    outcome: str  # done | already-done | failed | interrupted | running


@attrs.frozen
class Run:
    """One ``acp-install install`` run as the event log tells it."""

    number: int
    start: float
    end: float
    outcome: str  # complete | stopped | failed | interrupted | unfinished
    exit_code: int | None
    phase: str
    message: str


@attrs.define
class _Log:
    runs: list[Run] = attrs.Factory(list)
    attempts: list[Attempt] = attrs.Factory(list)
    objects: dict[str, tuple[str, str, float]] = attrs.Factory(dict)  # ref -> (outcome, phase, t)
    stages: list[tuple[float, str, str]] = attrs.Factory(list)  # (time, phase, text)
    warnings: dict[str, tuple[float, int, str]] = attrs.Factory(dict)  # text -> (first, n, phase)


def _events(workdir: str | os.PathLike[str]) -> Iterable[dict[str, Any]]:
    """Every event of the log, oldest first (the rotated older file before the current one)."""
    current = events_path(workdir)
    for path in (current.with_suffix(".1.jsonl"), current):
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            try:
                data = json.loads(line)
            except ValueError:  # a line cut by a crash mid-write
                continue
            if isinstance(data, dict) and isinstance(data.get("time"), int | float):
                yield data


def _read_log(workdir: str | os.PathLike[str]) -> _Log:
    from .cli.view import describe, event_from_dict
    from .engine.events import EngineWarning, PhaseFinished, PhaseProgress, PhaseStarted, RunFinished

    log = _Log()
    number, run_start = 1, None
    open_phase: dict[str, float] = {}
    for data in _events(workdir):
        try:
            event = event_from_dict(data)
        except Exception:  # fields this version cannot read: the line is skipped
            continue
        if event is None:
            continue
        t = float(data["time"])
        if run_start is None:
            run_start = t
        if isinstance(event, PhaseStarted):
            open_phase[event.phase] = t
        elif isinstance(event, PhaseFinished):
            if event.outcome != "skipped":
                log.attempts.append(Attempt(number, event.phase, open_phase.pop(event.phase, t),
                                            t, event.outcome))
        elif isinstance(event, PhaseProgress):
            match = _OBJECT.match(event.message)
            if match:
                log.objects[match.group(2)] = (match.group(1), event.phase, t)
            if event.phase in ("installer", "monitor") and not event.message.startswith("waiting "):
                fact = describe(event)
                log.stages.append((t, event.phase, fact.text if fact else event.message))
        elif isinstance(event, EngineWarning):
            first, count, phase = log.warnings.get(event.message, (t, 0, event.phase))
            log.warnings[event.message] = (first, count + 1, phase)
        elif isinstance(event, RunFinished):
            for phase, began in open_phase.items():
                ended = "failed" if event.outcome == "failed" else "interrupted"
                log.attempts.append(Attempt(number, phase, began, t, ended))
            open_phase.clear()
            log.runs.append(Run(number, run_start, t, event.outcome,
                                event.exit_code, event.phase, event.message))
            number, run_start = number + 1, None
    if run_start is not None:  # the last run never said it ended: killed, or still running
        end = max([run_start, *open_phase.values()])
        for phase, began in open_phase.items():
            log.attempts.append(Attempt(number, phase, began, None, "running"))
        log.runs.append(Run(number, run_start, end, "unfinished", None, "", ""))
    return log


# -- rendering ----------------------------------------------------------------------------------

def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _when(ts: float | None) -> str:
    if not ts:
        return ""
    return datetime.datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


def _clock(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts).astimezone().strftime("%H:%M:%S")


def _took(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def _plain(message: str) -> str:
    """An error as the state keeps it (``StallDiagnosed: ...``) without the class name."""
    return _CLASS_PREFIX.sub("", message, count=1)


def _chart(phases: Sequence[str], titles: Mapping[str, str], log: _Log,
           status: Mapping[str, str]) -> str:
    """The phase timeline: one row per phase, one bar per attempt, runs side by side.

    Each run gets a width proportional to its duration (and at least a tenth of the chart), so
    a resume the next morning does not squeeze every bar into a hair line.
    """
    label_w, row_h, width, top = 150, 26, 960, 28
    plot_w = width - label_w - 70
    height = top + row_h * len(phases) + 30
    runs = log.runs
    durations = [max(r.end - r.start, 1e-3) for r in runs]
    total = sum(durations) or 1.0
    widths = [max(d / total, 0.1 if len(runs) > 1 else 1.0) for d in durations]
    scale = sum(widths) or 1.0
    widths = [w / scale * plot_w for w in widths]
    offsets = [label_w + sum(widths[:i]) for i in range(len(runs))]
    by_run = {r.number: (r, offsets[i], widths[i]) for i, r in enumerate(runs)}
    parts = [f'<svg id="timeline" role="img" aria-label="phase timeline" viewBox="0 0 {width} '
             f'{height}" width="100%" xmlns="http://www.w3.org/2000/svg">']
    for i, name in enumerate(phases):
        y = top + i * row_h
        cls = "row-failed" if status.get(name) == "failed" else ""
        if i % 2 == 0:
            parts.append(f'<rect class="band" x="0" y="{y}" width="{width}" height="{row_h}"/>')
        parts.append(f'<text class="label {cls}" x="{label_w - 8}" y="{y + row_h / 2 + 4}" '
                     f'text-anchor="end">{_e(name)}</text>')
    for i, run in enumerate(runs):
        x = offsets[i]
        parts.append(f'<line class="run-sep" x1="{x:.1f}" y1="{top - 14}" x2="{x:.1f}" '
                     f'y2="{height - 24}"/>')
        parts.append(f'<text class="run-label" x="{x + 4:.1f}" y="{top - 8}">run {run.number} · '
                     f'{_clock(run.start)}</text>')
    for a in log.attempts:
        if a.run not in by_run or a.phase not in phases:
            continue
        run, x0, w = by_run[a.run]
        span = max(run.end - run.start, 1e-3)
        end = a.end if a.end is not None else run.end
        x = x0 + (a.start - run.start) / span * w
        bar = max((end - a.start) / span * w, 4.0)
        y = top + phases.index(a.phase) * row_h + 5
        took = _took(end - a.start)
        title = f"{a.phase}: {_OUTCOME_WORDS.get(a.outcome, a.outcome)} · run {a.run} · " \
                f"{_clock(a.start)} · {took}"
        parts.append(f'<rect class="bar {a.outcome}" data-phase="{_e(a.phase)}" x="{x:.1f}" '
                     f'y="{y}" width="{bar:.1f}" height="{row_h - 10}" rx="3">'
                     f'<title>{_e(title)}</title></rect>')
        parts.append(f'<text class="took" x="{x + bar + 4:.1f}" y="{y + row_h / 2}">{took}</text>')
    if not runs:
        parts.append(f'<text class="empty" x="{label_w}" y="{top + 20}">no run recorded yet</text>')
    parts.append(f'<text class="axis" x="{label_w}" y="{height - 8}">time → (each run scaled '
                 'to its own length; hover a bar for its start and duration)</text>')
    parts.append("</svg>")
    del titles
    return "".join(parts)


def _table(head: Sequence[str], rows: Iterable[str], table_id: str, empty: str) -> str:
    body = "".join(rows)
    if not body:
        return f'<p class="none" id="{table_id}">{_e(empty)}</p>'
    cols = "".join(f"<th>{_e(h)}</th>" for h in head)
    return f'<table id="{table_id}"><thead><tr>{cols}</tr></thead><tbody>{body}</tbody></table>'


def _commands(workdir: Path, state: Mapping[str, Any], complete: bool) -> list[tuple[str, str]]:
    """The exact commands for what comes next, from the paths the last run recorded."""
    run = state.get("run") or {}
    spec = run.get("spec") or "SPEC.yaml"
    kube = run.get("kubeconfig")
    wd = shlex.quote(str(workdir))
    kube_arg = f" --kubeconfig {shlex.quote(kube)}" if kube else ""
    spec_arg = shlex.quote(spec)
    commands = []
    if not complete:
        commands.append(("Resume the install (finished phases are skipped; the installer "
                         "request is never sent twice)",
                         f"acp-install install -f {spec_arg}{kube_arg} --workdir {wd}"))
    commands.append(("Live status of the phases, the cluster objects and the installer",
                     f"acp-install status --workdir {wd}{kube_arg}"))
    commands.append(("Collect a diagnostics bundle for a support ticket",
                     f"acp-install gather --workdir {wd}{kube_arg} -f {spec_arg}"))
    if complete:
        commands.append(("May the bootstrap host be decommissioned? (hand-off check)",
                         f"acp-install handoff-check -f {spec_arg}{kube_arg}"))
    commands.append(("Rebuild this report", f"acp-install report --workdir {wd}"))
    return commands


_CSS = """
:root{--ok:#1a7f37;--ok2:#5cb176;--bad:#cf222e;--warn:#bf8700;--run:#0969da;--mute:#6e7781;
--line:#d0d7de;--bg:#f6f8fa}
*{box-sizing:border-box}
body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1f2328;
margin:0;background:#fff}
header{padding:18px 28px;border-bottom:1px solid var(--line);background:var(--bg)}
header h1{margin:0 0 6px;font-size:20px}
main{padding:8px 28px 40px;max-width:1200px}
h2{font-size:16px;margin:26px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--line)}
.meta{color:var(--mute);margin:0}.meta b{color:#1f2328;font-weight:600}
.badge{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:600;color:#fff;
margin-right:8px;vertical-align:1px}
.badge.complete{background:var(--ok)}.badge.failed{background:var(--bad)}
.badge.stopped,.badge.interrupted,.badge.unfinished{background:var(--warn)}
.badge.none{background:var(--mute)}
table{border-collapse:collapse;width:100%;margin:4px 0}
th,td{text-align:left;padding:5px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--bg);font-weight:600;white-space:nowrap}
td.t{white-space:nowrap;color:var(--mute);font-variant-numeric:tabular-nums}
tr.failed td{background:#ffebe9}tr.failed td.status{color:var(--bad);font-weight:700}
tr.interrupted td,tr.running td{background:#fff8c5}
tr.pending td{color:var(--mute)}
td.status.finished{color:var(--ok)}
code,pre{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:#f6f8fa;border:1px solid var(--line);border-radius:6px;padding:8px 12px;margin:4px 0 12px;
white-space:pre-wrap;word-break:break-all}
.cmd p{margin:10px 0 2px}
.finding{border-left:4px solid var(--warn);background:#fff8c5;padding:6px 12px;margin:6px 0;border-radius:0 6px 6px 0}
.finding.error{border-color:var(--bad);background:#ffebe9}
.finding .t{color:var(--mute);font-size:12px}
.none{color:var(--mute)}
.outcome-created{color:var(--ok);font-weight:600}.outcome-updated{color:var(--run);font-weight:600}
.outcome-unchanged{color:var(--mute)}
svg text{font:12px -apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:#1f2328}
svg .band{fill:#f6f8fa}svg .label{font-weight:600}svg .label.row-failed{fill:var(--bad)}
svg .run-sep{stroke:var(--line);stroke-dasharray:4 3}svg .run-label,svg .axis,svg .took{fill:var(--mute);font-size:11px}
svg .bar.done{fill:var(--ok)}svg .bar.already-done{fill:var(--ok2)}svg .bar.failed{fill:var(--bad)}
svg .bar.interrupted{fill:var(--warn)}svg .bar.running{fill:var(--run)}
.legend span{display:inline-block;margin-right:14px;color:var(--mute);font-size:12px}
.legend i{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:5px;vertical-align:-1px}
"""


def build_report(workdir: str | os.PathLike[str]) -> str:
    """The report page of the install in ``workdir``, as HTML text (nothing is written)."""
    from .cli.view import phase_titles
    from .engine.phases import PHASE_NAMES

    workdir = Path(workdir)
    state = read_state(workdir) or {}
    log = _read_log(workdir)
    titles = phase_titles()
    phases = list(PHASE_NAMES)
    entries: Mapping[str, Any] = state.get("phases") or {}
    status = {p: str((entries.get(p) or {}).get("status") or "pending") for p in phases}
    complete = bool(entries) and all(s == "finished" for s in status.values())
    last = log.runs[-1] if log.runs else None
    if complete:
        badge, headline = "complete", "Install complete"
    elif any(s == "failed" for s in status.values()):
        failed = next(p for p in phases if status[p] == "failed")
        badge, headline = "failed", f"Install failed in phase {failed}"
    elif last is not None:
        badge = last.outcome if last.outcome in ("stopped", "interrupted") else "unfinished"
        running = next((p for p in phases if status[p] in ("running", "interrupted")), "")
        headline = {"stopped": "Install stopped (--until reached)",
                    "interrupted": f"Install interrupted in phase {running}"}.get(
            badge, "Install unfinished (running now, or the run was killed)")
    else:
        badge, headline = "none", "No install has run in this work directory yet"

    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           # no network, ever: the policy says so to the browser too
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
           "style-src 'unsafe-inline'; img-src data:\">",
           f"<title>acp-install report: {_e(headline)}</title><style>{_CSS}</style></head><body>"]
    installer = state.get("installer") or {}
    server = (state.get("tls") or {}).get("server", "")
    out.append(f'<header><h1><span class="badge {badge}" id="outcome">{_e(badge)}</span>'
               f"{_e(headline)}</h1><p class=\"meta\">provider <b>{_e(state.get('provider', '?'))}"
               f"</b> · bootstrap cluster <b>{_e(server or '?')}</b> · installer <b>"
               f"{_e(installer.get('address', 'not found yet'))}</b> · work directory <b>"
               f"{_e(workdir)}</b> · {len(log.runs)} run(s) · report built "
               f"{_e(_when(datetime.datetime.now().timestamp()))}</p></header><main>")

    # what to do next first: that is what the reader came for
    out.append('<h2>Next steps</h2><div class="cmd" id="commands">')
    for why, command in _commands(workdir, state, complete):
        out.append(f"<p>{_e(why)}</p><pre>{_e(command)}</pre>")
    out.append("</div>")

    out.append('<h2>Phase timeline</h2><div class="legend">'
               + "".join(f'<span><i style="background:var({v})"></i>{_e(k)}</span>'
                         for k, v in (("done", "--ok"), ("already done", "--ok2"),
                                      ("failed", "--bad"), ("interrupted", "--warn"),
                                      ("running / killed", "--run")))
               + "</div>" + _chart(phases, titles, log, status))

    rows = []
    for p in phases:
        entry = entries.get(p) or {}
        st = status[p]
        began = entry.get("started")
        ended = entry.get("finished") or entry.get("failed")
        took = _took(ended - began) if began and ended and ended >= began else ""
        note = _OUTCOME_WORDS.get(entry.get("outcome", ""), "") if st == "finished" else \
            _plain(str(entry.get("error") or ""))
        rows.append(f'<tr class="phase {st}" data-phase="{_e(p)}" data-status="{_e(st)}">'
                    f"<td><b>{_e(p)}</b></td><td>{_e(titles.get(p, ''))}</td>"
                    f'<td class="status {st}">{_e(_STATUS_WORDS.get(st, st))}</td>'
                    f"<td>{_e(note)}</td><td class=\"t\">{_e(_when(began))}</td>"
                    f"<td class=\"t\">{_e(took)}</td></tr>")
    out.append("<h2>Phases</h2>" + _table(("phase", "what it does", "status", "outcome / error",
                                            "last started", "took"), rows, "phases", ""))

    out.append('<h2>Findings and diagnoses</h2><div id="findings">')
    findings = 0
    for run in log.runs:
        if run.outcome in ("failed", "interrupted") and run.message:
            findings += 1
            where = f" in phase {run.phase}" if run.phase else ""
            code = f", exit code {run.exit_code}" if run.exit_code is not None else ""
            out.append(f'<div class="finding error"><div class="t">run {run.number} '
                       f"{_e(run.outcome)}{_e(where)}{_e(code)} · {_e(_when(run.end))}</div>"
                       f"<pre>{_e(run.message)}</pre></div>")
    for text, (first, count, phase) in sorted(log.warnings.items(), key=lambda kv: kv[1][0]):
        findings += 1
        times = f" · seen {count} times" if count > 1 else ""
        out.append(f'<div class="finding"><div class="t">warning{_e(" in " + phase if phase else "")}'
                   f" · first {_e(_when(first))}{_e(times)}</div>{_e(text)}</div>")
    if not findings:
        out.append('<p class="none">No warning and no error in any run.</p>')
    out.append("</div>")

    out.append("<h2>Installer stages</h2>" + _table(
        ("time", "phase", "what the installer said"),
        (f'<tr><td class="t">{_e(_when(t))}</td><td>{_e(p)}</td><td>{_e(text)}</td></tr>'
         for t, p, text in log.stages), "stages", "The installer request has not been sent yet."))

    out.append(f"<h2>Objects applied ({len(log.objects)})</h2>" + _table(
        ("object", "phase", "outcome (latest run)", "time"),
        (f'<tr><td><code>{_e(ref)}</code></td><td>{_e(phase)}</td>'
         f'<td class="outcome-{_e(what)}">{_e(what)}</td><td class="t">{_e(_when(t))}</td></tr>'
         for ref, (what, phase, t) in log.objects.items()), "objects",
        "No object applied yet."))

    out.append("<h2>Runs</h2>" + _table(
        ("run", "started", "ended", "outcome", "exit code"),
        (f'<tr class="{"failed" if r.outcome == "failed" else ""}"><td>{r.number}</td>'
         f'<td class="t">{_e(_when(r.start))}</td><td class="t">{_e(_when(r.end))}</td>'
         f"<td>{_e(r.outcome)}{_e(' in ' + r.phase if r.phase else '')}</td>"
         f"<td>{'' if r.exit_code is None else r.exit_code}</td></tr>" for r in log.runs),
        "runs", "No run recorded."))
    out.append(f'<p class="none">Built from {_e(STATE_DIR)}/state.json and {_e(STATE_DIR)}/'
               "events.jsonl; no secret value is stored in either. This page loads nothing "
               "from the network.</p></main></body></html>")
    return "\n".join(out) + "\n"


def write_report(workdir: str | os.PathLike[str]) -> Path:
    """Write ``<workdir>/report.html`` (0600, atomically) and return its path."""
    path = report_path(workdir)
    text = build_report(workdir)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
    return path
