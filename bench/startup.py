"""Start-up cost of the CLI, as ratios against baselines measured in the same run.

    .venv/bin/python bench/startup.py [-n 10]

Baseline: a bare interpreter (``python -c pass``). Compared: ``acp-install --version`` (the
console script, budget 2x), ``acp-install --help``, ``acp-install render`` of the DCS example,
and importing ``kubernetes`` + ``httpx`` (what the lazy imports avoid), and a whole
``install --sandbox`` at speed 1000, also with the fixed 0.2 s installer poll it had before
(the ratio of the two is what the speed-scaled poll saves). Prints median wall time and the ratio
to the baseline; claims in docs quote the ratios, never absolute numbers.

The editable packages are byte-compiled first, as pip compiles a regular install (``--no-compile``
skips it): where PYTHONDONTWRITEBYTECODE is set nothing else writes the .pyc files, and every
process would compile ~160 modules again.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(argv: list[str], env: dict[str, str], n: int) -> float:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        subprocess.run(argv, env=env, check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=10)
    parser.add_argument("--no-compile", action="store_true")
    args = parser.parse_args()
    n = args.n
    py = sys.executable
    if not args.no_compile:
        import compileall
        import importlib.util
        import pkgutil

        for mod in pkgutil.iter_modules():
            found = importlib.util.find_spec(mod.name) if mod.name.startswith("acp_install") else None
            if found is not None and found.origin:
                compileall.compile_dir(Path(found.origin).parent, quiet=1)
    env = {**os.environ, "ACP_ADMIN_PASSWORD": "bench-admin-pw", "DCS_AUTH_KEY": "bench-dcs-key"}
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "spec.yaml"
        cli = [py, "-m", "acp_install.cli.main"]
        subprocess.run([*cli, "init", "--provider", "dcs", "--out", str(spec)], env=env, check=True,
                       capture_output=True)
        script = Path(py).with_name("acp-install")
        version = ([str(script)] if script.exists()
                   else [py, "-c", "import sys; from acp_install.cli.launch import run; run()"])
        cases = {
            "python -c pass (baseline)": [py, "-c", "pass"],
            "acp-install --version": [*version, "--version"],
            "acp-install --help": [*cli, "--help"],
            "acp-install render (DCS example)": [*cli, "render", "-f", str(spec),
                                                 "--output-dir", f"{tmp}/out", "--force"],
            "import kubernetes, httpx": [py, "-c", "import kubernetes, httpx"],
            # the whole install at the sandbox's fastest useful speed (budget 1.5 s wall)
            "install --sandbox --speed 1000 (DCS)": [*cli, "install", "--sandbox", "--provider", "dcs",
                                                     "--speed", "1000", "-q"],
            "  the same, the old fixed 0.2 s poll": [*cli, "install", "--sandbox", "--provider", "dcs",
                                                     "--speed", "1000", "-q", "--poll-interval", "0.2"],
        }
        results = {name: timed(argv, env, n) for name, argv in cases.items()}
    base = results["python -c pass (baseline)"]
    print(f"{'case':<40} {'median s':>9} {'x baseline':>11}")
    for name, value in results.items():
        print(f"{name:<40} {value:9.3f} {value / base:11.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
