"""The docs' examples run: every Python block of ``docs/`` and the README, and every
``Example::`` block of the hook docstrings, importing only public names.

A Python block is run as a script in a fresh interpreter (working directory and HOME a scratch
directory), so it must be complete: its own imports, nothing from another block. Hook examples
are fragments by nature (one hookimpl each): they run with the author API imported and are
registered against the real hook specs, which checks their argument names.
"""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import attrs
import pluggy
import pytest

from acp_install import hookspecs  # private: the test reads the hook docstrings themselves
from acp_install.plugins import iter_hook_names

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
FENCE = re.compile(r"^```python\n(.*?)^```", re.M | re.S)
#: Private modules an example must not import (public: acp_install, acp_install.provider,
#: acp_install.errors, acp_install_sandbox and its provider API, acp_install.testing).
PRIVATE_IMPORT = re.compile(
    r"^\s*(from|import)\s+acp_install(\.(?!provider\b|errors\b|testing\b)\w+|_sandbox\.(?!provider\b|pytest_plugin\b)\w+)",
    re.M)


def python_blocks() -> list[tuple[str, str]]:
    blocks = []
    for path in DOCS:
        text = path.read_text()
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 2
            blocks.append((f"{path.relative_to(ROOT)}:{line}", match.group(1)))
    return blocks


BLOCKS = python_blocks()


def test_the_docs_have_python_examples() -> None:
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize(("where", "code"), BLOCKS, ids=[w for w, _ in BLOCKS])
def test_docs_python_block_runs(where: str, code: str, tmp_path: Path) -> None:
    assert not PRIVATE_IMPORT.search(code), f"{where}: imports a private module"
    env = {**os.environ, "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, f"{where} failed:\n{proc.stdout}\n{proc.stderr}"


def hook_examples() -> list[tuple[str, str]]:
    out = []
    for name in sorted(iter_hook_names()):
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        _, sep, rest = doc.partition("Example::")
        if sep:
            block = []
            for line in rest.splitlines()[1:]:
                if line and not line.startswith(" "):
                    break
                block.append(line)
            out.append((name, textwrap.dedent("\n".join(block))))
    return out


HOOK_EXAMPLES = hook_examples()

#: What a hook example may assume: the author API, attrs, a provider's spec section class and
#: its installer wire-value constants (docs/plugin-authors.md, "Installer wire values").
PREAMBLE = """
import attrs
from acp_install.provider import *
from acp_install.provider import hookimpl

INSTALLER_CONFIG_PATH = "/cpaas-installer/api/config/foo"
IMPORT_CONFIGMAP = "foo-import-extra-resources"
CHART_CLUSTER_TYPE = "Foo"

@attrs.frozen
class FooPlatform:
    region: str = "eu-1"
"""


def test_every_hook_has_an_example() -> None:
    assert sorted(name for name, _ in HOOK_EXAMPLES) == sorted(iter_hook_names())


@pytest.mark.parametrize(("hook", "code"), HOOK_EXAMPLES, ids=[h for h, _ in HOOK_EXAMPLES])
def test_hook_example_registers_against_the_spec(hook: str, code: str) -> None:
    assert not PRIVATE_IMPORT.search(code), f"{hook} example imports a private module"
    namespace: dict[str, Any] = {}
    exec(compile(PREAMBLE + code, f"<{hook} example>", "exec"), namespace)
    impl = namespace.get(hook)
    assert callable(impl), f"the {hook} example does not define {hook}()"
    plugin = type("Example", (), {hook: staticmethod(impl)})
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(plugin)  # validates the implementation's argument names against the spec
    pm.check_pending()
    if not inspect.signature(impl).parameters:  # nothing to invent: call it and check the record
        result = impl()
        assert attrs.has(type(result)), f"{hook} example returns {type(result).__name__}, not a record"
