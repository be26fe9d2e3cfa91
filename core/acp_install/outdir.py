"""Writing rendered files into an output directory without writing anywhere else.

Why this is more than ``Path.write_text``: the files include 0600 secrets (the DR key), and the
output directory is a user-given path that may already hold things —

- ``-o ""`` (an unset shell variable) names the current directory, where the spec itself
  usually is, under one of the artifact names (``global.yaml``);
- a sub-directory may be a symlink planted (or left) elsewhere: ``out/dr -> /elsewhere`` would
  receive the key; every directory below the output directory is opened without following
  symlinks (``O_NOFOLLOW`` relative to its parent's descriptor, so it cannot be swapped in
  between the check and the write);
- an existing file may be someone's work: it is replaced only when the caller allows it
  (``render --force``), and the files listed in ``protect`` (the spec being rendered) never.

Everything that can be refused is refused before the first byte is written.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

from .errors import UsageError

__all__ = ["write_files"]

_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | \
    getattr(os, "O_CLOEXEC", 0)


def _same(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _precheck(root: Path, names: Iterable[str], overwrite: bool,
              protected: list[tuple[str, os.stat_result]]) -> None:
    for name in names:
        parts = Path(name).parts
        if Path(name).is_absolute() or ".." in parts:  # names come from the plan, never a user
            raise ValueError(f"output file name {name!r} is not relative")
        node = root
        for i, part in enumerate(parts):
            node = node / part
            try:
                st = os.lstat(node)
            except FileNotFoundError:
                break
            except OSError as err:
                raise UsageError(f"cannot write {node}: {err.strerror or err}",
                                 hint="give -o a directory on a writable file system") from None
            last = i == len(parts) - 1
            if not last:
                if stat.S_ISLNK(st.st_mode):
                    raise UsageError(f"{node} is a symlink: rendered files (secrets among them) are "
                                     "written only into real directories below the output directory",
                                     hint=f"remove the symlink {node}, or render into a fresh directory")
                if not stat.S_ISDIR(st.st_mode):
                    raise UsageError(f"{node} is not a directory", hint="render into a fresh directory")
                continue
            if stat.S_ISDIR(st.st_mode):
                raise UsageError(f"{node} is a directory, where the file {name} goes",
                                 hint="render into a fresh directory")
            for what, pst in protected:
                if _same(st, pst):
                    raise UsageError(f"{node} is the {what}: rendering would overwrite it",
                                     hint="give -o another directory (e.g. -o out/)")
            if not overwrite:
                raise UsageError(f"{node} exists (acp-install did not create it in this run)",
                                 hint="give --output-dir a fresh directory, or --force to replace the files "
                                      "rendered there before")


def _open_dir(root_fd: int, parts: tuple[str, ...], where: Path) -> int:
    """A descriptor of ``root/parts...``, creating each level, never through a symlink."""
    fd = os.dup(root_fd)
    for part in parts:
        with contextlib.suppress(FileExistsError):
            os.mkdir(part, 0o755, dir_fd=fd)
        try:
            nfd = os.open(part, _DIR_FLAGS, dir_fd=fd)
        except OSError as err:
            os.close(fd)
            raise UsageError(f"{where}: {part} is not a real directory ({err.strerror or err})",
                             hint="remove it, or render into a fresh directory") from None
        os.close(fd)
        fd = nfd
    return fd


def write_files(directory: str | os.PathLike[str], files: Mapping[str, tuple[str, bool]], *,
                overwrite: bool = True,
                protect: Iterable[tuple[str, str | os.PathLike[str]]] = ()) -> list[Path]:
    """Write ``files`` (relative name -> (text, holds a secret)) below ``directory``.

    A file holding a secret is created 0600, every other 0644, each through a fresh exclusive
    temporary file renamed over the target (a planted symlink at the target is replaced, never
    followed). ``protect`` lists (what, path) pairs that are never overwritten; with
    ``overwrite=False`` no existing file is. Raises :class:`UsageError` before writing anything
    when a target is refused or the directory cannot be created.
    """
    if not os.fspath(directory):
        raise UsageError("the output directory is empty (an unset shell variable?)",
                         hint="give -o the directory to render into, e.g. -o out/")
    root = Path(directory)
    protected = []
    for what, path in protect:
        with contextlib.suppress(OSError):
            protected.append((what, os.stat(path)))
    _precheck(root, files, overwrite, protected)
    try:
        root.mkdir(parents=True, exist_ok=True)
        root_fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as err:
        raise UsageError(f"cannot create the output directory {root}: {err.strerror or err}",
                         hint="give -o a directory on a writable file system") from None
    written = []
    try:
        for name, (content, secret) in files.items():
            rel = Path(name)
            dfd = _open_dir(root_fd, rel.parts[:-1], root)
            tmp = f".{rel.name}.{secrets.token_hex(6)}"
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                             | getattr(os, "O_CLOEXEC", 0), 0o600, dir_fd=dfd)
                try:
                    os.fchmod(fd, 0o600 if secret else 0o644)
                    with os.fdopen(fd, "w") as fh:
                        fh.write(content)
                    os.replace(tmp, rel.name, src_dir_fd=dfd, dst_dir_fd=dfd)
                except BaseException:
                    with contextlib.suppress(OSError):
                        os.unlink(tmp, dir_fd=dfd)
                    raise
            except OSError as err:
                raise UsageError(f"cannot write {root / name}: {err.strerror or err}",
                                 hint="give -o a directory on a writable file system") from None
            finally:
                os.close(dfd)
            written.append(root / name)
    finally:
        os.close(root_fd)
    return written
