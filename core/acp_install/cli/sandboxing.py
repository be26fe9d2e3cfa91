"""Loading the sandbox distribution on demand.

The sandbox (``acp-install-sandbox``) is a separate distribution: embedders and production
hosts do not carry an emulator. The core never imports it at module level; ``sandbox``,
``demo`` and ``--sandbox`` load it here and, when it is missing, say the one pip command.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Any

from ..errors import UsageError

__all__ = ["PIP_COMMAND", "create", "sandbox_module", "scenario", "scenario_help"]

PIP_COMMAND = "pip install 'acp-install[sandbox]'"
DISTRIBUTION = "acp_install_sandbox"


def sandbox_module() -> ModuleType:
    try:
        return importlib.import_module(DISTRIBUTION)
    except ModuleNotFoundError as err:
        if (err.name or "").split(".")[0] != DISTRIBUTION:
            raise
        raise UsageError("the sandbox is not installed (distribution acp-install-sandbox)",
                         hint=PIP_COMMAND) from None


def scenario(name: str) -> Any:
    """The named scenario (built-in or declared by an installed provider), or a usage error."""
    module = sandbox_module()
    known = module.all_scenarios()
    if name not in known:
        raise UsageError(f"unknown sandbox scenario {name!r}",
                         hint=f"one of: {', '.join(known)} (acp-install sandbox scenarios)")
    return known[name]


def create(*, crds_dir: str | os.PathLike[str] | None = None, **options: Any) -> Any:
    """A (not yet started) ``Sandbox``; a bad ``--crds`` directory is a usage error."""
    module = sandbox_module()
    import yaml

    try:
        return module.Sandbox(crds_dir=crds_dir, **options)
    except (OSError, ValueError, yaml.YAMLError) as err:
        where = f"--crds {crds_dir}: " if crds_dir else ""
        raise UsageError(f"{where}{err}", hint="give a directory of CustomResourceDefinition YAML files, or leave "
                                                "--crds out to use the schemas the distributions ship") from None


scenario_help = "Sandbox scenario (`acp-install sandbox scenarios` lists them)."
