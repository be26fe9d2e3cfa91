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
from . import conventions


def _warn(findings: tuple[Finding, ...] | list[Finding], source: str, *, always: bool = False) -> None:
    from .view import show_spec_warnings

    show_spec_warnings(findings, source, always=always)


@click.command()
@click.option("--provider", "provider_id", required=True, help="Provider id (see `acp-install providers`).")
@click.option("--from-env", is_flag=True, help="Take the Step 1 variables from the environment.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False),
              help="Write the spec to this file (default, or `-`: standard output).")
@click.option("-o", "--output", "legacy_out", type=click.Path(dir_okay=False), hidden=True,
              help="Deprecated spelling of --out.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(provider_id: str, from_env: bool, out_file: str | None, legacy_out: str | None,
         force: bool) -> None:
    """Write a commented example install spec that validates as is."""
    from ..plugins import load_provider
    from ..spec.example import example_from_env, example_spec

    output = conventions.legacy_path("init", out_file, legacy_out, "--out")
    provider = load_provider(provider_id)
    if from_env:
        result = example_from_env(provider, os.environ)
        text = result.text
        # on stderr, so `init --from-env > global.yaml` keeps a clean spec
        click.echo("read from the environment: " + (", ".join(result.read) or
                   "no Step 1 variable was set"), err=True)
        if result.kept:
            click.echo("kept example values (replace them before installing): "
                       + ", ".join(result.kept), err=True)
    else:
        text = example_spec(provider)
    if output is None or output == conventions.STDOUT:
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
@click.option("-f", "--file", "spec_files", required=True, multiple=True, type=click.Path(dir_okay=False),
              help="Install spec (repeat for several; a kind: DRPair file is checked as a pair).")
@conventions.format_option(help_text="text: findings for people; json or yaml: one document "
                                     "(valid, provider, objects, findings) for programs, a list of "
                                     "them for several files.")
@click.pass_context
def validate(ctx: click.Context, spec_files: tuple[str, ...], fmt: str) -> None:
    """Validate install specs: structure, common rules, provider rules, naming.

    Every file given is validated (one run reports all of them); the exit code is 3 when any
    is invalid.
    """
    from ..dr.pair import is_pair_file
    from ..errors import SpecError

    if len(spec_files) == 1 and is_pair_file(spec_files[0]):
        from .dr_cmds import validate as dr_validate

        ctx.invoke(dr_validate, files=spec_files, fmt=fmt)
        return
    docs: list[dict[str, Any]] = []
    failed = 0
    for spec_file in spec_files:
        try:
            docs.append(_validate_one(spec_file, fmt))
        except SpecError as err:
            failed += 1
            docs.append({"file": spec_file, "valid": False, "provider": None, "objects": None,
                         "findings": [_finding(f, err.source) for f in err.findings]})
            if len(spec_files) == 1:
                if fmt != "text":  # the document first, for the program; then the exit code 3
                    conventions.emit(docs[0], fmt)
                raise
            if fmt == "text":
                click.echo(f"error: {err}", err=True)
    if fmt != "text":
        conventions.emit(docs[0] if len(spec_files) == 1 else docs, fmt)
    if failed:
        ctx.exit(SpecError.exit_code)


def _validate_one(spec_file: str, fmt: str) -> dict[str, Any]:
    """One file's document (text mode prints its lines); raises :class:`SpecError`."""
    from ..plan import build_plan
    from ..spec.load import load_spec

    loaded = load_spec(spec_file)
    plan = build_plan(loaded)  # the naming convention runs on the rendered objects too
    if fmt == "text":
        _warn(loaded.warnings, loaded.source, always=True)
        click.echo(f"{spec_file}: valid ({loaded.provider.info.display_name}, "
                   f"{len(plan.manifest)} objects, {len(loaded.warnings)} warning(s))")
    return {"file": spec_file, "valid": True, "provider": loaded.provider.id,
            "objects": len(plan.manifest),
            "findings": [_finding(f, loaded.source) for f in loaded.warnings]}


def _finding(f: Finding, source: str | None) -> dict[str, Any]:
    return {"severity": f.severity, "path": f.path, "line": f.line, "file": source,
            "message": f.message, "fix": f.fix, "rule": f.rule}


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
@click.option("--output-dir", "out_dir", type=click.Path(file_okay=False),
              help="Directory to write the artifacts to (created if missing).")
@click.option("-o", "--output", "output", metavar="FORMAT",
              help="Format of the list of files written: text (default), json or yaml.")
@click.option("--include-secrets", is_flag=True,
              help="Write secret values (files holding them are created mode 0600).")
@click.option("--force", is_flag=True,
              help="Replace files already in the output directory (never the spec itself).")
def render(spec_file: str, out_dir: str | None, output: str | None, include_secrets: bool,
           force: bool) -> None:
    """Render every artifact of the install into a directory, without touching a cluster.

    Existing files are replaced only with --force, and the spec never: ``-o ""`` (an unset
    variable) or ``--output-dir .`` beside a spec named global.yaml would otherwise overwrite it.
    """
    fmt, legacy = conventions.split_format("render", output)
    directory = conventions.legacy_path("render", out_dir, legacy, "--output-dir")
    if directory is None:
        raise UsageError("missing --output-dir DIR", hint="e.g. acp-install render -f global.yaml "
                                                         "--output-dir out/")
    if not directory:
        raise UsageError("the output directory is empty (an unset shell variable?)",
                         hint="give --output-dir the directory to render into, e.g. --output-dir out/")
    conventions.refuse_stdout_dir("--output-dir", directory)
    from ..plan import build_plan, write_plan
    from ..spec.load import load_spec

    loaded = load_spec(spec_file)
    _warn(loaded.warnings, loaded.source)
    plan = build_plan(loaded)
    written = [str(path) for path in write_plan(plan, directory, include_secrets=include_secrets,
                                                overwrite=force,
                                                protect=[("spec being rendered", spec_file)])]
    if fmt == "text":
        for path in written:
            click.echo(path)
    else:
        conventions.emit({"directory": directory, "files": written}, fmt)


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
@conventions.format_option()
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
    if fmt != "text":
        conventions.emit({"contract": CONTRACT_VERSION, "providers": rows}, fmt)
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


