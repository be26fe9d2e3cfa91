"""pytest plugin for acp-install users and provider authors.

``pytest_plugins = ["acp_install.testing"]`` gives the ``sandbox`` and ``sandbox_factory``
fixtures (an emulated minialauda per test, see :mod:`acp_install.testing.sandbox`).
"""

from __future__ import annotations

from .sandbox import pytest_configure, sandbox, sandbox_factory, start_sandbox

__all__ = ["pytest_configure", "sandbox", "sandbox_factory", "start_sandbox"]
