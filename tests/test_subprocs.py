"""``run_streamed``: a tool's exit is its answer, even when a child it left holds stdout open."""

from __future__ import annotations

import types

from acp_install.clients.retry import Deadline
from acp_install.engine.subprocs import run_streamed


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
