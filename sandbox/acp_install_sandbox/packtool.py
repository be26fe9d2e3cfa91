"""A stand-in for the Core Package's ``packtool`` — a TEST DOUBLE, never a product path.

The real ``packtool`` (``installer/res/<arch>/packtool`` in the Core Package) pushes a
provider package's charts and images to minialauda's registry. It cannot run here, so tests
(and the sandbox demo) use this small program with the same command line::

    python -m acp_install_sandbox.packtool pack push -r 127.0.0.1:PORT -c PACK.tgz

It speaks the OCI distribution push API (blob uploads, then the manifest) to the registry at
``-r`` over plain HTTP, and understands only the fixture packs :func:`make_pack` writes: a
``.tgz`` with ``pack.json`` (``{"charts": [{"repository", "version", "archive"}]}``) and the
chart archives it names. Real provider packages are not in this format. Failures are printed
as ``error: ...`` on stderr with exit code 1, as a CLI tool would.

:func:`write_packtool` writes an executable ``packtool`` that runs this module, to point a
spec's ``packages.packtool`` (or a fixture Core Package) at.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tarfile
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from pathlib import Path

from .registry import HELM_CONFIG, HELM_LAYER, OCI_MANIFEST, chart_archive, digest_of

__all__ = ["main", "make_pack", "write_packtool"]


def make_pack(path: str | os.PathLike[str], charts: Iterable[tuple[str, str]]) -> Path:
    """Write a fixture package holding ``(repository, version)`` charts; its path."""
    entries = []
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out, "w:gz") as tar:
        for repo, version in charts:
            name = repo.rsplit("/", 1)[-1].removeprefix("chart-")
            member = f"charts/{name}-{version}.tgz"
            _add(tar, member, chart_archive(name, version))
            entries.append({"repository": repo, "version": version, "archive": member})
        _add(tar, "pack.json", json.dumps({"charts": entries}, indent=2).encode())
    return out


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))


def write_packtool(directory: str | os.PathLike[str]) -> Path:
    """An executable ``packtool`` in ``directory`` that runs this stand-in; its path."""
    target = Path(directory) / "packtool"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f'#!/bin/sh\n# test double of packtool (acp_install_sandbox.packtool)\n'
                      f'exec "{sys.executable}" -m acp_install_sandbox.packtool "$@"\n')
    target.chmod(0o755)
    return target


class PushError(Exception):
    """What the stand-in prints after ``error:``."""


def _request(method: str, url: str, body: bytes = b"", content_type: str = "application/octet-stream"
             ) -> tuple[int, dict[str, str]]:
    req = urllib.request.Request(url, data=body if method in ("POST", "PUT", "PATCH") else None,
                                 method=method, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers)
    except urllib.error.HTTPError as err:
        try:
            errors = json.loads(err.read() or b"{}").get("errors") or []
            detail = "; ".join(f"{e.get('code', '').lower()}: {e.get('message', '')}" for e in errors)
        except ValueError:
            detail = ""
        raise PushError(f"{method} {url}: {err.code} {detail or err.reason}") from None
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise PushError(f"dial tcp {url.split('/')[2]}: {reason}") from None


def _upload(base: str, repo: str, data: bytes) -> str:
    digest = digest_of(data)
    _status, headers = _request("POST", f"{base}/v2/{repo}/blobs/uploads/")
    location = headers.get("Location") or headers.get("location") or ""
    if not location:
        raise PushError("registry gave no upload location")
    url = location if location.startswith("http") else base + location
    _request("PUT", f"{url}{'&' if '?' in url else '?'}digest={digest}", data)
    return digest


def push(registry: str, pack: Path, out: io.TextIOBase | None = None) -> int:
    """Push every chart of ``pack`` to ``registry``; the number pushed."""
    write = (out or sys.stdout).write
    if not pack.is_file():
        raise PushError(f"open {pack}: no such file or directory")
    try:
        with tarfile.open(pack, "r:gz") as tar:
            index = tar.extractfile("pack.json")
            if index is None:
                raise KeyError("pack.json")
            charts = json.loads(index.read())["charts"]
            archives = {c["archive"]: (tar.extractfile(c["archive"]) or io.BytesIO()).read() for c in charts}
    except (tarfile.TarError, KeyError, ValueError, OSError) as err:
        raise PushError(f"{pack}: not a package ({type(err).__name__}: {err})") from None
    base = f"http://{registry}"
    for chart in charts:
        repo, version = chart["repository"], chart["version"]
        write(f"pushing chart {repo}:{version} to {registry}\n")
        archive = archives[chart["archive"]]
        config = json.dumps({"name": repo.rsplit("/", 1)[-1], "version": version}).encode()
        manifest = {
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": HELM_CONFIG, "digest": _upload(base, repo, config), "size": len(config)},
            "layers": [{"mediaType": HELM_LAYER, "digest": _upload(base, repo, archive), "size": len(archive)}],
        }
        _request("PUT", f"{base}/v2/{repo}/manifests/{version.replace('+', '_')}",
                 json.dumps(manifest).encode(), OCI_MANIFEST)
        write(f"pushed {repo}:{version}\n")
    write(f"{len(charts)} chart(s) pushed from {pack.name}\n")
    return len(charts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="packtool", description="test double of packtool")
    sub = parser.add_subparsers(dest="group", required=True)
    pack = sub.add_parser("pack").add_subparsers(dest="verb", required=True)
    push_cmd = pack.add_parser("push")
    push_cmd.add_argument("-r", "--registry", required=True)
    push_cmd.add_argument("-c", "--chart", required=True, help="package .tgz")
    args = parser.parse_args(argv)
    try:
        push(args.registry, Path(args.chart))
    except PushError as err:
        sys.stdout.flush()
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
