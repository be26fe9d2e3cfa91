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
@click.option("--output-dir", "out_dir", type=click.Path(file_okay=False),
              help="Directory to write the distribution into (default ./acp-install-NAME); new or empty.")
@click.option("--out", "legacy_out", type=click.Path(file_okay=False), hidden=True,
              help="Deprecated spelling of --output-dir.")
@click.option("--installer-endpoint", metavar="PATH",
              help="Step 8: path the installer request is POSTed to (default: an installed provider's).")
@click.option("--import-configmap", metavar="NAME",
              help="Step 7: ConfigMap listing what the installer imports (default: an installed provider's).")
@click.option("--chart-cluster-type", metavar="TYPE",
              help="Step 3: AppRelease values.global.cluster.type (default: an installed provider's).")
def new(name: str, out_dir: str | None, legacy_out: str | None, installer_endpoint: str | None,
        import_configmap: str | None, chart_cluster_type: str | None) -> None:
    """Write a provider distribution NAME that installs, renders and passes conformance as is.

    The installer's wire values (the same for every provider in the procedure) are copied from an
    installed provider unless given.
    """
    from ..errors import UsageError
    from ..scaffold import scaffold, wire_values
    from .conventions import deprecated, refuse_stdout_dir

    if legacy_out is not None:
        if out_dir is not None:
            raise UsageError("plugin new: both --output-dir and --out given", hint="use --output-dir only")
        deprecated("`plugin new --out DIR`", "--output-dir DIR")
        out_dir = legacy_out
    if out_dir is not None:
        refuse_stdout_dir("--output-dir", out_dir)

    wire = wire_values(installer_endpoint, import_configmap, chart_cluster_type)
    names, target, written = scaffold(name, Path(out_dir) if out_dir else None, wire)
    for rel in written:
        click.echo(str(target / rel))
    click.echo(f"installer wire values from {wire.source}: endpoint {wire.installer_endpoint}, "
               f"Step 7 ConfigMap {wire.import_configmap}, chart cluster type {wire.chart_cluster_type}", err=True)
    click.echo(f"\nwrote {names.distribution} ({len(written)} files). Next:\n"
               f"  pip install -e {target}\n"
               f"  acp-install providers\n"
               f"  cd {target} && pytest", err=True)
