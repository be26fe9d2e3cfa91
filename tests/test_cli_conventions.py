"""Option conventions: ``-o`` is a format everywhere, paths are ``--out``/``--output-dir``, old
spellings still work with a notice, ``-`` is stdout for one file only; shell completion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from acp_install.cli.main import main

from specs import example, write


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def test_init_out_file_and_stdout_and_the_old_spelling(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(capsys, "init", "--provider", "dcs", "--out", str(tmp_path / "a.yaml"))
    assert rc == 0 and out == "" and "deprecated" not in err
    rc, out, _ = run(capsys, "init", "--provider", "dcs", "--out", "-")
    assert rc == 0 and out == (tmp_path / "a.yaml").read_text()
    rc, _, err = run(capsys, "init", "--provider", "dcs", "-o", str(tmp_path / "b.yaml"))
    assert rc == 0 and (tmp_path / "b.yaml").read_text() == out
    assert "`init -o PATH` is deprecated, use --out PATH" in err
    rc, _, err = run(capsys, "init", "--provider", "dcs", "-o", "x.yaml", "--out", "y.yaml")
    assert rc == 2 and "both --out and -o" in err


def test_render_output_dir_format_and_the_old_spelling(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       canaries: dict[str, str]) -> None:
    spec = write(tmp_path / "s.yaml", example("dcs"))
    rc, out, err = run(capsys, "render", "-f", str(spec), "--output-dir", str(tmp_path / "a"), "-o", "json")
    assert rc == 0, err
    listing = json.loads(out)
    assert listing["directory"] == str(tmp_path / "a")
    assert str(tmp_path / "a" / "global.yaml") in listing["files"]
    rc, out, err = run(capsys, "render", "-f", str(spec), "--output-dir", str(tmp_path / "y"), "-o", "yaml")
    assert rc == 0 and yaml.safe_load(out)["files"]
    rc, out, err = run(capsys, "render", "-f", str(spec), "-o", str(tmp_path / "b"))
    assert rc == 0 and "`render -o PATH` is deprecated, use --output-dir PATH" in err
    assert (tmp_path / "b" / "global.yaml").read_text() == (tmp_path / "a" / "global.yaml").read_text()
    rc, _, err = run(capsys, "render", "-f", str(spec), "--output-dir", "-")
    assert rc == 2 and "a directory cannot be standard output" in err
    rc, _, err = run(capsys, "render", "-f", str(spec))
    assert rc == 2 and "missing --output-dir" in err


def test_validate_json_and_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str], canaries: dict[str, str]) -> None:
    spec = write(tmp_path / "s.yaml", example("dcs"))
    rc, out, _ = run(capsys, "validate", "-f", str(spec), "-o", "json")
    doc = json.loads(out)
    assert rc == 0 and doc["valid"] is True and doc["provider"] == "dcs" and doc["objects"] > 0
    assert all(f["severity"] == "warning" for f in doc["findings"])
    data = example("dcs")
    data["controlPlane"]["replicas"] = "three"
    bad = write(tmp_path / "bad.yaml", data)
    rc, out, err = run(capsys, "validate", "-f", str(bad), "-o", "yaml")
    doc = yaml.safe_load(out)
    assert rc == 3 and doc["valid"] is False
    error = next(f for f in doc["findings"] if f["severity"] == "error")
    assert error["path"] == "controlPlane.replicas" and error["line"] and error["fix"]
    assert "error:" in err  # people still read why on standard error
    for value in canaries.values():
        assert value not in out + err


def test_providers_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "providers", "-o", "yaml")
    assert rc == 0 and {p["id"] for p in yaml.safe_load(out)["providers"]} >= {"dcs"}


def _complete(words: str, cword: int) -> list[str]:
    env = {**os.environ, "_ACP_INSTALL_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    proc = subprocess.run([sys.executable, "-m", "acp_install.cli.main"], env=env, capture_output=True,
                          text=True, timeout=60)
    return [line.split(",", 1)[1] for line in proc.stdout.splitlines() if "," in line]


def test_completion_scripts_and_answers(capsys: pytest.CaptureFixture[str]) -> None:
    for shell, marker in (("bash", "complete -o nosort -F"), ("zsh", "compdef"), ("fish", "complete --no-files")):
        rc, out, _ = run(capsys, "completion", shell)
        assert rc == 0 and marker in out and "_ACP_INSTALL_COMPLETE" in out, shell
    rc, _, err = run(capsys, "completion", "tcsh")
    assert rc == 2 and "tcsh" in err
    # what the bash script asks acp-install when TAB is pressed
    assert "install" in _complete("acp-install ins", 1)
    assert "completion" in _complete("acp-install compl", 1)
    assert set(_complete("acp-install validate -o ", 3)) == {"text", "json", "yaml"}
    assert "--no-color" in _complete("acp-install install --no", 2)


DOCS = [Path(__file__).resolve().parent.parent / p for p in ("README.md", "docs/user-guide.md")]


def _doc_command_lines() -> list[str]:
    """Every ``acp-install ...`` line of the bash blocks of the README and the user guide."""
    import re

    lines = []
    for doc in DOCS:
        for block in re.findall(r"```bash\n(.*?)```", doc.read_text(), re.S):
            for line in block.splitlines():
                line = line.split(" # ")[0].strip()
                line = re.sub(r'^eval "\$\((.*)\)"$', r"\1", line)
                for part in re.split(r"\s*(?:&&|\|)\s*", line):
                    part = re.sub(r"^(\S+=\S+ )+", "", part).strip()
                    part = part.removeprefix(".venv/bin/")
                    if part.startswith("acp-install ") and "<" not in part and "..." not in part:
                        lines.append(part.split(" > ")[0])
    return lines


@pytest.mark.parametrize("line", _doc_command_lines())
def test_documented_command_lines_parse(line: str) -> None:
    """The examples of the docs are command lines the CLI accepts (options, choices, arguments)."""
    import shlex
    import warnings

    import click

    from acp_install.cli.main import cli

    args = shlex.split(line)[1:]
    command: click.Command = cli
    ctx = cli.make_context("acp-install", list(args), resilient_parsing=True)
    while isinstance(command, click.Group):
        with warnings.catch_warnings():  # protected_args: deprecated in click 8.2, still filled
            warnings.simplefilter("ignore", DeprecationWarning)
            name, *args = [*ctx.protected_args, *ctx.args]
        sub = command.get_command(ctx, name)
        assert sub is not None, f"{line}: no command {name!r}"
        command = sub
        ctx = command.make_context(name, list(args), parent=ctx)  # raises on a bad option or choice


def test_every_doc_example_is_checked() -> None:
    lines = _doc_command_lines()
    assert any(ln.startswith("acp-install completion ") for ln in lines)
    assert any("--output-dir" in ln for ln in lines) and any(" -o json" in ln for ln in lines)


def test_plugin_new_output_dir_and_the_old_spelling(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(capsys, "plugin", "new", "acme", "--output-dir", "-")
    assert rc == 2 and "a directory cannot be standard output" in err
    rc, _, err = run(capsys, "plugin", "new", "acme", "--out", str(tmp_path / "a"))
    assert rc == 0 and "`plugin new --out DIR` is deprecated, use --output-dir DIR" in err
    assert (tmp_path / "a" / "pyproject.toml").exists()
