"""Reading a file the user named, with bounds: one regular UTF-8 text file of bounded size.

Why not ``Path.read_text``: a spec or manifest path given on the command line can be anything —
``/dev/zero`` (reads forever, memory grows until the machine swaps), a FIFO (blocks until some
writer appears: the command hangs), a directory, a binary file. Each of those is a user mistake
with a documented exit code and a message saying what to give instead, never a hang or a
traceback.
"""

from __future__ import annotations

import os
import stat

__all__ = ["MAX_MANIFEST_BYTES", "MAX_SPEC_BYTES", "UnreadableInput", "read_text"]

#: An install spec is a hand-written page of YAML (the examples are ~5 KB); 1 MiB is far beyond
#: any real one and keeps the line-keeping YAML parse of the largest accepted file to seconds.
MAX_SPEC_BYTES = 1 << 20
#: Hand-written manifests given to ``lint`` (several objects per file, CRDs included).
MAX_MANIFEST_BYTES = 8 << 20


class UnreadableInput(ValueError):
    """The file cannot be used as text input; ``fix`` says what to give instead."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_text(path: str | os.PathLike[str], *, limit: int = MAX_SPEC_BYTES,
              what: str = "file") -> str:
    """The UTF-8 text of the regular file ``path``, at most ``limit`` bytes.

    Opened non-blocking so a FIFO is recognised instead of waited on; the size is checked
    both from ``fstat`` and by reading at most ``limit + 1`` bytes (``/proc`` files report 0).
    Raises :class:`UnreadableInput` (never ``OSError`` or ``UnicodeDecodeError``).
    """
    try:
        fd = os.open(os.fspath(path), os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise UnreadableInput(f"cannot read {what}: {err.strerror or err}",
                              f"check the path of the {what}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnreadableInput(f"{what} is {_kind(st.st_mode)}, not a regular file",
                                  f"give the path of the {what} file")
        if st.st_size > limit:
            raise UnreadableInput(f"{what} is {st.st_size} bytes, more than the {limit} accepted",
                                  f"check the path of the {what} (this is far larger than one)")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            try:
                chunk = os.read(fd, min(1 << 16, limit + 1 - size))
            except OSError as err:
                raise UnreadableInput(f"cannot read {what}: {err.strerror or err}",
                                      f"check the path of the {what}") from None
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise UnreadableInput(f"{what} is more than the {limit} bytes accepted",
                                  f"check the path of the {what} (this is far larger than one)")
    finally:
        os.close(fd)
    data = b"".join(chunks)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UnreadableInput("not a UTF-8 text file",
                              f"give the YAML {what} (a text file)") from None
    if "\x00" in text:
        raise UnreadableInput("not a text file (it holds NUL bytes)", f"give the YAML {what}")
    return text
