"""``acp-install completion bash|zsh|fish``: the shell completion script (click's own).

The script calls ``acp-install`` back with ``_ACP_INSTALL_COMPLETE`` set; click answers those
calls before any command runs, so completing imports only the command being completed.
"""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_ACP_INSTALL_COMPLETE"

@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh or fish).

    \b
    bash:  eval "$(acp-install completion bash)"   # in ~/.bashrc
    zsh:   eval "$(acp-install completion zsh)"    # in ~/.zshrc
    fish:  acp-install completion fish > ~/.config/fish/completions/acp-install.fish
    """
    from click.shell_completion import get_completion_class

    from .main import cli

    cls = get_completion_class(shell)
    assert cls is not None  # every choice is one of click's shells
    click.echo(cls(cli, {}, "acp-install", COMPLETE_VAR).source())
