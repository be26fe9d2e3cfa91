"""``acp-install diff`` (and ``install --dry-run``): what the next run would change."""

from __future__ import annotations

import json
import sys

import click

from .view import view_options


def show_dry_run(spec_file: str, kubeconfig: str | None, workdir: str, fmt: str,
                 verbose: int = 0, accept_example_values: bool = False) -> int:
    """Load, dry-run against the cluster, print; the shared body of ``diff`` and
    ``install --dry-run``. Exit 0: nothing was changed (whatever the diff says)."""
    from ..clients.kubeconfigs import resolve_kubeconfig
    from ..engine.dryrun import dry_run, text_lines
    from .install_cmds import _load

    _loaded, plan = _load(spec_file, fmt=fmt, refuse_examples=not accept_example_values)
    result = dry_run(plan, resolve_kubeconfig(kubeconfig), workdir)
    if fmt == "json":
        sys.stdout.write(json.dumps(result.as_dict(), sort_keys=True, default=str) + "\n")
    else:
        click.echo("\n".join(text_lines(result, verbose=verbose > 0)))
    return 0


@click.command("diff")
@click.option("-f", "--file", "spec_file", required=True, type=click.Path(dir_okay=False),
              help="The install spec.")
@click.option("--kubeconfig", type=click.Path(dir_okay=False),
              help="Kubeconfig of minialauda (the bootstrap cluster).")
@click.option("--workdir", type=click.Path(file_okay=False), default=".", show_default=True,
              help="Work directory of the install: its finished phases are skipped.")
@click.option("-o", "--output", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--accept-example-values", is_flag=True, envvar="ACP_INSTALL_ACCEPT_EXAMPLE_VALUES",
              help="Accept fields still holding init's example values.")
@view_options
def diff(spec_file: str, kubeconfig: str | None, workdir: str, fmt: str,
         accept_example_values: bool, no_color: bool = False, verbose: int = 0,
         quiet: bool = False) -> int:
    """Server-side dry run of the next install run: each object created / changed / unchanged
    against the live one (-v: every field of a new object), the installer request with its
    secrets masked, the phases that would run or be skipped. Nothing is changed."""
    return show_dry_run(spec_file, kubeconfig, workdir, fmt, verbose, accept_example_values)
