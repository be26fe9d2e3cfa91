"""Requests per sandbox install, for every provider at three sandbox speeds: flat.

    .venv/bin/python bench/request_counts.py [--speeds 5,20,80] [--providers dcs,vsphere,hcs,baremetal]

Each install is ``acp-install install --sandbox --provider P --speed S -o json`` in its own
process; the figures are the counts its closing line reports (``sandbox served N API requests
and M installer requests``). A slower sandbox makes every wait longer, so a count that grew
with wall time (a polled gate) shows here as a count that grows as the speed falls; the last
column is the largest API count over the smallest for the provider (1.0 = flat). Counts, not
times: the same on a loaded machine. The installer's progress API cannot be watched, so its
count grows with the run's length (bounded by the poll rate, about one request per second at
most; see bench/progress.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

PROVIDERS = ["dcs", "vsphere", "hcs", "baremetal"]


def install(provider: str, speed: float) -> tuple[dict[str, int], float]:
    env = {**os.environ, "ACP_ADMIN_PASSWORD": os.environ.get("ACP_ADMIN_PASSWORD", "bench-admin")}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "acp_install.cli.main", "install", "--sandbox",
                           "--provider", provider, "--speed", str(speed), "-o", "json"],
                          env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    for line in reversed(done.stdout.splitlines()):
        data = json.loads(line)
        if "sandbox" in data and data.get("complete"):
            counts: dict[str, int] = data["sandbox"]
            return counts, wall
    raise SystemExit(f"{provider} at speed {speed} did not complete:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--speeds", default="5,20,80")
    parser.add_argument("--providers", default=",".join(PROVIDERS))
    args = parser.parse_args()
    speeds = [float(s) for s in args.speeds.split(",")]
    print(f"{'provider':<10} {'speed':>6} {'wall s':>7} {'API requests':>13} {'installer requests':>19}")
    for provider in args.providers.split(","):
        api = []
        for speed in speeds:
            counts, wall = install(provider, speed)
            api.append(counts["api_requests_served"])
            print(f"{provider:<10} {speed:6g} {wall:7.2f} {counts['api_requests_served']:13d} "
                  f"{counts['installer_requests_served']:19d}")
        print(f"{provider:<10} API requests max/min over the speeds: {max(api) / min(api):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
