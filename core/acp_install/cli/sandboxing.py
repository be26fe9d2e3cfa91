"""Loading the sandbox distribution on demand.

The sandbox (``acp-install-sandbox``) is a separate distribution: embedders and production
hosts do not carry an emulator. The core never imports it at module level; ``sandbox``,
``demo`` and ``--sandbox`` load it here and, when it is missing, say the one pip command.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from ..errors import UsageError

__all__ = ["PIP_COMMAND", "sandbox_module", "scenario", "scenario_help"]

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


scenario_help = "Sandbox scenario (`acp-install sandbox scenarios` lists them)."
