"""The heartbeat: a line into every silence of ``interval``, saying what is awaited.

The decision is tested on a simulated clock; the engine test shows the thread speaking while
the engine's own thread is blocked in a long watch, and stops the run by what it heard (a
cancel after two heartbeats), never by elapsed time.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from acp_install.engine import Engine, Event, PhaseProgress, Timeouts
from acp_install.engine.heartbeat import Heartbeat, format_elapsed
from acp_install.errors import Interrupted
from acp_install.plan import build_plan
from acp_install.spec.load import load_spec
from acp_install_sandbox import Sandbox

from specs import example, write


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_it_beats_only_after_a_silence_of_the_interval() -> None:
    clock, beats = Clock(), []
    beat = Heartbeat(30, lambda: beats.append(clock.now) is None, clock=clock)
    clock.now = 129.9
    assert not beat.tick()
    clock.now = 130
    assert beat.tick() and beats == [130]
    clock.now = 150
    beat.touch()  # another event: the silence starts again
    clock.now = 179
    assert not beat.tick()
    clock.now = 180
    assert beat.tick()
    clock.now = 200
    assert not beat.tick()
    clock.now = 210
    assert beat.tick() and beats == [130, 180, 210]


def test_nothing_to_say_waits_another_interval() -> None:
    clock, calls = Clock(), []
    beat = Heartbeat(10, lambda: calls.append(clock.now) is not None, clock=clock)
    clock.now = 110
    assert not beat.tick()
    clock.now = 115
    assert not beat.tick() and calls == [110]


@pytest.mark.parametrize(("seconds", "text"), [(0, "0s"), (59.9, "59s"), (270, "4m30s"),
                                               (3720, "1h02m")])
def test_format_elapsed(seconds: float, text: str) -> None:
    assert format_elapsed(seconds) == text


def test_a_blocked_wait_still_says_what_it_awaits(sandbox_factory: Callable[..., Sandbox],
                                                  tmp_path: Path,
                                                  canaries: dict[str, str]) -> None:
    sb = sandbox_factory(scenario="kcp-not-ready")
    loaded = load_spec(write(tmp_path / "spec.yaml", example("dcs")))
    # resync 600 s: the engine's thread sits in one watch; only the heartbeat can speak
    eng = Engine(build_plan(loaded), provider=loaded.provider, kubeconfig=sb.kubeconfig_path,
                 workdir=tmp_path / "w", poll_interval=0.1, resync=600, heartbeat=0.2,
                 wait_through_failures=True,
                 timeouts=Timeouts().with_overrides(control_plane=600))
    beats: list[PhaseProgress] = []

    def listen(event: Event) -> None:
        if isinstance(event, PhaseProgress) and event.message.startswith("waiting ") \
                and event.phase == "control-plane":
            beats.append(event)
            if len(beats) == 2:
                eng.cancel()

    eng.subscribe(listen)
    with pytest.raises(Interrupted):
        eng.run()
    assert len(beats) == 2
    assert "KubeadmControlPlane global-kcp Ready" in beats[-1].message
    assert all(b.elapsed > 0 for b in beats)
    assert beats[1].elapsed >= beats[0].elapsed
