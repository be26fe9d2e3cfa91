"""The vSphere encryption key: given by reference, or generated once into a stable location.

vSphere always delivers ``/etc/kubernetes/encryption-provider.conf`` as a KCP file entry, so a
normal install needs a key even when the user gives none. The plan must stay pure and
deterministic, so the key is not drawn at plan time: :class:`GeneratedKey` is a
:class:`~acp_install.secrets.SecretRef` to a file that is created (0600, 32 random bytes,
base64) the first time the value is revealed — ``render --include-secrets`` or the apply — and
read back unchanged ever after. Without secrets, rendered files show a stable placeholder.

The location never depends on the current directory: it is absolute or ``~``-based (default
``~/.acp-install/<controlPlaneVIP>/global-encryption-key``; a relative ``generatedKeyFile`` is
rejected by the checks). ``~`` is kept in :attr:`file` — the placeholder of a plain render is
the same on every machine — and expanded only when the file is used.
"""

from __future__ import annotations

import base64
import os
import secrets as _random
from pathlib import Path

import attrs

from acp_install.provider import SecretRef, SecretValue

KEY_BYTES = 32


@attrs.frozen
class GeneratedKey(SecretRef):
    """A file-backed secret that is generated on first reveal if the file does not exist."""

    @property
    def source(self) -> str:
        return f"file {self.file} (generated on first use)"

    @property
    def path(self) -> Path:
        """The key file, ``~`` expanded (the home of the user running acp-install)."""
        assert self.file is not None
        return Path(self.file).expanduser()

    def available(self) -> bool:
        return True

    def ensure(self) -> Path:
        """Create the key file if missing (exclusively, 0600); return its path."""
        path = self.path
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            key = base64.b64encode(_random.token_bytes(KEY_BYTES)).decode() + "\n"
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another run generated it in between: use that one
                return path
            with os.fdopen(fd, "w") as fh:
                fh.write(key)
        return path

    def reveal(self) -> SecretValue:
        value = SecretRef(file=str(self.ensure())).reveal().get()
        return SecretValue(value, source=self.source)
