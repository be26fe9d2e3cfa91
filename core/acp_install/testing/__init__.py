"""pytest support for provider authors: the conformance suite (:mod:`.conformance`).

This package is a registered pytest plugin (entry point ``pytest11`` named
``acp_install.testing``): pytest loads it at start-up, before any test module is imported, so
the :func:`pytest.register_assert_rewrite` call below is in time and the suite's ``assert``
statements report the values they compared — in an author's test suite too, with no conftest
line. (The entry point is named after the module, so an old ``pytest_plugins =
["acp_install.testing"]`` line finds it registered and is a no-op.) The conformance module itself
is imported only by the test modules that subclass it.

The ``sandbox`` fixtures come from the ``acp-install-sandbox`` distribution, registered with
pytest when it is installed (``acp_install_sandbox.pytest_plugin``).
"""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("acp_install.testing.conformance")
