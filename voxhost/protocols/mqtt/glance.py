"""A few top-level fields of a JSON object, read without parsing the rest of it.

A request with audio that is refused ``busy`` is answered on the event loop, at once (a refusal waiting for a thread
would keep its payload, which the budget is there to bound), and its reply echoes the request's ``id``. Parsing the
whole object for that took 15-20 ms of loop time per 14 MB of base64 audio; here a string is skipped by searching for
its closing quote in C and checked with numpy's vectorised minimum and maximum of its bytes, so the same request takes
a fraction of a millisecond. What is skipped is still checked as the parser would check it: a request the parser
refuses gets the parser's answer (``NotJson``: its words at its place, taken from the parser itself, which reads the
few bytes where the object cannot go on in the state it would be in there), never an echo of an id read from a
document that is no JSON. Where that cannot be told cheaply (a nested value of more than ``MAX_VALUE`` bytes that
does not parse, a request past the glance's budget), nothing is read: no id is echoed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Any

import numpy as np

_SPACE = re.compile(rb"[ \t\n\r]*")
_COLON = re.compile(rb"[ \t\n\r]*:[ \t\n\r]*")
_NEXT = re.compile(rb"[ \t\n\r]*([,}])[ \t\n\r]*")
_SCALAR = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null|NaN|-?Infinity")
_NESTING = re.compile(rb'["\[\]{}]')
_BOM = b"\xef\xbb\xbf"
_BACKSLASH = 0x5C

MAX_STEPS = 512
"""Members, escaped quotes and brackets in nested values followed before giving up: a request has a few dozen, and
a payload made of nothing else costs at most a few milliseconds."""
MAX_BACKSLASHES = 4096
"""Longest run of backslashes before a quote that is counted (text has a few); a longer one is given up."""
MAX_MATCHED = 64 * 1024
"""Bytes of white space, numbers and nested values matched by regular expressions before giving up (some 8 ns a
byte, against a tenth of that for the search of a string's end): a request has a few hundred."""
MAX_KEY = 64
"""Longest key read, escapes included (``reply_to`` written wholly in ``\\u`` escapes is 50 bytes); a longer one
names no field that is looked for."""
MAX_VALUE = 128 * 1024
"""Longest value read (a topic name has at most 64 KiB); a longer one is taken as no usable value."""


class _Unreadable(Exception):
    """No JSON object, or one that takes more than ``MAX_STEPS`` or ``MAX_MATCHED`` to follow."""


class NotJson(ValueError):
    """The payload is no JSON: the parser's refusal, in the words the door's parser gives it."""


class _Syntax(Exception):
    """The object cannot go on at ``pos``, where the parser is in the state that ``prefix`` puts it in."""

    def __init__(self, pos: int, prefix: bytes) -> None:
        super().__init__(pos)
        self.pos, self.prefix = pos, prefix


class _Unterminated(Exception):
    """The string that opens at ``pos`` has no end."""

    def __init__(self, pos: int) -> None:
        super().__init__(pos)
        self.pos = pos


def _refusal(data: bytes, pos: int, reason: str) -> NotJson:
    """The parser's words for ``reason`` at byte ``pos``: its line and column count characters of the text."""
    start = len(_BOM) if data.startswith(_BOM) else 0
    line_start = data.rfind(b"\n", start, pos) + 1 or start
    line = data.count(b"\n", start, pos) + 1
    before = np.frombuffer(data, np.uint8, pos - line_start, line_start)
    column = pos - line_start + 1
    if before.size and before.max() >= 0x80:  # characters, not bytes: a continuation byte (10xxxxxx) adds none
        column -= int(np.count_nonzero((before & 0xC0) == 0x80))
    return NotJson(f"invalid JSON: {reason} at line {line} column {column}")


def _not_utf8(data: bytes, pos: int) -> NotJson:
    """The door's words for a payload that is no UTF-8 (counted from after a byte order mark)."""
    return NotJson(f"the payload is not UTF-8 (byte {pos - (len(_BOM) if data.startswith(_BOM) else 0)})")


def _parsed(data: bytes, start: int, end: int) -> Any:
    """``data[start:end]`` as the parser reads it; what it refuses is ``NotJson`` at its place in ``data``."""
    piece = data[start:end]
    try:
        return json.loads(piece)
    except UnicodeDecodeError as err:
        raise _not_utf8(data, start + err.start) from None
    except json.JSONDecodeError as err:
        at = start + (err.pos if piece.isascii() else len(err.doc[: err.pos].encode("utf-8", "surrogatepass")))
        raise _refusal(data, at, err.msg.removesuffix(" at")) from None
    except RecursionError:
        raise NotJson("invalid JSON: nested too deeply") from None


class _Scanner:
    """Finds where the values of a JSON document end, without building them."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.steps = MAX_STEPS
        self.matched = MAX_MATCHED

    def step(self) -> None:
        self.steps -= 1
        if self.steps < 0:
            raise _Unreadable

    def match(self, pattern: re.Pattern[bytes], pos: int, search: bool = False) -> re.Match[bytes]:
        """``pattern`` at (or after) ``pos``, within the bytes left to match; one that reaches their end may go on
        past it, so it is given up as well."""
        found = (pattern.search if search else pattern.match)(self.data, pos, pos + self.matched)
        if found is None or found.end() == pos + self.matched:
            raise _Unreadable
        self.matched -= found.end() - pos
        return found

    def string(self, pos: int) -> int:
        """Past the string that opens at ``pos``: its end is the first quote after an even number of backslashes."""
        data, start = self.data, pos + 1
        if data[pos : pos + 1] != b'"':
            raise _Unreadable
        while True:
            quote = data.find(b'"', start)
            if quote < 0:
                raise _Unterminated(pos)
            if data[quote - 1] != _BACKSLASH or _backslashes(data, pos + 1, quote) % 2 == 0:
                self.check_string(pos, quote + 1)
                return quote + 1
            self.step()  # an escaped quote
            start = quote + 1

    def check_string(self, start: int, end: int) -> None:
        """Refuse the string ``data[start:end]`` where the parser would: a control character, a byte that is no
        UTF-8, a bad escape. Its bytes are checked all at once in C (numpy), its escapes too (a client that escapes
        every ``/`` of base64, as PHP does, has a quarter of a million in 14 MB: parsing them took 100 ms)."""
        data = self.data
        inner = np.frombuffer(data, np.uint8, end - start - 2, start + 1)
        if not inner.size:
            return
        if inner.min() < 0x20:  # the parser stops at the first, or at a refusal before it
            _parsed(data, start, start + 2 + int(np.argmax(inner < 0x20)))
        if inner.max() >= 0x80 or (data.find(b"\\", start, end) >= 0 and not _escapes_valid(inner)):
            _parsed(data, start, end)  # the parser refuses it and says where, or reads it (UTF-8 text)

    def value(self, pos: int) -> int:
        """Past the value at ``pos``."""
        first = self.data[pos : pos + 1]
        if first == b'"':
            return self.string(pos)
        if first in (b"{", b"["):
            try:
                end = self.nested(pos)
            except (NotJson, _Unterminated, _Unreadable):
                # Its brackets were counted, not its syntax: the parser may stop before what was found (or where
                # brackets that do not match left the count).
                if len(self.data) - pos > MAX_VALUE:
                    raise _Unreadable from None
                raise _first_error(self.data, pos, len(self.data)) from None
            if end - pos > MAX_VALUE:
                raise _Unreadable  # its strings are checked, not what lies between them
            _parsed(self.data, pos, end)
            return end
        found = _SCALAR.match(self.data, pos, pos + 64)
        if found is None:
            raise _Syntax(pos, b'{"k":')
        return self.match(_SCALAR, pos).end()

    def nested(self, pos: int) -> int:
        """Past the object or array that opens at ``pos`` (its brackets counted, its strings skipped)."""
        depth = 0
        while True:
            self.step()
            mark = self.match(_NESTING, pos, search=True)
            if mark.group() == b'"':
                pos = self.string(mark.start())
                continue
            depth += 1 if mark.group() in b"[{" else -1
            pos = mark.end()
            if depth == 0:
                return pos


_ESCAPED = np.zeros(256, bool)
_ESCAPED[list(b'"\\/bfnrtu')] = True
_HEX = np.zeros(256, bool)
_HEX[list(b"0123456789abcdefABCDEF")] = True


def _escapes_valid(inner: np.ndarray) -> bool:
    """Whether every escape of a string's contents (printable ASCII) is one JSON allows: in each run of backslashes
    those at even places open an escape (the others are escaped), and each is followed by one of ``"\\/bfnrt`` or
    by ``u`` and four hex digits."""
    at = np.flatnonzero(inner == _BACKSLASH)
    run_start = np.ones(at.size, bool)
    run_start[1:] = at[1:] != at[:-1] + 1
    first = np.maximum.accumulate(np.where(run_start, np.arange(at.size), 0))
    opening = at[(np.arange(at.size) - first) % 2 == 0]
    if opening.size and opening[-1] + 1 >= inner.size:
        return False  # the last character (the string's end is no escaped quote, so this is not reached)
    if not _ESCAPED[inner[opening + 1]].all():
        return False
    unicode = opening[inner[opening + 1] == ord("u")]
    if unicode.size and unicode[-1] + 5 >= inner.size:
        return False
    return bool(all(_HEX[inner[unicode + k]].all() for k in range(2, 6)))


def _first_error(data: bytes, start: int, end: int) -> NotJson:
    """The parser's first refusal of the value that opens at ``start`` (``data[start:end]``, read as far as needed)."""
    text = data[start:end].decode("utf-8", "surrogateescape")
    try:
        json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError as err:
        at = start + len(err.doc[: err.pos].encode("utf-8", "surrogateescape"))
        return _refusal(data, at, err.msg.removesuffix(" at"))
    except RecursionError:
        return NotJson("invalid JSON: nested too deeply")
    raise _Unreadable  # it parses: what the glance found is no refusal of the parser's


def _syntax_error(data: bytes, failed: _Syntax) -> NotJson:
    """The parser's refusal where the object cannot go on: the same state (``prefix``) before the same bytes."""
    space = _SPACE.match(data, failed.pos, failed.pos + MAX_MATCHED)
    if space is None or space.end() == failed.pos + MAX_MATCHED:
        raise _Unreadable
    there = space.end()
    tail = data[failed.pos : there + 64].decode("utf-8", "surrogateescape")
    try:
        json.loads(failed.prefix.decode() + tail)
    except json.JSONDecodeError as err:
        prefix = len(failed.prefix)
        if err.pos >= prefix and failed.pos + len(tail[: err.pos - prefix].encode("utf-8", "surrogateescape")) == there:
            return _refusal(data, there, err.msg.removesuffix(" at"))
    raise _Unreadable  # the parser stops elsewhere: the glance gave up for want of time, not for a refusal


def _unterminated_error(data: bytes, pos: int) -> NotJson:
    """The parser's refusal of a string that has no end: read whole when short; a long one when nothing in it is
    refused first (what the parser would say then is taken from the parser)."""
    if len(data) - pos <= MAX_VALUE:
        return _first_error(data, pos, len(data))
    rest = np.frombuffer(data, np.uint8, len(data) - pos - 1, pos + 1)
    if rest.min() < 0x20 or rest.max() >= 0x80 or data.find(b"\\", pos) >= 0:
        raise _Unreadable
    try:
        json.loads('"')
    except json.JSONDecodeError as err:
        return _refusal(data, pos, err.msg.removesuffix(" at"))
    raise _Unreadable


def _backslashes(data: bytes, start: int, end: int) -> int:
    """How many backslashes end ``data[start:end]`` (counted in C, a longer piece each time)."""
    size = 16
    while True:
        piece = data[max(start, end - size) : end]
        run = len(piece) - len(piece.rstrip(b"\\"))
        if run < len(piece) or end - size <= start:
            return run
        if size >= MAX_BACKSLASHES:
            raise _Unreadable
        size *= 16


def _decoded(data: bytes, start: int, end: int, most: int) -> Any:
    """The JSON value ``data[start:end]``, or None when it is longer than ``most`` bytes or an object or array."""
    if end - start > most or data[start : start + 1] in (b"{", b"["):
        return None
    return json.loads(data[start:end])


def _expect(scan: _Scanner, pattern: re.Pattern[bytes], pos: int, prefix: bytes) -> re.Match[bytes]:
    """``pattern`` at ``pos``; where it fails the object cannot go on, unless the glance ran out of time."""
    try:
        return scan.match(pattern, pos)
    except _Unreadable:
        raise _Syntax(pos, prefix) from None


def top_level(payload: bytes, names: Collection[str]) -> dict[str, Any]:
    """The values of the top-level keys ``names`` of the JSON object ``payload`` (a repeated key's last, as
    ``json.loads`` takes it; None for an object, an array or a value longer than ``MAX_VALUE``); empty when
    ``payload`` is no JSON object or takes too long to follow. ``NotJson`` where a string or a nested value it skips
    is one the parser refuses."""
    scan = _Scanner(payload)
    plain = {f'"{name}"'.encode(): name for name in names}
    spans: dict[str, tuple[int, int]] = {}
    try:
        try:
            pos = scan.match(_SPACE, len(_BOM) if payload.startswith(_BOM) else 0).end()
            if payload[pos : pos + 1] != b"{":
                raise _Unreadable
            pos = scan.match(_SPACE, pos + 1).end()
            if payload[pos : pos + 1] == b"}":
                pos = scan.match(_SPACE, pos + 1).end()
            else:
                state = b"{"  # where the parser is when a key is due
                while True:
                    scan.step()
                    if payload[pos : pos + 1] != b'"':
                        raise _Syntax(pos, state)
                    key_end = scan.string(pos)
                    raw = payload[pos:key_end] if key_end - pos <= MAX_KEY else b""
                    key = plain.get(raw) or (_decoded(payload, pos, key_end, MAX_KEY) if b"\\" in raw else None)
                    start = _expect(scan, _COLON, key_end, b'{"k"').end()
                    stop = scan.value(start)
                    if isinstance(key, str) and key in names:
                        spans[key] = (start, stop)  # read once the whole object is known to be one
                    after = _expect(scan, _NEXT, stop, b'{"k":0')
                    pos, state = after.end(), b'{"k":0,'
                    if after.group(1) == b"}":
                        break
            if pos != len(payload):
                raise _Syntax(pos, b"{}")
        except _Syntax as failed:
            raise _syntax_error(payload, failed) from None
        except _Unterminated as failed:
            raise _unterminated_error(payload, failed.pos) from None
        return {key: _decoded(payload, *span, MAX_VALUE) for key, span in spans.items()}
    except (NotJson, _Unreadable, ValueError, RecursionError) as err:  # json.loads: a bad key or value
        if not payload.isascii():  # the door reads the payload as UTF-8 before it parses it
            try:
                payload.decode("utf-8")
            except UnicodeDecodeError as bad:
                raise _not_utf8(payload, bad.start) from None
        if isinstance(err, NotJson):
            raise
        return {}
