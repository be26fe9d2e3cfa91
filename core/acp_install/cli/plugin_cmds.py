"""``acp-install plugin``: tools for provider authors (``plugin new NAME``).

Offline like the spec commands: nothing here touches a cluster.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def plugin() -> None:
    """Tools for provider authors."""


@plugin.command("new")
@click.argument("name")
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Directory to write the distribution into (default ./acp-install-NAME); new or empty.")
def new(name: str, out_dir: str | None) -> None:
    """Write a provider distribution NAME that installs, renders and passes conformance as is."""
    from ..scaffold import scaffold

    names, target, written = scaffold(name, Path(out_dir) if out_dir else None)
    for rel in written:
        click.echo(str(target / rel))
    click.echo(f"\nwrote {names.distribution} ({len(written)} files). Next:\n"
               f"  pip install -e {target}\n"
               f"  acp-install providers\n"
               f"  cd {target} && pytest", err=True)
