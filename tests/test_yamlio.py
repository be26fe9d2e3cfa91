"""The fast YAML reader and writer give exactly what the round-trip (ruamel) ones give.

``yamlio`` reads with libyaml and writes plain data directly because ruamel costs milliseconds
per document (bench/plan.py); both fast paths hand anything they cannot prove identical to
ruamel. These tests compare the two on every YAML file of the repository, every provider's
example and rendered plan, and seeded random documents full of strings that need quoting —
and count that the examples really take the fast paths (what the speed depends on).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

import acp_install
from acp_install import plugins, yamlio
from acp_install.spec.example import example_spec
from acp_install.spec.load import parse

from specs import example
from support import CANARIES, ROOT

PROVIDERS = ["dcs", "vsphere", "hcs", "baremetal"]


def canon(value: Any) -> Any:
    """Data with its types spelled out (``1 == 1.0 == True`` would hide a difference)."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", int(value))
    if isinstance(value, float):
        return ("float", repr(float(value)))
    if isinstance(value, str):
        return ("str", str(value))
    if value is None:
        return None
    if isinstance(value, dict):
        return ("map", [(k, canon(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("seq", [canon(v) for v in value])
    return ("other", repr(value))


def both_read(text: str) -> tuple[Any, Any] | None:
    """(fast, round-trip) readings of ``text``, or None when the fast reader hands it over."""
    try:
        fast = yamlio._load_fast(text)
    except yamlio._Fallback:
        return None
    except yamlio.YamlSyntaxError:
        raise
    except Exception:  # a syntax error libyaml reports: load_all asks ruamel for its message
        with pytest.raises(yamlio.YamlSyntaxError):
            yamlio._load_roundtrip(text)
        return None
    slow = yamlio._load_roundtrip(text)
    return ([(canon(d), i, s) for d, i, s in fast], [(canon(d), i, s) for d, i, s in slow])


def repo_yaml() -> list[Path]:
    skip = {".venv", ".git", "node_modules"}
    return sorted(p for p in ROOT.rglob("*.y*ml") if not skip & set(p.parts))


def test_every_yaml_file_of_the_repository_reads_the_same() -> None:
    compared = 0
    for path in repo_yaml():
        pair = both_read(path.read_text(encoding="utf-8"))
        if pair is not None:
            assert pair[0] == pair[1], path
            compared += 1
    assert compared >= 10


@pytest.mark.parametrize("provider_id", PROVIDERS)
def test_the_examples_read_the_same_and_take_the_fast_path(provider_id: str) -> None:
    text = example_spec(acp_install.load_provider(provider_id))
    pair = both_read(text)
    assert pair is not None, "the example fell back to the round-trip reader"
    assert pair[0] == pair[1]
    assert pair[0][0][1], "no line recorded"


SCALARS = ["yes", "no", "on", "off", "y", "n", "true", "True", "TRUE", "tRue", "false", "null", "Null",
           "~", "", "0", "00", "010", "0o10", "0x1F", "0b101", "1_000", "-1", "+1", "1.5", "-1.5", "1.",
           "1e3", "1.0e3", ".5", ".inf", "-.inf", ".nan", "2024-01-01", "2024-1-1 10:00:00", "12:30",
           "1:20:30", "<<", "=", "v1.34", "192.168.1.10", "10.0.0.0/8", "'q'", '"d"', "!!int '1'",
           "[a, b]", "{a: 1}", "é", "0.0", "-0", "+0", "1__0", "0_1", "_1", "1_", "0x", "3.14_15",
           "a # c", "|\n  lit\n", ">\n  fold\n  more\n", "|-\n  a\n\n  b\n", "&x v", "!custom v"]
# an explicit !!str: the round-trip reader refuses the tagged object; see
# test_explicit_str_tag_reads_as_the_string


@pytest.mark.parametrize("scalar", SCALARS)
def test_a_scalar_reads_the_same_or_is_handed_over(scalar: str) -> None:
    for text in (f"k: {scalar}\n", f"- {scalar}\n", f"'{scalar}': v\n", f"a:\n  b:\n    - x: {scalar}\n"):
        pair = both_read(text)
        if pair is not None:
            assert pair[0] == pair[1], text


def test_explicit_str_tag_reads_as_the_string() -> None:
    # ruamel hands over a TaggedScalar object here; the fast reader gives the string it means
    assert yamlio.load_all("k: !!str 1\n")[0][0] == {"k": "1"}


def test_what_the_fast_reader_refuses_the_round_trip_reader_still_reads() -> None:
    assert yamlio.load_all("d: 2024-01-01\n")[0][0]["d"].year == 2024
    assert yamlio.load_all("base: &b {x: 1}\nk:\n  <<: *b\n")[0][0]["k"] == {"x": 1}
    with pytest.raises(yamlio.YamlSyntaxError) as err:
        yamlio.load_all("a: 1\na: 2\n")
    assert err.value.line == 2
    with pytest.raises(yamlio.YamlSyntaxError, match="alias bomb"):
        yamlio.load_all("a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                        + "".join(f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
                                  for p, c in zip("abcdef", "bcdefg", strict=True)))


# --- writing ------------------------------------------------------------------------------------

def both_write(document: Any) -> tuple[str, str] | None:
    try:
        fast = yamlio._dump_fast(document)
    except yamlio._Fallback:
        return None
    return fast, yamlio._dump_roundtrip(document)


@pytest.mark.parametrize("provider_id", PROVIDERS)
def test_every_rendered_document_writes_the_same_on_the_fast_path(provider_id: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)
    plan = acp_install.build_plan(parse(example(provider_id)))
    documents = [*plan.package_objects, *plan.appreleases, *plan.manifest]
    if plan.extra_resources is not None:
        documents.append(plan.extra_resources)
    for doc in documents:
        resolved = yamlio.resolve_secrets(doc, reveal=False)
        pair = both_write(resolved)
        assert pair is not None, f"{doc['kind']} fell back to ruamel"
        assert pair[0] == pair[1], doc["kind"]


PIECES = ["yes", "No", "on", "1", "0x1", "1.5", "1e3", "~", "null", "true", "a: b", "a:b", "#x", "a #x",
          "- a", "-a", " lead", "trail ", "it's", 'say "x"', "@x", "`x", "%x", "!x", "&x", "*x", "|x",
          ">x", "?x", "? x", "{x}", "[x]", "a,b", "é", "日本", "tab\there", "a\nb", "a\n", "a\n\n",
          "\nlead", " a\nb", "a  \nb", "x" * 1200, "", "-", ":", "::", "a: ", "2024-01-01", "<<", "=",
          "${VAR}", "$(cmd)", "http://x:1/y?z=1#f", "192.168.1.10:11443", "--flag=v", "\\", "\x07"]


def random_value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth < 3 and roll < 0.15:
        return {rng.choice(PIECES): random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    if depth < 3 and roll < 0.3:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if roll < 0.35:
        return rng.choice([True, False, None, 0, -7, 1234567890123, 1.5])
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 3)))


def test_seeded_random_documents_write_the_same() -> None:
    rng = random.Random(13)
    fast = 0
    for _ in range(1000):
        doc = {rng.choice(PIECES): random_value(rng, 0) for _ in range(rng.randint(1, 5))}
        pair = both_write(doc)
        if pair is not None:
            assert pair[0] == pair[1], doc
            fast += 1
    assert fast > 200  # the comparison is not vacuous


# --- providers are loaded once ------------------------------------------------------------------

def test_parse_reuses_the_provider_and_the_entry_point_scan(monkeypatch: pytest.MonkeyPatch,
                                                            tmp_path: Path) -> None:
    # the scan is redone when a directory on sys.path changes, the current one ("") included:
    # run where no other test (another xdist worker writing into the checkout) changes it
    monkeypatch.chdir(tmp_path)
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)
    data = example("dcs")
    first = parse(data).provider
    scans = []
    real = plugins._scan
    monkeypatch.setattr(plugins, "_scan", lambda: scans.append(1) or real())
    for _ in range(5):
        assert parse(data).provider is first
    assert scans == []


def test_a_new_distribution_on_the_path_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "zzcache" not in plugins.installed()
    info = tmp_path / "acp_install_zzcache-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acp-install-zzcache\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[acp_install.providers]\nzzcache = fakeprovider:plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "zzcache" in plugins.installed()
    monkeypatch.setenv(plugins.DISABLE_ENV, "zzcache")
    assert "zzcache" not in plugins.installed()
