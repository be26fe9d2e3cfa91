"""Installer progress reaction: how late the engine sees an installer change, and at what cost.

    .venv/bin/python bench/progress.py [--phase 3.7] [--runs 1]

The progress API cannot be watched, so it is polled (see docs/engine.md, Waiting). Each run is
a full DCS install against an in-process sandbox whose installer moves to its next stage every
``--phase`` wall seconds (everything else at sandbox speed 20). The sandbox records when each
installer change happened and when each progress request was answered; the reaction to a
change is the time until the first answer that carries it. Three ways, in the same process:

- ``old``: the fixed 5 s poll before issue 13;
- ``poll``: the default pace (within 1 s after a change, backing off to 1.5 s);
- ``log``: the default pace following the installer's log (the sandbox writes one).

Printed: the median and 90th percentile reaction, and progress requests per second over the
monitor phase. Budget: median ≤ 1 s at ≤ 1 request per second.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def one_run(mode: str, phase: float) -> tuple[list[float], float]:
    import attrs

    import acp_install
    from acp_install.engine import phases
    from acp_install.spec.example import example_spec
    from acp_install_sandbox import Sandbox, Timing
    from acp_install_sandbox import installer as sim
    from acp_install_sandbox.scenarios import get_scenario

    speed = 20.0
    scenario = attrs.evolve(get_scenario("happy"), timing=Timing(installer_phase=phase * speed))
    changes: list[tuple[float, str]] = []
    answers: list[tuple[float, str]] = []
    real_tick, real_progress = sim.Installer.tick, sim.Installer.progress

    def tick(self: Any) -> None:
        before = self.message
        real_tick(self)
        if self.message != before:
            changes.append((time.monotonic(), self.message))

    def progress(self: Any) -> Any:
        code, body = real_progress(self)
        if code == 200:
            answers.append((time.monotonic(), body.get("message", "")))
        return code, body

    sim.Installer.tick, sim.Installer.progress = tick, progress  # type: ignore[method-assign]
    real_pace = phases.ProgressPace
    if mode == "old":
        class Fixed(real_pace):  # type: ignore[misc, valid-type]
            def __init__(self, _longest: float, _log: str | None) -> None:
                super().__init__(5.0, None)
                self.shortest = 5.0
                self.interval = 5.0

        phases.ProgressPace = Fixed  # type: ignore[misc]
    try:
        with tempfile.TemporaryDirectory() as tmp, Sandbox(scenario=scenario, speed=speed, installer_port=0) as sb:
            provider = acp_install.load_provider("dcs")
            spec = Path(tmp) / "spec.yaml"
            spec.write_text(example_spec(provider))
            plan = acp_install.build_plan(acp_install.load_spec(spec))
            engine = acp_install.Engine(
                plan, provider=provider, kubeconfig=sb.kubeconfig_path, workdir=tmp,
                installer_address=f"{sb.address}:{sb.installer_port}",
                installer_log=str(sb.installer_log_path) if mode == "log" else None)
            result = engine.run()
            assert result.complete, result
    finally:
        sim.Installer.tick, sim.Installer.progress = real_tick, real_progress  # type: ignore[method-assign]
        phases.ProgressPace = real_pace  # type: ignore[misc]
    reactions = []
    for when, message in changes:
        seen = next((t for t, m in answers if t >= when and m == message), None)
        if seen is not None:
            reactions.append(seen - when)
    start, end = changes[0][0], changes[-1][0]
    polls = sum(1 for t, _ in answers if start <= t <= end)
    return reactions, polls / max(end - start, 1e-9)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--phase", type=float, default=3.7, help="wall seconds per installer stage")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("ACP_ADMIN_PASSWORD", "bench-admin")
    os.environ.setdefault("DCS_AUTH_KEY", "bench-dcs")
    print(f"{'mode':<6} {'changes':>8} {'p50 s':>7} {'p90 s':>7} {'requests/s':>11}   budget p50 <= 1 s at <= 1/s")
    for mode in ("old", "poll", "log"):
        reactions: list[float] = []
        rates = []
        for _ in range(args.runs):
            got, rate = one_run(mode, args.phase)
            reactions.extend(got)
            rates.append(rate)
        q = statistics.quantiles(reactions, n=10) if len(reactions) > 1 else reactions * 9
        print(f"{mode:<6} {len(reactions):8d} {statistics.median(reactions):7.2f} {q[8]:7.2f} "
              f"{statistics.median(rates):11.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
