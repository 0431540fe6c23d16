"""Meta-tests: every hook is documented with its signature and has a test named after it; every TOML example of
the docs is a valid config."""

from __future__ import annotations

import inspect
import re
import tomllib
from pathlib import Path

import pytest

from voxhost import hookspecs
from voxhost.cli import _check_tables
from voxhost.settings import load_settings

from .conftest import REPO

HOOKS = sorted(name for name, fn in vars(hookspecs).items() if callable(fn) and hasattr(fn, "voxhost_spec"))


def test_there_are_hooks():
    assert {"register_engines", "register_doors", "startup", "shutdown", "observe_event"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented(hook):
    args = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert f"### {hook}({args})" in (REPO / "docs" / "plugins.md").read_text()
    assert getattr(hookspecs, hook).__doc__


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test(hook):
    source = "\n".join(path.read_text() for path in Path(REPO / "tests").rglob("test_*.py"))
    assert re.search(rf"def test_hook_{hook}\b", source)


def _toml_examples() -> list[tuple[str, str]]:
    """Every TOML block of the README and the docs pages, as ``(file:line, text)``."""
    examples = []
    for page in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        text = page.read_text()
        for block in re.finditer(r"^```toml\n(.*?)^```", text, re.M | re.S):
            examples.append((f"{page.name}:{text[: block.start()].count(chr(10)) + 2}", block.group(1)))
    return examples


@pytest.mark.parametrize(("where", "example"), _toml_examples(), ids=[where for where, _ in _toml_examples()])
def test_toml_example_is_a_valid_config(tmp_path, where, example):
    # A user copies these into voxhost.toml: each must parse (no key given twice) and pass `voxhost check-config`.
    config = tmp_path / "voxhost.toml"
    config.write_text(example)
    tomllib.loads(example)
    _check_tables(load_settings(config, state_dir=str(tmp_path)))


def _table_defaults(page: str) -> dict[str, str]:
    """``key → default`` as a docs page's settings table gives them (``| `a`, `b` | `1`, `2` | ... |`` rows)."""
    rows = re.findall(r"^\| ((?:`\w+`(?:, )?)+) \| ([^|]+) \|", (REPO / "docs" / page).read_text(), re.M)
    out = {}
    for keys, defaults in rows:
        names, values = re.findall(r"`(\w+)`", keys), [value.strip() for value in defaults.split(", ")]
        out.update(zip(names, values if len(values) == len(names) else [defaults.strip()] * len(names), strict=True))
    return out


@pytest.mark.parametrize(("page", "table"), [("mqtt.md", ("doors", "mqtt")), ("text.md", ("text",))])
def test_settings_tables_give_every_key_its_real_default(page, table):
    generated = tomllib.loads((REPO / "configs" / "voxhost.toml").read_text())
    for part in table:
        generated = generated[part]
    documented = _table_defaults(page)
    assert set(generated) <= set(documented), f"{page} leaves out {sorted(set(generated) - set(documented))}"
    for key, value in generated.items():
        shown = documented[key].strip("`")
        try:
            given = tomllib.loads(f"x = {shown}")["x"]
        except tomllib.TOMLDecodeError:
            given = shown  # a bare word (`localhost`), or words for a default of this machine's ("host name")
        assert given == value or given == str(value) or " " in str(given), f"{page}: {key} is {value!r}, not {shown}"


@pytest.mark.parametrize(("page", "door"), [("http.md", "http"), ("wyoming.md", "wyoming")])
def test_settings_blocks_give_every_key_its_real_default(page, door):
    # The block under the page's settings heading, its commented keys (`# key = value`, unset or optional) included.
    text = (REPO / "docs" / page).read_text()
    section = re.split(r"^## (?:All s|S)ettings\n", text, flags=re.M)[1]
    block = re.search(r"^```toml\n(.*?)^```", section, re.M | re.S)
    assert block, f"{page} has no TOML block under its settings heading"
    shown = tomllib.loads(re.sub(r"^# (\w+ = )", r"\1", block.group(1), flags=re.M))["doors"][door]
    generated = tomllib.loads((REPO / "configs" / "voxhost.toml").read_text())["doors"][door]
    assert set(generated) <= set(shown), f"{page} leaves out {sorted(set(generated) - set(shown))}"
    for key, value in generated.items():  # a table of names (voices) is shown in part
        assert isinstance(value, dict) or shown[key] == value, f"{page}: {key} is {value!r}, not {shown[key]!r}"
