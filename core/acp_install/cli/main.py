"""Entry point of ``acp-install``.

Sub-commands live in their own modules and are imported only when invoked, so
``acp-install --help`` and ``render`` never import ``kubernetes`` or ``httpx``: start-up stays
fast on the air-gapped jump hosts this runs on.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from typing import Any

import click

from .._version import __version__
from ..errors import AcpInstallError, UsageError

# command name -> (module, attribute, one-line help). Order is the order shown in --help.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("acp_install.cli.spec_cmds", "init", "Write a commented example install spec."),
    "validate": ("acp_install.cli.spec_cmds", "validate", "Validate an install spec."),
    "explain": ("acp_install.cli.spec_cmds", "explain", "Describe spec fields."),
    "render": ("acp_install.cli.spec_cmds", "render", "Render every artifact into a directory."),
    "lint": ("acp_install.cli.spec_cmds", "lint", "Check manifests against the naming rule."),
    "schema": ("acp_install.cli.spec_cmds", "schema", "Print the spec's JSON Schema for editors."),
    "providers": ("acp_install.cli.spec_cmds", "providers", "List installed providers."),
    "preflight": ("acp_install.cli.preflight_cmds", "preflight",
                  "Check the site (VIP, DNS, registries, IaaS API) before an install."),
    "install": ("acp_install.cli.install_cmds", "install", "Run the install (resumable)."),
    "status": ("acp_install.cli.install_cmds", "status",
               "Phases, installer stage and live objects; exit code = state."),
    "handoff-check": ("acp_install.cli.handoff_cmds", "handoff_check",
                      "May the bootstrap host be decommissioned?"),
    "kubeconfig": ("acp_install.cli.cluster_cmds", "kubeconfig",
                   "Write the new global cluster's kubeconfig."),
    "verify": ("acp_install.cli.cluster_cmds", "verify",
               "Run the seed's Verification on the new global cluster."),
    "gather": ("acp_install.cli.cluster_cmds", "gather",
               "Write a diagnostics bundle (tar.gz) for a support ticket."),
    "diff": ("acp_install.cli.dryrun_cmds", "diff",
             "What the next install run would change (server-side dry run)."),
    "report": ("acp_install.cli.report_cmds", "report",
               "Rebuild the install report page (report.html) from the work directory."),
    "dr": ("acp_install.cli.dr_cmds", "dr",
           "Disaster recovery pair: validate, keygen, install, join."),
    "demo": ("acp_install.cli.install_cmds", "demo", "Sandbox + full install of the example spec."),
    "sandbox": ("acp_install.cli.sandbox_cmds", "sandbox", "Run the emulated minialauda."),
    "plugin": ("acp_install.cli.plugin_cmds", "plugin", "Provider author tools: plugin new NAME."),
    "completion": ("acp_install.cli.completion_cmds", "completion",
                   "Print the shell completion script: completion bash|zsh|fish."),
}


class LazyGroup(click.Group):
    """A click group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(entry[0])
        command: click.Command = getattr(module, entry[1])
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help text comes from the table, so --help imports no command module.
        rows = [(name, entry[2]) for name, entry in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(version=__version__, prog_name="acp-install")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Install the Alauda Container Platform global cluster through Cluster API."""
    ctx.obj = {"debug": debug}


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; map every known error to its documented exit code, without traceback."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        rv = cli.main(args=args, prog_name="acp-install", standalone_mode=False)
    except AcpInstallError as err:
        if debug:  # the traceback is added; the documented exit code stays
            traceback.print_exc()
        click.echo(f"error: {err}", err=True)
        return err.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as err:
        err.show()
        return UsageError.exit_code if err.exit_code == 2 else err.exit_code
    except click.exceptions.Exit as err:
        return err.exit_code
    except Exception:  # a bug of acp-install or a plugin: one line, the documented code 1
        if debug:
            traceback.print_exc()
        # the text of an unexpected exception may quote anything (a secret too), and its class
        # is a Python name, not words for a user: --debug shows both
        click.echo("error: internal error in acp-install or a provider plugin; re-run with --debug "
                   "for the traceback and report it", err=True)
        return AcpInstallError.exit_code
    return rv if isinstance(rv, int) else 0


def run() -> Any:  # pragma: no cover - console-script shim
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
