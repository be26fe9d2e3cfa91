"""``dr keygen``: the shared aescbc key of a pair, made here so nobody pastes one into a chat.

The seed's ``EncryptionConfiguration`` takes an ``aescbc`` key: 32 random bytes, base64. It is
written with mode 0600 and never printed; what is shown is its SHA-256 prefix, which both
bootstrap hosts can compare (``dr validate`` prints the same digest).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path

from ..errors import UsageError

__all__ = ["KEY_BYTES", "generate_key", "write_key"]

#: aescbc takes a 32-byte key (AES-256)
KEY_BYTES = 32


def generate_key() -> str:
    """Base64 of :data:`KEY_BYTES` random bytes from the OS's CSPRNG."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def write_key(path: str | os.PathLike[str], *, force: bool = False) -> str:
    """Write a fresh key to ``path`` (0600; refuses to replace a file without ``force``).

    Returns the key's short SHA-256 digest (the value itself never leaves the file).
    """
    target = Path(path)
    if str(path) in ("", "-"):
        raise UsageError("--out needs a file path (the key is never printed)",
                         hint="acp-install dr keygen --out /root/dr-encryption.key")
    if target.is_symlink() or target.is_dir():
        raise UsageError(f"--out {target}: not a regular file path", hint="name a new file")
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        fd = os.open(target, flags, 0o600)
    except FileExistsError:
        raise UsageError(f"--out {target} exists: a pair's key is replaced only on purpose",
                         hint="pass --force to replace it (both sides then need the new key), "
                              "or choose another path") from None
    except OSError as err:
        raise UsageError(f"--out {target}: {err.strerror or err}",
                         hint="a writable path whose directory exists") from None
    key = generate_key()
    with os.fdopen(fd, "w") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(key + "\n")
    return hashlib.sha256(key.encode()).hexdigest()[:12]
