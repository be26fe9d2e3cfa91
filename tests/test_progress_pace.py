"""The installer progress poll: within a second after a change, backing off while nothing
changes, brought forward by a write to the installer's log (issue 13). Observed through the
pace's own state and the log, never through elapsed time."""

from __future__ import annotations

from pathlib import Path

from acp_install.clients.retry import Deadline
from acp_install.engine.phases import INSTALLER_LOG, ProgressPace

from support import HTTP


def test_the_poll_backs_off_while_nothing_changes_and_tightens_after_a_change() -> None:
    pace = ProgressPace(10.0, None)
    seen = [pace.interval]
    for _ in range(7):
        pace.wait(Deadline(0))  # a spent deadline: no sleeping, the pace still moves on
        seen.append(pace.interval)
    assert seen == [1.0, 1.5, 2.25, 3.375, 5.0625, 7.59375, 10.0, 10.0]
    pace.changed()
    assert pace.interval == 1.0
    assert ProgressPace(0.2, None).interval == 0.2  # a shorter poll interval is kept as is


def test_a_write_to_the_installer_log_brings_the_next_poll_forward(tmp_path: Path) -> None:
    log = tmp_path / "installer.log"
    log.write_text("started\n")
    pace = ProgressPace(3600.0, str(log))
    pace._last_poll -= 5  # the last poll was long enough ago: a poll may come at once
    pace.interval = 3600.0
    log.write_text("started\nnetwork add-ons\n")
    deadline = Deadline(120)
    pace.wait(deadline)  # returns on the write, not after an hour (or the 120 s guard)
    assert not deadline.expired
    assert pace._size == (log.stat().st_size, log.stat().st_mtime_ns)


def test_an_unreadable_log_is_simply_not_followed(tmp_path: Path) -> None:
    pace = ProgressPace(1.5, str(tmp_path / "missing.log"))
    assert pace._size is None
    pace.wait(Deadline(0))
    assert pace.interval == 1.5
    assert INSTALLER_LOG == "/var/cpaas/data/installer.log"


def test_the_sandbox_installer_writes_its_log() -> None:

    from acp_install_sandbox import Sandbox

    with Sandbox(speed=1000, installer_port=0) as sb:
        HTTP.post(sb.installer_url + "/cpaas-installer/api/config/global", json={"x": 1}, timeout=10)
        for _ in range(200):
            HTTP.get(sb.installer_url + "/cpaas-installer/api/progress", timeout=10)
            if "installation completed" in sb.installer_log_path.read_text():
                break
        text = sb.installer_log_path.read_text()
    assert "[Running] " in text  # the same lines as the installer Pod's log
    assert "installation completed" in text
