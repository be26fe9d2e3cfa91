"""``acp-install sandbox up|down|scenarios``: run the emulated minialauda in the foreground.

``up`` prints the kubeconfig path and installer address and serves until Ctrl-C or SIGTERM;
it writes ``sandbox.pid`` and ``sandbox.json`` into the state directory so ``down`` (from another
shell, or after ``up &``) can stop it.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import click

from ..errors import StateError, UsageError
from . import sandboxing

DEFAULT_STATE_DIR = ".acp-sandbox"


@click.group()
def sandbox() -> None:
    """Run the emulated minialauda (Kubernetes API, CAPI controllers, cpaas-installer)."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _check_up_options(address: str, speed: float) -> None:
    """The options the sandbox itself would refuse, as usage errors (exit 2) naming the option,
    before anything is created."""
    import ipaddress
    import math

    if not math.isfinite(speed) or speed <= 0:
        raise UsageError(f"--speed {speed:g}: must be a finite number > 0",
                         hint="1 runs the simulation in real time, 20 twenty times faster")
    try:
        loopback = ipaddress.ip_address(address).is_loopback
    except ValueError:
        raise UsageError(f"--address {address!r} is not an IP address",
                         hint="give a loopback address such as 127.0.0.1") from None
    if not loopback:
        raise UsageError(f"--address {address}: not a loopback address (the sandbox and its "
                         "unauthenticated installer listen on 127.0.0.0/8 only)",
                         hint="give a loopback address such as 127.0.0.1")


@sandbox.command()
@click.option(
    "--crds",
    "crds",
    type=click.Path(file_okay=False, path_type=Path),
    help="CRD YAML directory overriding, by CRD name, the schemas the installed distributions ship.",
)
@click.option(
    "--scenario",
    default="happy",
    show_default=True,
    help=sandboxing.scenario_help,
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_STATE_DIR,
    show_default=True,
    help="Where the kubeconfig and pid file are written.",
)
@click.option(
    "--address",
    default="127.0.0.1",
    show_default=True,
    help="Loopback address (any 127.x.y.z) for the API server and installer.",
)
@click.option("--port", default=6443, show_default=True, type=click.IntRange(0, 65535),
              help="API server port (0 = any).")
@click.option("--installer-port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="cpaas-installer port (0 = any).")
@click.option("--speed", default=1.0, show_default=True, help="Time scale of the simulation.")
@click.option(
    "--preinstall-crds", is_flag=True, help="Serve every CRD at start, as if all provider charts were installed."
)
def up(
    crds: Path | None,
    scenario: str,
    state_dir: Path,
    address: str,
    port: int,
    installer_port: int,
    speed: float,
    preinstall_crds: bool,
) -> None:
    """Start a sandbox and serve until interrupted."""
    _check_up_options(address, speed)
    chosen = sandboxing.scenario(scenario)
    if crds is not None and not crds.is_dir():
        raise UsageError(f"CRD directory not found: {crds}")
    pid_file = state_dir / "sandbox.pid"
    if pid_file.exists():
        try:
            pid = int(pid_file.read_text().strip())
        except ValueError:
            pid = 0
        if pid and _pid_alive(pid):
            raise StateError(
                f"a sandbox is already running (pid {pid}) in {state_dir}",
                hint=f"acp-install sandbox down --state-dir {state_dir}",
            )
    sb = sandboxing.create(crds_dir=crds, scenario=chosen, state_dir=state_dir, speed=speed, address=address,
                           api_port=port, installer_port=installer_port, preinstall_crds=preinstall_crds)
    try:
        sb.start()
    except OSError as err:
        raise StateError(
            f"cannot listen on {address}: {err.strerror or err}", hint="pick another --address (127.x.y.z) or --port"
        ) from None
    stop = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        pid_file.write_text(str(os.getpid()))
        info = sb.describe()
        started = _process_start(os.getpid())
        (state_dir / "sandbox.json").write_text(json.dumps(
            {**info, "pid": os.getpid(), **({"pid_start": started} if started else {})}, indent=2))
        click.echo(f"kubeconfig: {info['kubeconfig']}")
        click.echo(f"server:     {info['server']}")
        click.echo(f"installer:  {info['installer']}")
        click.echo(f"registry:   {info['registry']} (LOCAL_REGISTRY_ADDRESS)")
        click.echo(f"scenario:   {info['scenario']} (speed {speed:g})")
        click.echo(f"charts:     {', '.join(info['charts'])}")
        click.echo(f"global:     {info['global_address']} once a Cluster is Provisioned "
                   "(acp-install kubeconfig)")
        for problem in info["declaration_errors"]:
            click.echo(f"warning: {problem}", err=True)
        click.echo(f"export KUBECONFIG={info['kubeconfig']}")
        click.echo("serving; Ctrl-C or `acp-install sandbox down` to stop", err=True)
        while not stop.wait(0.5):
            pass
    finally:
        sb.stop()
        pid_file.unlink(missing_ok=True)
        for s, handler in previous.items():
            signal.signal(s, handler)
        click.echo("sandbox stopped", err=True)


def _process_start(pid: int) -> str | None:
    """The start time of ``pid`` in clock ticks since boot (``/proc/PID/stat`` field 22), None
    where there is no ``/proc``: with the pid it names one process, whatever reuses the pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()  # the command name may hold spaces and parentheses
    return fields[19] if len(fields) > 19 else None


def _not_the_sandbox(pid: int, state_dir: Path) -> str | None:
    """Why ``pid`` is not the sandbox ``sandbox up`` recorded in ``state_dir``, or None.

    After a crash (no clean ``down``) and a reboot or a long uptime, the pid in ``sandbox.pid``
    may belong to any process, run by the same user or, as root, by anyone: signalling it would
    stop an unrelated program. The start time recorded beside the pid must match; without a
    record (an older sandbox), the command line must be a sandbox's.
    """
    try:
        recorded = json.loads((state_dir / "sandbox.json").read_text())
    except (OSError, ValueError):
        recorded = {}
    recorded = recorded if isinstance(recorded, dict) else {}
    started = _process_start(pid)
    if started is not None and recorded.get("pid") == pid and recorded.get("pid_start"):
        return None if recorded["pid_start"] == started else "it started after the sandbox"
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None  # no /proc: nothing to check with
    if "sandbox" in cmdline and ("acp-install" in cmdline or "acp_install" in cmdline):
        return None
    return f"it runs {cmdline.strip()[:80]!r}"


@sandbox.command()
@click.option(
    "--state-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_STATE_DIR, show_default=True
)
@click.option("--timeout", default=10.0, show_default=True, help="Seconds to wait for exit.")
def down(state_dir: Path, timeout: float) -> None:
    """Stop the sandbox started with the same --state-dir."""
    pid_file = state_dir / "sandbox.pid"
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        raise StateError(
            f"no running sandbox found in {state_dir}", hint="pass the --state-dir used with `sandbox up`"
        ) from None
    if not _pid_alive(pid):
        pid_file.unlink(missing_ok=True)
        click.echo(f"sandbox (pid {pid}) was not running; cleaned up {pid_file}")
        return
    other = _not_the_sandbox(pid, state_dir)
    if other:
        pid_file.unlink(missing_ok=True)
        raise StateError(f"pid {pid} in {pid_file} is not the sandbox any more ({other}): it was not "
                         f"signalled; removed the stale {pid_file}",
                         hint="the sandbox had already stopped (after a crash its pid was reused)")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid) or not pid_file.exists():
            click.echo(f"sandbox (pid {pid}) stopped")
            return
        time.sleep(0.1)
    raise StateError(f"sandbox (pid {pid}) did not stop within {timeout:g}s")


@sandbox.command()
def scenarios() -> None:
    """List the sandbox scenarios: built-in, and those installed providers declare."""
    for name, sc in sandboxing.sandbox_module().all_scenarios().items():
        click.echo(f"{name:<18} {sc.description}")
