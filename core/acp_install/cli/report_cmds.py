"""``acp-install report``: rebuild the install report page from the work directory."""

from __future__ import annotations

import os
import sys

import click

from ..errors import UsageError


@click.command("report")
@click.option("--workdir", type=click.Path(file_okay=False), default=".", show_default=True,
              help="Work directory of the install (its .acp-install/ state and event log).")
@click.option("--out", "out", type=click.Path(dir_okay=False),
              help="The HTML file to write (default: report.html in the work directory; "
                   "- for standard output).")
def report(workdir: str, out: str | None) -> None:
    """Rebuild the install report (report.html) from the state and the event log.

    Every install run writes it already; this rebuilds it after a run killed before its end,
    or elsewhere (--out). One self-contained page, no network fetch, no secret value.
    """
    from ..engine.state import STATE_DIR
    from ..report import build_report, write_report

    if not os.path.isdir(os.path.join(workdir, STATE_DIR)):
        raise UsageError(f"--workdir {workdir}: no install has run there (no {STATE_DIR}/)",
                         hint="pass the --workdir the install ran in")
    if out == "-":
        sys.stdout.write(build_report(workdir))
        return
    if out is None:
        path = str(write_report(workdir))
    else:
        from .cluster_cmds import write_private

        write_private(out, build_report(workdir))
        path = out
    click.echo(f"wrote the install report {path} (open it in a browser)", err=True)
