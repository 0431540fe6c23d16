"""docs/text.md's before-and-after table is what the front-end does."""

from __future__ import annotations

import re

import pytest

from voxhost.spoken.frontend import Policy, SpokenText

from ..conftest import REPO

ROW = re.compile(r"^\| (\w+) \| (`+)(.+?)\2 \| (.+) \|$")


def rows() -> list[tuple[str, str, list[str]]]:
    out = []
    for line in (REPO / "docs" / "text.md").read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match and match.group(1) not in ("language", "key"):
            written = match.group(3).replace("\\|", "|").replace("\\n", "\n")
            out.append((match.group(1), written, [s.strip() for s in match.group(4).split(" / ")]))
    return out


def test_the_table_is_there():
    assert len(rows()) >= 20


@pytest.mark.parametrize(("language", "written", "said"), rows())
def test_before_and_after(language, written, said):
    front = SpokenText(Policy(language=language))
    assert [s.text for s in front.feed(written) + front.finish()] == said
