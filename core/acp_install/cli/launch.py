"""The ``acp-install`` console script: ``--version`` answered before anything else is imported.

Why: ``acp-install --version`` is what scripts and support ask first; importing click (and the
metadata machinery behind ``click.version_option``) tripled a bare interpreter's start-up for
one line of output. Everything else goes to :func:`acp_install.cli.main.main`, which prints the
same line for ``--version`` given with other options.
"""

from __future__ import annotations

import sys


def version_line() -> str:
    from .._version import __version__

    return f"acp-install, version {__version__}"


def run() -> None:  # pragma: no cover - exercised as a subprocess by tests/test_cli.py
    if sys.argv[1:] == ["--version"]:
        sys.stdout.write(version_line() + "\n")
        sys.exit(0)
    from .main import main

    sys.exit(main())
