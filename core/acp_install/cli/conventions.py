"""Option conventions shared by every command (and by commands other modules add).

- ``-o/--output`` is always a **format** (``text``, ``json``, ``yaml`` where it makes sense):
  :func:`format_option`, printed by :func:`emit`.
- Where a command writes files, the path is ``--out FILE`` (one file; ``-`` is standard output)
  or ``--output-dir DIR`` (a directory; ``-`` is refused, :func:`refuse_stdout_dir`).
- The spellings of earlier releases (``init -o FILE``, ``render -o DIR``) keep working with a
  one-line deprecation notice on standard error: :func:`legacy_path`, :func:`split_format`.

Nothing here imports more than ``click`` (and ``yaml`` when YAML is printed), so ``--help``
stays fast.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import click

from ..errors import UsageError

FORMATS = ("text", "json", "yaml")
STDOUT = "-"


def format_option(choices: Sequence[str] = FORMATS, help_text: str = "") -> Callable[[Any], Any]:
    """``-o/--output FORMAT`` (stored as ``fmt``), default ``text``."""
    return click.option("-o", "--output", "fmt", type=click.Choice(list(choices)), default="text",
                        show_default=True, help=help_text or f"Output format: {'|'.join(choices)}.")


def emit(data: Any, fmt: str) -> None:
    """A document as JSON (indented, keys sorted) or YAML on standard output."""
    if fmt == "yaml":
        import yaml

        click.echo(yaml.safe_dump(data, sort_keys=True, default_flow_style=False), nl=False)
    else:
        click.echo(json.dumps(data, indent=2, sort_keys=True))


def deprecated(old: str, new: str) -> None:
    """The one-line notice for an old spelling that still works."""
    click.echo(f"warning: {old} is deprecated, use {new} (-o/--output is the output format "
               "everywhere)", err=True)


def legacy_path(command: str, given: str | None, legacy: str | None, new_flag: str) -> str | None:
    """The path of ``new_flag``, or of the old ``-o PATH`` spelling (with the deprecation notice).

    Both given is a usage error: which one was meant cannot be guessed.
    """
    if legacy is None:
        return given
    if given is not None:
        raise UsageError(f"{command}: both {new_flag} and -o {legacy} given",
                         hint=f"use {new_flag} only (-o/--output is the output format)")
    deprecated(f"`{command} -o PATH`", f"{new_flag} PATH")
    return legacy


def refuse_stdout_dir(flag: str, value: str) -> None:
    """A directory cannot be standard output."""
    if value == STDOUT:
        raise UsageError(f"{flag} -: a directory cannot be standard output",
                         hint=f"give a directory path to {flag} (`-` means standard output only "
                              "where one file is written, e.g. `init --out -`)")


def split_format(command: str, value: str | None, choices: Sequence[str] = FORMATS) -> tuple[str, str | None]:
    """``-o VALUE`` of a command whose ``-o`` was a path in earlier releases: (format, old path).

    A value that is one of the formats is the format; anything else is the old path spelling.
    """
    if value is None or value in choices:
        return value or "text", None
    return "text", value
