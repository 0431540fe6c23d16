"""Markdown as a listener hears it, streamed: block structure decided line by line, inline markup per sentence.

Block structure is decided by the start of a line (``#``, ``-``, ``1.``, ``>``, fences, ``|``), so ``BlockStream``
holds back only the first characters of a line until they are known, then lets prose through at once: the first
sentence is not delayed. Headings, list items and table rows end with a sentence mark and a sentence break (so
"Buy milk" and "Call mom" are two sentences, not one); fenced code is dropped (or replaced by a short phrase);
rules are breaks. Inline markup (emphasis, code spans, links, images, HTML tags and entities) closes within a
sentence in practice, so ``inline`` cleans each finished sentence with markdown-it-py, a real CommonMark parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt

BREAK = "\x00"
"""Emitted between blocks: the sentence so far is complete."""

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})(?:\s+|$)")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+|^\s*\d\ufe0f?\u20e3\s*")
"""A list item's marker: a bullet, a number, or a keycap emoji ("1️⃣ Open the app")."""
_QUOTE = re.compile(r"^\s{0,3}(?:>\s?)+")
_HIDDEN = re.compile(r"^\s{0,3}<(think|thinking|reasoning|details)\b[^>]*>", re.IGNORECASE)
"""A model's reasoning (``<think>`` of reasoning models, Open WebUI's ``<details type="reasoning">``): not part of the
answer, never read (it was, at length, before the answer's first word)."""
_RULE = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{1,}:?\s*(?:\|\s*:?-{1,}:?\s*)*\|?\s*$")
_SENTENCE_END = re.compile(r"(?:[.!?…。！？।॥؟]|[:;](?!['-]?[)(]))['\"’”)\]»“«‘›‹]*\s*$")
"""A sentence's final mark, and closing quotes or brackets; not a smiley's (":)" ends a list item with no mark once
emoji are dropped: "- Done :)" was "Done", not "Done.")."""

# A line start that may still become a block marker: "#", "##", "-", "1", "12.", "`", "``", "~~", "---", "* *", "<thi".
_UNDECIDED = re.compile(
    r"^\s*(?:<[A-Za-z]{0,9}(?:\s[^>\n]*)?|#{1,6}|[-*+_](?:\s*[-*_])*\s*|\d{1,9}[.)]?|\d\ufe0f|`{1,2}|~{1,2}|`{3,}.*|~{3,}.*|>|\|.*)$"
)
_UNDECIDED_MAX = 1000
"""A line start still undecided after this many characters (a row of stars, a table row without its end) is
decided as if the line were complete: matching the whole line again on every streamed piece was quadratic."""


def end_sentence(text: str) -> str:
    """``text`` with a final sentence mark, so that engines pause after a heading or a list item."""
    text = text.rstrip()
    if text and not _SENTENCE_END.search(text):
        text += "."
    return text


@dataclass
class _Fence:
    char: str
    length: int


class BlockStream:
    """Markdown block structure, streamed: prose goes through as it comes, block ends become ``BREAK``."""

    def __init__(self, code_phrase: str = "") -> None:
        self.code_phrase = code_phrase
        self._line = ""
        """The current line, not yet ended."""
        self._kind: str | None = None
        """What the current line is, once known: prose, heading, item, table, fence, rule."""
        self._sent = 0
        """Characters of the current line already passed on."""
        self._fence: _Fence | None = None
        self._hidden: str | None = None
        """The closing tag of the reasoning block the text is in ("</think>"), if any."""
        self._paragraph = False
        """Prose is open: a plain line continues it (a newline inside a paragraph is a space)."""

    def feed(self, chunk: str) -> list[str]:
        """Add text; return text for the sentence splitter and ``BREAK`` marks."""
        out: list[str] = []
        self._line += chunk
        if "\n" in chunk:
            # All complete lines at once: taking them one by one copied the rest of the text for each.
            *lines, self._line = self._line.split("\n")
            for line in lines:
                self._end_line(line, out)
                self._kind, self._sent = None, 0
        self._partial(out)
        return out

    def finish(self) -> list[str]:
        """End the text."""
        out: list[str] = []
        if self._line:
            self._end_line(self._line, out)
        self._line, self._kind, self._sent = "", None, 0
        if self._fence is not None:
            self._fence = None
        out.append(BREAK)
        return out

    # -- classification ------------------------------------------------------------------------------------

    def _classify(self, line: str, complete: bool) -> str | None:
        if self._fence is not None:
            return "fence"
        if self._hidden is not None:
            return "hidden"
        if not complete and _UNDECIDED.match(line):
            return None
        if _HIDDEN.match(line):
            return "hidden"
        if _FENCE.match(line):
            return "fence"
        if _RULE.match(line):
            return "rule"
        if _HEADING.match(line):
            return "heading"
        if _ITEM.match(line):
            return "item"
        if line.lstrip().startswith("|"):
            return "table" if complete else None
        return "prose"

    @staticmethod
    def _content(line: str, kind: str) -> tuple[str, int]:
        """The line's text without its block marker, and where that text starts."""
        offset = 0
        quote = _QUOTE.match(line)
        if quote:
            offset = quote.end()
        rest = line[offset:]
        marker = _HEADING.match(rest) if kind == "heading" else _ITEM.match(rest) if kind == "item" else None
        if marker:
            offset += marker.end()
        return line[offset:], offset

    def _open(self, kind: str, out: list[str]) -> None:
        """A block starts: anything before it is a sentence of its own."""
        if kind != "prose" or not self._paragraph:
            out.append(BREAK)
        self._paragraph = kind == "prose"

    def _skip_hidden(self, line: str, out: list[str]) -> None:
        """A line in or opening a reasoning block: nothing is said up to its closing tag, what follows it is read."""
        if self._hidden is None:
            opening = _HIDDEN.match(line)
            assert opening is not None
            self._hidden = f"</{opening.group(1).lower()}>"
            line = line[opening.end() :]
            out.append(BREAK)
            self._paragraph = False
        end = line.lower().find(self._hidden)
        if end == -1:
            return
        rest = line[end + len(self._hidden) :]
        self._hidden, self._kind, self._sent = None, None, 0
        if rest.strip():
            self._end_line(rest, out)

    def _partial(self, out: list[str]) -> None:
        """Pass on what can be passed of an unfinished line."""
        line = self._line
        if not line.strip():
            return
        if self._kind is None:
            quote = _QUOTE.match(line)
            probe = line[quote.end() :] if quote else line
            kind = self._classify(probe, complete=len(probe) > _UNDECIDED_MAX)
            if kind is None:
                return
            self._kind = kind
            if kind in ("prose", "heading", "item"):
                self._open(kind, out)
                _, self._sent = self._content(line, kind)
        if self._kind in ("prose", "heading", "item") and len(line) > self._sent:
            out.append(line[self._sent :])
            self._sent = len(line)

    def _end_line(self, line: str, out: list[str]) -> None:
        if self._hidden is not None or self._kind in (None, "hidden") and _HIDDEN.match(line):
            self._skip_hidden(line, out)
            return
        if self._fence is not None:
            match = _FENCE.match(line)
            closes = match and match.group(1)[0] == self._fence.char and len(match.group(1)) >= self._fence.length
            if match and closes and not line[match.end() :].strip():
                self._fence = None
            return
        if not line.strip():
            if self._paragraph or self._kind is None:
                out.append(BREAK)
            self._paragraph = False
            return
        kind = self._kind
        if kind is None:
            quote = _QUOTE.match(line)
            kind = self._classify(line[quote.end() :] if quote else line, complete=True) or "prose"
            if kind in ("prose", "heading", "item"):
                self._open(kind, out)
                _, self._sent = self._content(line, kind)
        if kind == "fence":
            match = _FENCE.match(line)
            assert match is not None
            self._fence = _Fence(match.group(1)[0], len(match.group(1)))
            out.append(BREAK)
            if self.code_phrase:
                out += [end_sentence(self.code_phrase), BREAK]
            self._paragraph = False
        elif kind == "rule":
            out.append(BREAK)
            self._paragraph = False
        elif kind == "table":
            out.append(BREAK)
            if not _TABLE_SEPARATOR.match(line):
                cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
                text = ", ".join(cell for cell in cells if cell)
                if text:
                    out += [end_sentence(text), BREAK]
            self._paragraph = False
        elif kind in ("heading", "item"):
            rest = line[self._sent :]
            text = rest.rstrip()
            out.append(text)
            out.append(BREAK)  # the block's end; the splitter's sentence gets its final mark there
            self._paragraph = False
        else:
            out.append(line[self._sent :] + " ")


# -- inline markup ---------------------------------------------------------------------------------------------

_MD = MarkdownIt("commonmark", {"html": True}).enable("strikethrough")
_INLINE_HINT = re.compile(r"[*_`\[\]<>&~!\\]")


_CITATION = re.compile(r"(?:(?<=\S)|^)[ \u00a0]?\[(?:\d{1,3}(?:[,–-][ \u00a0]?\d{1,3})*|\^[^\]\s]{1,24})\]")
"""A citation or footnote mark after a word ("studies [1]", "works[2][3].", "here[^1]"): Open WebUI's and search
answers' sources, said as "studies one", "works two three" (also after a link: "[the docs](…) [1]")."""
_LINE_LABEL = re.compile(r"^\s*(?:\[\^[^\]\s]{1,24}\]:|\[[ xX]\](?=\s))\s*")
"""What a sentence may begin with that is no word: a footnote's label ("[^1]: The source.") or a task list's box
("- [x] Call mom": "x Call mom")."""


def _render(tokens: list[Any]) -> str:
    out: list[str] = []
    for token in tokens:
        kind = token.type
        if kind == "text":
            out.append(_CITATION.sub("", token.content))
        elif kind == "code_inline":
            out.append(token.content)
        elif kind in ("softbreak", "hardbreak"):
            out.append(" ")
        elif kind == "image":
            out.append(_render(token.children or []))
        elif token.children:
            out.append(_render(token.children))
        # emphasis, links' open/close, html_inline: their text is in the tokens around them, or nothing to say
    return "".join(out)


def inline(sentence: str) -> str:
    """A sentence's inline markup removed: emphasis, code spans, links (their text), images (their alt text),
    HTML tags and entities, citation and footnote marks, task lists' boxes."""
    if not _INLINE_HINT.search(sentence):
        return sentence
    sentence = _LINE_LABEL.sub("", sentence)
    tokens = _MD.parseInline(sentence)
    return _render(tokens[0].children or []) if tokens else sentence
