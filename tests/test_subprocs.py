"""``run_streamed``: a tool's exit is its answer, even when a child it left holds stdout open."""

from __future__ import annotations

import types

import pytest

from acp_install.clients.retry import Deadline
from acp_install.engine import subprocs
from acp_install.engine.subprocs import Finished, run_streamed
from acp_install.errors import BootstrapError


@pytest.fixture(autouse=True)
def _short_drain(monkeypatch: pytest.MonkeyPatch) -> None:
    """The drain after the tool exits is a wait for leftovers, not what these tests check: at
    0.05 s instead of 2 s the result is the same (every line written before the exit is read
    after the group is stopped), and a run that waited for the end of output would still
    run into the 5 s deadline and come back ``returncode None``."""
    monkeypatch.setattr(subprocs, "DRAIN", 0.05)


def _ctx(seconds: float) -> tuple[types.SimpleNamespace, list[str]]:
    seen: list[str] = []
    return types.SimpleNamespace(dl=Deadline(seconds), progress=seen.append), seen


def test_a_tool_that_exits_with_a_background_child_holding_stdout_is_finished() -> None:
    """``echo done; sleep 30 &``: the tool exits 0 at once, its child keeps the pipe open. The
    result is the tool's exit code and output, not a timeout at the deadline."""
    ctx, seen = _ctx(5.0)
    got = run_streamed(ctx, ["sh", "-c", "echo first; echo done; sleep 30 &"], label="tool")  # type: ignore[arg-type]
    assert got.returncode == 0 and got.ok
    assert got.tail == ("first", "done") and got.lines == 2
    assert seen == ["tool: first", "tool: done"]


def test_a_failing_tool_with_a_background_child_keeps_its_exit_code() -> None:
    ctx, _seen = _ctx(5.0)
    got = run_streamed(ctx, ["sh", "-c", "echo broken >&2; sleep 30 & exit 3"], label="tool")  # type: ignore[arg-type]
    assert got.returncode == 3 and got.tail == ("broken",)


def test_a_tool_still_running_at_the_deadline_is_stopped() -> None:
    ctx, _seen = _ctx(0.5)
    got = run_streamed(ctx, ["sh", "-c", "echo started; exec sleep 30"], label="tool")  # type: ignore[arg-type]
    assert got.returncode is None and not got.ok


def test_raise_unless_ok_explains_a_stop_and_a_failure_in_the_tools_words() -> None:
    """The one ending every phase that runs a tool shares: nothing for exit 0; the deadline
    (seconds, the last lines, the --timeout hint) for a stopped tool; the exit code, what it
    said and the phase's fix for a failed one."""
    def end(finished: Finished, last: str = "lines") -> None:
        finished.raise_unless_ok(BootstrapError, stopped="tool did not finish within the x deadline",
                                 failed="tool failed", said="it", fix="fix what tool says", timeout="x",
                                 seconds=12.4, last=last)

    end(Finished(0, ("fine",), 1))
    with pytest.raises(BootstrapError) as stopped:
        end(Finished(None, ("one", "two"), 2))
    assert stopped.value.message == ("tool did not finish within the x deadline (12s); it was stopped. "
                                     "Its last lines:\n  | one\n  | two")
    assert stopped.value.hint == "raise it with --timeout x=SECONDS and re-run"
    with pytest.raises(BootstrapError) as stopped_words:
        end(Finished(None, (), 0), last="words")
    assert "it was stopped. Its last words:\n  (no output)" in stopped_words.value.message
    with pytest.raises(BootstrapError) as failed:
        end(Finished(3, ("broken",), 1))
    assert failed.value.message == "tool failed (exit 3); it said:\n  | broken"
    assert failed.value.hint == "fix what tool says"
