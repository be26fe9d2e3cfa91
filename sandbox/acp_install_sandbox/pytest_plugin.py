"""pytest fixtures that start an emulated minialauda per test.

Registered with pytest (entry point ``pytest11``): installing ``acp-install-sandbox`` gives
every test suite, plugin authors' included, these fixtures with no conftest line::

    def test_install(sandbox):                      # happy path
        ...sandbox.kubeconfig_path, sandbox.installer_url...

    @pytest.mark.sandbox(scenario="machines-pending")
    def test_stall(sandbox): ...

    def test_two(sandbox_factory):
        a = sandbox_factory(scenario="happy"); b = sandbox_factory(scenario="installer-fail")

Each sandbox takes its own random 127.x.y.z address, so the installer can listen on the seed's
port 8080 in every one of them and parallel runs do not collide. ``ACP_SANDBOX_CRDS`` sets a
default CRD override directory; ``ACP_SANDBOX_SPEED`` the default time scale (50).
"""

from __future__ import annotations

import errno
import os
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .runtime import Sandbox

__all__ = ["pytest_configure", "sandbox", "sandbox_factory", "start_sandbox"]

DEFAULT_SPEED = 50.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sandbox(**options): options for the `sandbox` fixture (scenario, crds_dir, speed, "
        "preinstall_crds, field_validation, ...), passed to acp_install_sandbox.Sandbox",
    )


def _random_loopback() -> str:
    return f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


def start_sandbox(**options: Any) -> Sandbox:
    """Start a :class:`Sandbox` on a free loopback address (retrying on collisions)."""
    options.setdefault("speed", float(os.environ.get("ACP_SANDBOX_SPEED", DEFAULT_SPEED)))
    if "crds_dir" not in options and os.environ.get("ACP_SANDBOX_CRDS"):
        options["crds_dir"] = Path(os.environ["ACP_SANDBOX_CRDS"])
    if "address" in options:
        return Sandbox(**options).start()
    last: OSError | None = None
    for _ in range(20):
        try:
            return Sandbox(address=_random_loopback(), **options).start()
        except OSError as err:
            last = err
            if err.errno == errno.EADDRNOTAVAIL:  # not Linux: only 127.0.0.1 exists
                options.setdefault("installer_port", 0)
                return Sandbox(address="127.0.0.1", **options).start()
            if err.errno != errno.EADDRINUSE:
                raise
    raise RuntimeError(f"no free loopback address for a sandbox: {last}")


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., Sandbox]]:
    """Start any number of sandboxes with ``Sandbox`` keyword options; all stop at teardown."""
    started: list[Sandbox] = []

    def make(**options: Any) -> Sandbox:
        sb = start_sandbox(**options)
        started.append(sb)
        return sb

    yield make
    for sb in reversed(started):
        sb.stop()


@pytest.fixture
def sandbox(request: pytest.FixtureRequest, sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    """A running sandbox; options from ``@pytest.mark.sandbox(...)``."""
    marker = request.node.get_closest_marker("sandbox")
    options = dict(marker.kwargs) if marker else {}
    return sandbox_factory(**options)
