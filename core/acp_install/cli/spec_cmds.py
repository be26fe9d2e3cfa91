"""Offline commands: init, validate, explain, render, lint, providers.

None of them touches a cluster, and none imports ``kubernetes`` or ``httpx``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import LintError, UsageError
from ..records import Finding


def _warn(findings: tuple[Finding, ...] | list[Finding], source: str | None) -> None:
    for f in findings:
        click.echo(f.format(source), err=True)


@click.command()
@click.option("--provider", "provider_id", required=True, help="Provider id (see `acp-install providers`).")
@click.option("--from-env", is_flag=True, help="Take the Step 1 variables from the environment.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here (default stdout).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(provider_id: str, from_env: bool, output: str | None, force: bool) -> None:
    """Write a commented example install spec that validates as is."""
    from ..plugins import load_provider
    from ..spec.example import example_spec

    provider = load_provider(provider_id)
    text = example_spec(provider, os.environ if from_env else None)
    if output is None:
        click.echo(text, nl=False)
        return
    path = Path(output)
    if path.exists() and not force:
        raise UsageError(f"{output} exists", hint="use --force to overwrite it")
    try:
        path.write_text(text)
    except OSError as err:
        raise UsageError(f"cannot write {output}: {err.strerror}",
                         hint="check that the directory exists and is writable") from None
    click.echo(f"wrote {output}", err=True)


@click.command()
@click.option("-f", "--file", "spec_file", required=True, type=click.Path(dir_okay=False),
              help="Install spec.")
def validate(spec_file: str) -> None:
    """Validate an install spec: structure, common rules, provider rules, naming."""
    from ..plan import build_plan
    from ..spec.load import load_spec

    loaded = load_spec(spec_file)
    plan = build_plan(loaded)  # the naming convention runs on the rendered objects too
    _warn(loaded.warnings, loaded.source)
    click.echo(f"{spec_file}: valid ({loaded.provider.info.display_name}, "
               f"{len(plan.manifest)} objects, {len(loaded.warnings)} warning(s))")


@click.command()
@click.argument("field", required=False)
@click.option("--provider", "provider_id", help="Include the provider's platform fields.")
def explain(field: str | None, provider_id: str | None) -> None:
    """Describe every spec field: type, default, and where the value comes from."""
    from ..spec.explain import describe

    rows = describe(provider_id, field)
    if not rows:
        raise UsageError(f"no spec field {field!r}", hint="run `acp-install explain` for the list")
    for row in rows:
        click.echo(row)


@click.command()
@click.option("-f", "--file", "spec_file", required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Directory to write the artifacts to.")
@click.option("--include-secrets", is_flag=True,
              help="Write secret values (files holding them are created mode 0600).")
def render(spec_file: str, out_dir: str, include_secrets: bool) -> None:
    """Render every artifact of the install into a directory, without touching a cluster."""
    from ..plan import build_plan, write_plan
    from ..spec.load import load_spec

    loaded = load_spec(spec_file)
    _warn(loaded.warnings, loaded.source)
    plan = build_plan(loaded)
    for path in write_plan(plan, out_dir, include_secrets=include_secrets):
        click.echo(str(path))


@click.command()
@click.option("--provider", "provider_id", help="Include the provider's platform section.")
@click.option("--events", is_flag=True,
              help="Print the schema of the `install -o json` event lines instead.")
def schema(provider_id: str | None, events: bool) -> None:
    """Print the JSON Schema of the spec (for editors such as yaml-language-server)."""
    from ..spec.jsonschema import spec_schema

    if events:
        from .install_cmds import stream_schema

        click.echo(json.dumps(stream_schema(), indent=2))
        return

    platform = None
    if provider_id:
        from ..plugins import load_provider

        platform = load_provider(provider_id).info.platform_type
    click.echo(json.dumps(spec_schema(provider_id, platform), indent=2))


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def lint(files: tuple[str, ...]) -> None:
    """Check hand-written manifests against the global naming convention."""
    from ..lint import lint_files

    findings = lint_files(files)
    if findings:
        raise LintError(findings)
    click.echo(f"{len(files)} file(s): no naming violations")


@click.command()
@click.option("-o", "--output", "fmt", type=click.Choice(["text", "json"]), default="text")
def providers(fmt: str) -> None:
    """List installed providers with version, contract and implemented hooks."""
    import warnings

    from ..hookspecs import CONTRACT_VERSION
    from ..plugins import PluginWarning, load_all

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PluginWarning)
        loaded, broken = load_all()
    rows: list[dict[str, Any]] = [
        {"id": p.id, "name": p.info.display_name, "distribution": p.distribution,
         "version": p.version, "contract": p.info.contract, "hooks": p.hooks_implemented()}
        for p in loaded
    ]
    rows += [{"id": b.id, "distribution": b.distribution, "version": b.version,
              "error": b.error} for b in broken]
    if fmt == "json":
        click.echo(json.dumps({"contract": CONTRACT_VERSION, "providers": rows}, indent=2))
    else:
        click.echo(f"hook contract {CONTRACT_VERSION}")
        for r in rows:
            if "error" in r:
                click.echo(f"{r['id']:<10} {r['distribution']} {r['version']}  BROKEN: {r['error']}")
            else:
                click.echo(f"{r['id']:<10} {r['name']:<20} {r['distribution']} {r['version']}  "
                           f"contract {r['contract']}  hooks: {', '.join(r['hooks'])}")
    for w in caught:  # broken providers are in the table; anything else is shown
        if not issubclass(w.category, PluginWarning):
            click.echo(f"warning: {w.message}", err=True)
    if not rows:
        click.echo("no providers installed (pip install acp-install-<provider>)", err=True)
        sys.exit(0)


