"""pytest support for provider authors: the conformance suite (:mod:`.conformance`).

The ``sandbox`` fixtures come from the ``acp-install-sandbox`` distribution, registered with
pytest when it is installed (``acp_install_sandbox.pytest_plugin``).
"""

from __future__ import annotations
