"""How the engine's events look to a person: the one place that words them.

Three layers, so every command (and a report built later from the JSON event log) shows the
same words:

- :func:`describe` turns one event into a :class:`Fact` (severity, phase, text) or nothing.
  It is pure: it reads the event only, so it works as well on events read back from
  ``install -o json`` lines (:func:`event_from_dict`) as on live ones.
- :class:`PlainView` prints each fact as one line with an ISO 8601 wall-clock time (to line up
  with ``installer.log``) and the elapsed time of the run; no colour, no redraw. Used when the
  output is not a terminal, with ``NO_COLOR`` set, or with ``--no-color``.
- :class:`LiveView` (terminals) keeps a phase list (done / running / pending, elapsed per phase)
  and the current wait redrawn in place with ``rich``, coloured by severity, and collects the
  warnings to show each once.

``rich`` is imported by :class:`LiveView` only, so ``--help``, ``--version`` and ``render``
never load it. A new engine event needs one branch in :func:`describe`; both views follow.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TextIO

import attrs
import click

if TYPE_CHECKING:
    from ..engine import Event

Severity = Literal["start", "info", "detail", "ok", "warning", "error"]

#: Verbosity: ``-q`` is QUIET, ``-v`` VERBOSE.
QUIET, NORMAL, VERBOSE = -1, 0, 1

_FINISHED_WORDS = {"done": "done", "already-done": "already done, nothing changed",
                   "skipped": "finished in an earlier run, skipped"}


@attrs.frozen
class Fact:
    """One thing that happened, in words; ``time`` is the event's wall-clock time."""

    severity: Severity
    phase: str
    text: str
    time: float


def phase_titles() -> dict[str, str]:
    """Phase name -> title, from the engine's phase list (phases other helpers add included)."""
    from ..engine.phases import PHASES

    return {p.name: p.title for p in PHASES}


def _count(event: Any) -> str:
    """`` (3/7 objects)`` when the event counts and its message does not say it already."""
    if event.ready is None or not event.total or event.unit in ("", "percent", "replicas"):
        return ""
    return f" ({event.ready}/{event.total} {event.unit})"


def describe(event: Event, titles: Mapping[str, str] | None = None) -> Fact | None:
    """The words of one event (None: nothing to say, e.g. the run's end, which the summary says).

    ``detail`` facts (an object applied unchanged) are shown with ``-v`` only.
    """
    from ..engine import EngineWarning, PhaseFinished, PhaseProgress, PhaseStarted, RunFinished

    if isinstance(event, PhaseStarted):
        title = (titles or {}).get(event.phase, "")
        return Fact("start", event.phase, f"{event.phase} ({event.index}/{event.total})"
                    + (f": {title}" if title else ""), event.time)
    if isinstance(event, PhaseProgress):
        severity: Severity = "detail" if event.message.startswith("unchanged ") else "info"
        return Fact(severity, event.phase, event.message + _count(event), event.time)
    if isinstance(event, PhaseFinished):
        took = f" in {event.elapsed:.1f}s" if event.outcome != "skipped" else ""
        return Fact("ok", event.phase,
                    f"{_FINISHED_WORDS.get(event.outcome, event.outcome)}{took}", event.time)
    if isinstance(event, EngineWarning):
        return Fact("warning", event.phase, event.message, event.time)
    if isinstance(event, RunFinished):
        return None  # the summary line or the error message says it
    # an event type added since: its message, if it has one, rather than nothing
    message = getattr(event, "message", "")
    if not isinstance(message, str) or not message:
        return None
    return Fact("info", str(getattr(event, "phase", "") or ""), message,
                float(getattr(event, "time", 0.0) or 0.0))


def event_from_dict(data: Mapping[str, Any]) -> Event | None:
    """An event back from its JSON form (a line of ``install -o json``); None for CLI lines."""
    import cattrs

    from ..engine.events import EVENT_NAMES

    for cls, name in EVENT_NAMES.items():
        if data.get("event") == name:
            fields = {a.name for a in attrs.fields(cls)}
            event: Event = cattrs.structure({k: v for k, v in data.items() if k in fields}, cls)
            return event
    return None


def iso_time(ts: float) -> str:
    """ISO 8601 local time with its UTC offset, to the second (``2026-12-03T10:01:02+00:00``)."""
    return datetime.datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


def plain_wanted(out: TextIO, no_color: bool = False) -> bool:
    """Plain lines instead of the live view: ``--no-color``, ``NO_COLOR`` (any non-empty value,
    https://no-color.org), ``TERM=dumb``, or an output that is not a terminal."""
    if no_color or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return True
    isatty = getattr(out, "isatty", None)
    return not (isatty is not None and isatty())


class Warnings:
    """Each distinct warning once: the first time it is shown, repeats are counted."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}

    def first(self, fact: Fact) -> bool:
        key = (fact.phase, fact.text)
        self.counts[key] = self.counts.get(key, 0) + 1
        return self.counts[key] == 1

    @property
    def repeated(self) -> int:
        return sum(n - 1 for n in list(self.counts.values()))  # list(): the live view reads it from its thread

    def closing(self) -> str:
        """What the summary says of the warnings ("" when there were none)."""
        if not self.counts:
            return ""
        again = f" ({self.repeated} repeat(s) not shown; -v shows them)" if self.repeated else ""
        return f"{len(self.counts)} warning(s) during the run{again}"


class PlainView:
    """One line per fact: ``2026-12-03T10:01:02+00:00 [   1.2s] ok  packages: done in 0.3s``."""

    MARKS: Mapping[str, str] = {"start": "==>", "info": "   ", "detail": "   ", "ok": "ok ",
                                "warning": "!! ", "error": "xx "}

    def __init__(self, out: TextIO, verbosity: int = NORMAL, start: float | None = None) -> None:
        import time

        self.out = out
        self.verbosity = verbosity
        self.start = time.time() if start is None else start
        self.titles = phase_titles()
        self.warnings = Warnings()

    def __call__(self, event: Event) -> None:
        fact = describe(event, self.titles)
        if fact is not None and self.wanted(fact):
            self.write(fact)

    def wanted(self, fact: Fact) -> bool:
        if fact.severity == "warning":
            return self.warnings.first(fact) or self.verbosity >= VERBOSE
        if self.verbosity <= QUIET:
            return fact.severity == "error"
        return fact.severity != "detail" or self.verbosity >= VERBOSE

    def format(self, fact: Fact) -> str:
        # "installer: installer found at ..." would say the phase twice: a text that starts with
        # the phase's name names it already
        where = f"{fact.phase}: " if fact.phase and fact.severity != "start" \
            and not fact.text.startswith(f"{fact.phase} ") else ""
        elapsed = max(0.0, fact.time - self.start)
        return f"{iso_time(fact.time)} [{elapsed:7.1f}s] {self.MARKS[fact.severity]} {where}{fact.text}"

    def write(self, fact: Fact) -> None:
        try:
            click.echo(self.format(fact), file=self.out)
        except BrokenPipeError:  # `| head` closed the pipe: the install goes on, unseen
            self.out = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the view

    def close(self, ok: bool = True) -> None:
        """Nothing is redrawn: what was printed stays."""

    def closing(self) -> str:
        return self.warnings.closing()


@attrs.define
class _PhaseRow:
    name: str
    title: str
    status: str = "pending"  # pending | running | done | failed
    started: float | None = None
    elapsed: float | None = None
    outcome: str = ""
    current: str = ""
    ready: int | None = None
    total: int | None = None
    percent: float | None = None
    awaiting: str = ""  # the latest heartbeat: what the phase waits for, said into silence


class LiveView:
    """The phase list and the current wait, redrawn in place on a terminal (``rich``).

    Finished phases and warnings are also printed above the live region as they happen, so the
    terminal's scroll-back keeps the history; the region itself shows every phase with its
    state and elapsed time, and under the running one its latest fact with a progress bar when
    the phase can count (objects applied, KCP replicas ready, the installer's percent).
    """

    STYLES: Mapping[str, str] = {"start": "bold cyan", "info": "", "detail": "dim", "ok": "green",
                                 "warning": "yellow", "error": "bold red"}

    def __init__(self, out: TextIO, verbosity: int = NORMAL, phases: Iterable[str] | None = None,
                 refresh_per_second: float = 8.0) -> None:
        import time

        from rich.console import Console
        from rich.live import Live

        self.console = Console(file=out, highlight=False)
        self.verbosity = verbosity
        self.start = time.time()
        titles = phase_titles()
        names = list(phases) if phases is not None else list(titles)
        self.rows = {n: _PhaseRow(n, titles.get(n, "")) for n in names}
        self.titles = titles
        self.warnings = Warnings()
        self.shown_warnings: list[Fact] = []
        # started by the first event: lines printed before the run (the sandbox's address)
        # stay above the live region
        self.live = Live(self, console=self.console, refresh_per_second=refresh_per_second,
                         transient=False, redirect_stdout=False, redirect_stderr=False)
        self.started = False

    # -- events -> rows ---------------------------------------------------------------------

    def __call__(self, event: Event) -> None:
        from ..engine import EngineWarning, PhaseFinished, PhaseProgress, PhaseStarted, RunFinished

        if not self.started:
            self.started = True
            self.live.start()
        row = self.rows.get(getattr(event, "phase", "") or "")
        if isinstance(event, PhaseStarted):
            row = self.rows.setdefault(event.phase, _PhaseRow(event.phase, self.titles.get(event.phase, "")))
            row.status, row.started = "running", event.time
        elif isinstance(event, PhaseProgress) and row is not None:
            heartbeat = event.ready is None and event.percent is None and event.message.startswith("waiting ")
            if heartbeat and row.current:  # "waiting 4m30s: ...": the elapsed time ticks already
                row.awaiting = event.message
            else:
                row.current, row.ready, row.total = event.message, event.ready, event.total
                row.percent, row.awaiting = event.percent, ""
        elif isinstance(event, PhaseFinished) and row is not None:
            row.status, row.outcome = "done", event.outcome
            row.elapsed = event.elapsed if event.outcome != "skipped" else None
            row.current = ""
        elif isinstance(event, RunFinished) and event.outcome in ("failed", "interrupted") \
                and event.phase in self.rows:
            failed = self.rows[event.phase]
            failed.status = "failed" if event.outcome == "failed" else "interrupted"
            if failed.started is not None:
                failed.elapsed = event.time - failed.started
        fact = describe(event, self.titles)
        if fact is None:
            pass
        elif isinstance(event, EngineWarning):
            if self.warnings.first(fact) or self.verbosity >= VERBOSE:
                self.shown_warnings.append(fact)
                self._print(fact)
        elif self.verbosity >= VERBOSE and fact.severity in ("info", "detail"):
            self._print(fact)
        elif isinstance(event, PhaseProgress) and row is None:  # e.g. the preflight checks, before
            self._print(fact)  # any phase: a checklist worth keeping in the scroll-back
        self.live.refresh()

    def _print(self, fact: Fact) -> None:
        from rich.text import Text

        line = Text(f"{'!! ' if fact.severity == 'warning' else '   '}"
                    f"{fact.phase + ': ' if fact.phase else ''}{fact.text}",
                    style=self.STYLES[fact.severity])
        self.console.print(line)

    # -- drawing ----------------------------------------------------------------------------

    def __rich__(self) -> Any:
        import time

        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        table = Table.grid(padding=(0, 1))
        table.add_column(width=2)
        table.add_column()
        table.add_column(justify="right")
        now = time.time()
        marks = {"pending": ("·", "dim"), "running": ("▶", "bold cyan"), "done": ("✓", "green"),
                 "failed": ("✗", "bold red"), "interrupted": ("■", "yellow")}
        for row in list(self.rows.values()):  # drawn from rich's refresh thread: a snapshot
            mark, style = marks[row.status]
            seconds = row.elapsed if row.elapsed is not None else (
                now - row.started if row.status == "running" and row.started is not None else None)
            state = {"done": _FINISHED_WORDS.get(row.outcome, row.outcome),
                     "running": "running", "pending": "pending", "failed": "failed",
                     "interrupted": "interrupted"}[row.status]
            label = Text(f"{row.name:<16}", style=style)
            label.append(f" {row.title}" if row.status in ("running", "pending") else f" {state}",
                         style="dim" if row.status == "pending" else "")
            table.add_row(Text(mark, style=style), label,
                          Text(f"{seconds:6.1f}s" if seconds is not None else "", style="dim"))
            if row.status == "running" and row.current:
                detail = Table.grid(padding=(0, 1))
                detail.add_column()
                detail.add_column(width=22)
                bar: Any = ""
                if row.percent is not None:
                    bar = ProgressBar(total=100.0, completed=row.percent, width=20)
                detail.add_row(Text(row.current, style="cyan"), bar)
                if row.awaiting:
                    detail.add_row(Text(row.awaiting, style="dim"), "")
                table.add_row("", detail, "")
        if self.warnings.counts:
            table.add_row("", Text(self.warnings.closing(), style="yellow"), "")
        return table

    def close(self, ok: bool = True) -> None:
        """Stop redrawing; the last drawing (every phase and its time) stays on the screen."""
        if self.started:
            self.started = False
            self.live.refresh()
            self.live.stop()

    def closing(self) -> str:
        return self.warnings.closing()


def make_view(out: TextIO, *, no_color: bool = False, verbosity: int = NORMAL) -> PlainView | LiveView:
    """The view for a text run: live on a colour terminal, plain lines otherwise."""
    if plain_wanted(out, no_color) or verbosity <= QUIET:
        return PlainView(out, verbosity)
    return LiveView(out, verbosity)


def view_verbosity(verbose: int, quiet: bool) -> int:
    """``-q`` wins over ``-v`` (a script asked for silence)."""
    return QUIET if quiet else (VERBOSE if verbose else NORMAL)


def view_options(command: Any) -> Any:
    """``--no-color``, ``-v/--verbose``, ``-q/--quiet`` for a command that shows a run."""
    command = click.option("-q", "--quiet", is_flag=True,
                           help="Only warnings, errors and the closing summary.")(command)
    command = click.option("-v", "--verbose", count=True,
                           help="Every fact, also objects applied unchanged and repeated warnings; "
                                "on a terminal, every fact printed above the live view.")(command)
    command = click.option("--no-color", is_flag=True,
                           help="Plain timestamped lines, no colour or redraw (also: NO_COLOR=1, "
                                "or output that is not a terminal).")(command)
    return command


# -- spec warnings, once across commands ------------------------------------------------------

#: How many shown warnings are remembered (the oldest are forgotten first).
_REMEMBERED = 2000


def _shown_file() -> str:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "acp-install", "shown-warnings.json")


def _finding_key(source: str, finding: Any) -> str:
    import hashlib

    text = "\0".join((source, str(finding.path), str(finding.message)))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def show_spec_warnings(findings: Iterable[Any], source: str, *, label: str | None = None,
                       always: bool = False) -> None:
    """A spec's warnings on standard error, each in full the first time only.

    ``validate -f global.yaml``, then ``render``, then ``install`` would otherwise print the
    same warnings three times. Which were shown is remembered per spec file (by absolute path,
    field path and message; no values) in ``$XDG_STATE_HOME/acp-install/shown-warnings.json``;
    later commands say in one line how many were already shown and how to see them again
    (``validate`` always shows every one: ``always``). ``label`` names a spec the user did not
    write (the built-in example): it is said once, above its warnings.
    """
    import json
    import time

    findings = list(findings)
    if not findings:
        return
    where = label or os.path.abspath(source)
    path = _shown_file()
    try:
        with open(path) as fh:
            shown: dict[str, float] = dict(json.load(fh))
    except (OSError, ValueError, TypeError):
        shown = {}
    fresh = [f for f in findings if always or _finding_key(where, f) not in shown]
    if label:
        click.echo(f"{label}: {len(findings)} warning(s) about the example itself", err=True)
    for f in fresh:
        click.echo(f.format(None if label else source), err=True)
    seen = [f for f in findings if f not in fresh]
    if seen:
        again = f"acp-install validate -f {source}" if not label else "acp-install validate"
        click.echo(f"  {len(seen)} warning(s) already shown for {source if not label else 'the example'} "
                   f"({', '.join(sorted({str(f.path) for f in seen}))}); `{again}` shows them again",
                   err=True)
    now = time.time()
    for f in findings:
        shown[_finding_key(where, f)] = now
    keep = dict(sorted(shown.items(), key=lambda kv: kv[1])[-_REMEMBERED:])
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w") as fh:
            json.dump(keep, fh)
        os.replace(tmp, path)
    except OSError:  # a read-only home: every warning is shown every time, nothing breaks
        pass


def last_fact(path: str | os.PathLike[str], *, tail_bytes: int = 65536) -> Fact | None:
    """The latest fact of an event log (``.acp-install/events.jsonl``), worded as the run said it.

    Reads only the end of the file; a line that is not an event (damaged, or a kind this
    version does not know) is skipped.
    """
    import json

    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - tail_bytes))
            lines = fh.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            data = json.loads(line)
            event = event_from_dict(data) if isinstance(data, dict) else None
        except Exception:  # a damaged line (not JSON, or fields cattrs cannot structure) is skipped
            continue
        fact = describe(event) if event is not None else None
        if fact is not None:
            return fact
    return None
