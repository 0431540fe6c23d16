"""Splitting text, whole or streamed in pieces, into sentences an engine can speak one at a time."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from sentence_stream import SentenceBoundaryDetector

from .spoken.langs import LANGS, TIME_ZONES
from .spoken.length import CLAUSE_BREAK

# Prefer to break an over-long sentence after a clause mark, else at a space.
_CLAUSE_BREAK = re.compile(CLAUSE_BREAK)

ABBREVIATIONS = (
    # German
    "z.b.", "z.t.", "z.zt.", "z.hd.", "d.h.", "u.a.", "u.ä.", "o.ä.", "u.u.", "v.a.", "s.o.", "s.u.", "o.g.", "m.e.",
    "i.a.", "i.d.r.", "u.v.m.", "v.chr.", "n.chr.", "n.v.", "n.e.", "p.p.",
    # French, Spanish, English
    "p.ex.", "c.-à-d.", "av.j.-c.", "apr.j.-c.", "p.ej.", "a.c.", "d.c.", "e.g.", "i.e.",
)  # fmt: skip
"""Abbreviations of several parts (lower case, without their spaces: "z. B.", "z.B.", "Z. B." are "z.b."). The
boundary detector ends a sentence at a dot before a capital letter, so "z. B. Äpfel" was "z." / "B. Äpfel" and
"u. a. Berlin" "u. a." / "Berlin": no dot of theirs ends a sentence."""
LEADING_ABBREVIATIONS = (
    "approx.", "vs.", "cf.", "bzw.", "ca.", "ggf.", "inkl.", "zzgl.", "evtl.", "vgl.", "bspw.", "zw.", "env.", "aprox.",
    "ri.", "ggü.", "gg.", "mind.", "tägl.", "voraussichtl.", "rel.", "u.", "est.", "d.",
)  # fmt: skip
"""Abbreviations of one part that stand before what they qualify, not at a sentence's end: "Team A vs. Team B" was
"Team A vs." / "Team B", "inkl. Steuer" likewise, so no dot of theirs ends a sentence either. "etc." and "usw." end
a list, and a sentence often: their dot before a capital letter still ends one (before a lower-case word none)."""
_SPACE = "[ \u00a0\u202f]"
_ABBREVIATION = re.compile(
    r"(?<![\w.])(?:"
    + "|".join(
        "".join(re.escape(c) + (_SPACE + "?" if c == "." and i < len(a) - 1 else "") for i, c in enumerate(a))
        for a in sorted(ABBREVIATIONS + LEADING_ABBREVIATIONS, key=len, reverse=True)
    )
    + ")",
    re.IGNORECASE,
)
_COMPLETE = frozenset(ABBREVIATIONS + LEADING_ABBREVIATIONS)
_BEGUN = frozenset(a[:k] for a in ABBREVIATIONS for k in range(1, len(a)) if "." in a[:k])
"""What a text may end in that a later piece could make one of the abbreviations ("z.", "z. B")."""
_FIRST_LETTERS = frozenset(a[0] for a in _COMPLETE)
_FIRST_PARTS = frozenset(a.split(".", 1)[0] for a in _COMPLETE)
_LONGEST_BEGUN = max(len(a) for a in ABBREVIATIONS) + 4
MONTHS = frozenset(a for lang in LANGS.values() for names in lang.month_abbreviations for a in names.split("|") if a)
"""Month abbreviations of the languages with a table ("dic", "Dez", "дек"). The boundary detector takes a number
with a dot after a sentence mark for a numbered list's item ("El 5 dic. 2026. Luego" was "El 5 dic." / "2026." /
"Luego"): the dot of one before a number ends no sentence."""
_MONTH_TAIL = re.compile(
    r"(?:(?<![\w.])(?i:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")|(?i:str|nr))(\.)" + _SPACE + "*$"
)
"""What a text may end in that the next piece decides: a month abbreviation's dot, a German street's ("Bahnhofstr.")
or a number's ("Sendungsnr."), a number after it or not."""
_BEFORE_NUMBER = re.compile(_SPACE + r"+\d")
_AMPM_ZONE = re.compile(
    r"(?<![\w.])[AaPp]\.[Mm](\.)" + _SPACE + r"+(?:" + "|".join(sorted(TIME_ZONES, key=len, reverse=True)) + r")\b"
)
"""A time's "p.m." before its time zone ("4:25 p.m. ET on CBS"): its dot ends no sentence (it was "… p.m." / "ET on
CBS")."""
_AMPM_TAIL = re.compile(r"(?<![\w.])[AaPp]\.[Mm](\.)" + _SPACE + r"*[A-Z]{0,3}$")
"""What a text may end in that the next piece decides: "p.m." and perhaps a time zone's first letters."""
TITLES = (
    # English
    "Mr", "Mrs", "Ms", "Dr", "St", "Jr", "Sr", "Rev", "Hon", "Sen", "Rep", "Prof", "Univ", "Inst", "Corp", "Dept",
    "Gen", "Sgt", "Capt", "Gov", "Supt", "Lieut", "Cmdr", "Pres", "Bros", "Assoc", "Sept",
    # German, French, Spanish
    "Hr", "Fr", "Frl", "Abt", "Gebr", "Febr", "Mme", "Mlle", "Sra", "Srta",
)  # fmt: skip
"""Titles and abbreviations written before a name or noun ("Prof. Müller", "Acme Corp. Labs", "Abt. Einkauf"). The
boundary detector takes only capitalised words of one to three letters for abbreviations, so "Prof. Müller kommt"
was "Prof." / "Müller kommt": their dot ends no sentence, except before a sentence opener ("… at Acme Corp. Then
…"). Before any other capitalised word it is taken for a title's, where a sentence may end too (docs/text.md)."""
_TITLES = frozenset(t.lower() for t in TITLES)
_LONGEST_TITLE = max(len(t) for t in TITLES)
_LONGEST_WORD = max(len(w) for w in _FIRST_PARTS | MONTHS | _TITLES)
_HIDDEN_DOT = "\ufdd0"
"""An abbreviation's dots as the boundary detector sees them (a noncharacter: never in text), given back after."""
SENTENCE_OPENERS = frozenset((
    # English
    "The", "This", "That", "These", "Those", "Then", "There", "They", "It", "Its", "I", "We", "You", "He", "She", "My",
    "Our", "Your", "His", "Her", "Their", "After", "Before", "But", "So", "If", "When", "While", "Now", "Also",
    "Please", "Thanks", "Thank", "Here", "What", "Where", "How", "Why", "Next", "Finally", "However", "Otherwise",
    "Yes", "Let", "See", "Is", "Are", "Does", "Can", "In", "On", "At", "For", "From", "With",
    # German
    "Dann", "Danach", "Das", "Der", "Die", "Den", "Dem", "Ein", "Eine", "Einen", "Einem", "Es", "Er", "Sie",
    "Wir", "Ich", "Ihr", "Man", "Dort", "Hier", "Jetzt", "Heute", "Nun", "Aber", "Doch", "Also", "Auch",
    "Wenn", "Als", "Am", "Im", "Um", "Ab", "Bis", "Seit", "Vom", "Zum", "Zur", "Mit", "Nach", "Vor", "Bitte",
    "Danke", "Ja", "Nein", "Wie", "Was", "Wo", "Wann", "Warum", "Mein", "Meine", "Dein", "Deine", "Unser",
    "Unsere", "Ihre", "Seine", "Eure", "Diese", "Dieser", "Dieses", "Kein", "Keine", "Sonst",
    "Außerdem", "Zudem", "Deshalb", "Daher", "Trotzdem", "Damit", "Dabei", "Viele", "Einige", "Manche", "Alle",
    # German verbs a recipe's or a guide's sentence begins with (a verb is capitalised only there): "Backe 20 Min.
    # Ergibt 12 Stück" was one sentence
    "Ergibt", "Reicht", "Gib", "Nimm", "Lass", "Backe", "Koche", "Brate", "Rühre", "Füge", "Schneide", "Serviere",
    "Stelle", "Heize", "Würze", "Verteile", "Mische", "Schalte", "Drücke", "Öffne", "Prüfe", "Warte",
    # French, Spanish
    "La", "Les", "Il", "Elle", "Ils", "Elles", "Nous", "Vous", "On", "Puis", "Ensuite", "Mais", "Donc", "Alors",
    "Ce", "Cette", "Je", "El", "Los", "Las", "Luego", "Después", "Pero", "Entonces", "Yo", "Nosotros",
))  # fmt: skip
"""Capitalised words that begin a sentence and never go on one: articles, pronouns, adverbs (not nouns: German
writes those with a capital mid-sentence too, "am 5. Dez. Geburtstag"; not "And", "A": titles write them so; not
those that are names too: "Mr. Le", "Dr. Da Silva", "Ms. Du"). The
boundary detector takes every capitalised word of one to three letters before a dot for an abbreviation and joins
the next sentence to it ("Es ist am 5. Dez. Dann gehen wir.", "Um 5 Uhr. Dann", "I met Bob. Then"): before one of
these words, such a dot ends the sentence. Abbreviations before a name ("Dr. Müller") or of several parts ("z. B.
Dann", hidden above) are left alone."""
UNIT_WORDS = frozenset(
    {u for lang in LANGS.values() for u in (*lang.units, *lang.aliases) if u.isalpha() and 2 <= len(u) <= 3}
    - {"Min", "Sek", "Std", "Stk", "Pck", "Gl", "Pkg", "Msp", "Wdh"}
) | {"AM", "PM", "Hz", "KB", "PB", "Uhr"}
"""Capitalised units after a number ("5 GB.", "5 PM.", "um 5 Uhr.", "21 °C."): the detector took them for
abbreviations and joined the next sentence ("Free up 5 GB. Two files remain." was one). Before any capitalised word
their dot ends a sentence; a unit that takes a dot itself ("3 Std. Fahrt", "3 Stk. Äpfel") or is a letter too ("123
W. Main St.") is not one of them."""
_WORD_AFTER = re.compile(_SPACE + r"+(\w+)")
_DAY_MONTH = re.compile(r"\b(?i:am|vom|ab|bis|seit|zum)[ \u00a0]+(?:0?[1-9]|[12]\d|3[01])\.(?:0?[1-9]|1[0-2])$")
"""A German day and month after a word of dates, before their last dot ("am 31.12."): before a noun that dot ends no
sentence ("am 31.12. Silvester"), before a sentence opener or a capitalised word and another ("am 24.12. Frohe
Weihnachten", "bis 31.12. Dann …") it does."""
_NEXT_TWO = re.compile(r"[ \u00a0]+(\w+)(?:([.,;:!?)\]])|[ \u00a0]+(\w)\w*(?=\W))")
"""The two words after a dot, or one and a mark: what decides whether a date's dot ends a sentence."""
_OPENER_BEGUN = frozenset(w[:k] for w in SENTENCE_OPENERS for k in range(len(w) + 1))
_LONGEST_OPENER = max(len(w) for w in SENTENCE_OPENERS) + 8
_SENTENCE_DOT = "\ufdd1"
"""Put before such a dot for the boundary detector (which then sees no abbreviation there), taken out after."""

_OPENING = r"(?:[\"'“„‘‚»›]|[«‹][ \u00a0\u202f]?)"
"""An opening quotation mark before a word ("“Go", "„Ja", "»Warum", "« Oui": French writes a space after it)."""
_CLOSING = r"(?:[\"'’”»“«‘›‹)\]}*_~`]|[ \u00a0\u202f][»›])"
"""A closing quotation mark, bracket or emphasis after a sentence mark ("Oui. »": French writes a space before it;
"**Done.**")."""
_UNKNOWN_CLOSERS = frozenset("“«‘‹› \u00a0\u202f*_~`")
"""Closing marks the boundary detector does not know: German „…“, »…«, ‚…‘, the French closer after a space, and
markdown's emphasis ("**Done.** Then")."""
_EMOJI = r"\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2300-\u23FF"
_EMOJI_RUN = "[" + _EMOJI + "][" + _EMOJI + "\ufe0f\u200d\u20e3 \u00a0\u202f]*"
"""A run of emoji after a sentence mark ("Done. ✅ The lights are on."): dropped later, it hid the boundary."""
_MARKUP_OPEN = r"[*_~`!\[]{1,4}"
"""Markdown that may open a sentence ("**Note:**", "*Wind*", "[Link](…)", "`code`"): the front-end removes it later."""
_NEXT_OPENING = "(?:" + _MARKUP_OPEN + _OPENING + "?|" + _OPENING + "|" + _EMOJI_RUN + ")"
_QUOTE_CUT = re.compile(r"[.!?…]+(" + _CLOSING + r"*)(?=\s+(" + _NEXT_OPENING + r")?(\w))")
"""A sentence mark before an opening quotation mark ('He said. “Go now.”', '"Done." "Next."', "„Gut.“ „Ja.“"),
markdown ("It works. **Solar** is big.") or a run of emoji ("Erledigt. 💡 Die Lampe", "Done! ✅ The lights"), or
after a closing one the detector does not know ("„Gut.“ Dann", "« Oui. » Puis", "**Done.** Then"): the detector ends
a sentence only before a letter, so these were one sentence. Cut there when a capital letter or digit begins the next
one."""
_QUOTE_TAIL = re.compile(r"[.!?…]+" + _CLOSING + r"*(?:\s+" + _NEXT_OPENING + r"?)?$")
"""What a text may end in that the next piece decides: a sentence mark, an opening quotation mark, markdown or emoji
after it or not."""
_SENTENCE_MARK = re.compile(r"[.!?…]")

_SLICE = 256
"""Characters handed to the boundary detector at a time. It searches its whole buffer again for each sentence it
finds, so a 100,000-character text given at once took seconds (quadratic); in slices its buffer stays short."""


def split_long(sentence: str, limit: int) -> Iterator[str]:
    """Break a sentence longer than ``limit`` characters at clause marks or spaces (hard cut as a last resort)."""
    rest = sentence.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = -1
        for match in _CLAUSE_BREAK.finditer(window):
            if match.start() < limit:
                cut = match.start() + 1
        if cut < limit // 3:
            space = window.rfind(" ")
            cut = space if space >= limit // 3 else limit
        head, rest = rest[:cut].strip(), rest[cut:].strip()
        if head:
            yield head
    if rest:
        yield rest


class SentenceSplitter:
    """Feed text in any pieces (even mid-word); get complete sentences as soon as they are certain."""

    def __init__(self, max_sentence_chars: int = 400) -> None:
        self._detector = SentenceBoundaryDetector()
        self._limit = max_sentence_chars
        self._held = ""
        """The end of the text so far where it may be the start of an abbreviation ("z. "): not yet given."""
        self._given = ""
        """The last characters given to the detector (an abbreviation may have begun in them: "z" then ". B.")."""
        self._marked = ""
        """The end of the text so far where it is a sentence mark that an opening quotation mark may yet follow."""
        self._before = ""
        """The last characters given to the detector (the word before a sentence mark may be a title: "Dr.")."""

    def feed(self, chunk: str) -> list[str]:
        """Add text; return the sentences it completed."""
        if len(chunk) <= _SLICE:
            return self._feed(chunk)
        return [
            sentence for start in range(0, len(chunk), _SLICE) for sentence in self._feed(chunk[start : start + _SLICE])
        ]

    def _hide_abbreviations(self, chunk: str, final: bool = False) -> str:
        """What of the text so far and ``chunk`` may go to the detector, the dots of abbreviations hidden in it; the
        end that may still become an abbreviation is held back (at most a few characters)."""
        given = self._given
        if not self._held and "." not in chunk:
            # Every abbreviation ends in a dot, and one begun ("z. B") is held: nothing to hide or hold.
            self._given = (given + chunk)[-_LONGEST_BEGUN:]
            return chunk
        text = given + self._held + chunk
        end = len(text)
        if not final and "." in text[-_LONGEST_BEGUN:]:
            for i in range(max(0, end - _LONGEST_BEGUN), end):
                # An abbreviation starts a word; its first letters may lie in what was given already ("z").
                if text[i].lower() not in _FIRST_LETTERS or i and (text[i - 1].isalnum() or text[i - 1] in "._"):
                    continue
                begun = re.sub(_SPACE, "", text[i:]).lower()
                if begun in _COMPLETE and begun not in _BEGUN:
                    break  # "a. C.": whole, though "C." alone could begin "c.-à-d." ("d." may yet be "d. h.")
                if "." in begun and begun in _BEGUN:
                    end = max(i, len(given))
                    break
            month = None
            if text.rstrip(" \u00a0\u202f").endswith("."):
                month = _MONTH_TAIL.search(text, max(0, len(text) - _LONGEST_BEGUN))
            if month is not None:
                end = min(end, max(month.start(1), len(given)))
            ampm = _AMPM_TAIL.search(text, max(0, len(text) - 12)) if "m." in text[-12:] else None
            if ampm is not None:
                end = min(end, max(ampm.start(1), len(given)))
            short = _short_word_dot(text)
            if short != -1:
                window = _ABBREVIATION.finditer(text, max(0, short - _LONGEST_BEGUN), short + 1)
                # "z. B." is an abbreviation's, hidden below; "EST." an acronym's
                if all(a.end() != short + 1 or _acronym(a.group()) for a in window):
                    end = min(end, max(short, len(given)))
        chars: list[str] | None = None
        if "m." in text:
            for zone in _AMPM_ZONE.finditer(text, max(0, len(given) - 4), end):
                if zone.start(1) >= len(given):
                    chars = chars or list(text[:end])
                    chars[zone.start(1)] = _HIDDEN_DOT
        # A cut-off word at the start of what was given must not pass for an abbreviation of its own.
        first = 1 if len(given) == _LONGEST_BEGUN else 0
        dot = text.find(".", max(first, len(given)), end)
        while dot != -1:
            # From each dot back to its word: far faster than trying the abbreviations at every position.
            start = dot
            while start > first and dot - start < _LONGEST_WORD and text[start - 1].isalpha():
                start -= 1
            word = text[start:dot].lower()
            match = _ABBREVIATION.match(text, start, end) if word in _FIRST_PARTS else None
            if match is not None and _acronym(match.group()):
                match = None  # "8 PM EST. Then": a time zone or an acronym ("EST"), not "est."
            whole = not (start and text[start - 1].isalpha())
            if match is None and _BEFORE_NUMBER.match(text, dot + 1) and (word in MONTHS and whole or _street(word)):
                # "5 dic. 2026", "Bahnhofstr. 12.": a number after, no numbered list's item
                chars = chars or list(text[:end])
                chars[dot] = _HIDDEN_DOT
            elif (
                match is None
                and whole
                and 1 <= dot - start <= 3
                and text[start].isupper()
                and (_opener_after(text, dot) or _unit_dot(text, start, dot))
            ):
                chars = chars or list(text[:end])
                chars[dot] = _SENTENCE_DOT + "."
            elif (
                match is None
                and start == dot
                and _DAY_MONTH.search(text, max(0, dot - 12), dot)
                and _noun_after_date(text, dot)
            ):
                # "am 31.12. Silvester": a day and month before a noun (was "… Dezember." / "Silvester.")
                chars = chars or list(text[:end])
                chars[dot] = _HIDDEN_DOT
            elif match is None and whole and word in _TITLES and text[start].isupper() and not _opener_after(text, dot):
                chars = chars or list(text[:end])
                chars[dot] = _HIDDEN_DOT
            if match is None:
                dot = text.find(".", dot + 1, end)
                continue
            chars = chars or list(text[:end])
            for i in range(max(match.start(), len(given)), match.end()):
                if chars[i] == ".":
                    chars[i] = _HIDDEN_DOT
            dot = text.find(".", match.end(), end)
        ready = "".join(chars) if chars is not None else text[:end]
        self._held, self._given = text[end:], ready[-_LONGEST_BEGUN:]
        return ready[len(given) :]

    def _feed(self, chunk: str) -> list[str]:
        chunk = self._hide_abbreviations(chunk)
        out = [piece for sentence in self._detect(chunk) for piece in split_long(sentence, self._limit)]
        # Unpunctuated streams (an LLM listing things) must not grow without bound: flush at the limit.
        buffered = self._detector.current_sentence + self._detector.remaining_text
        if len(buffered) > self._limit * 2:
            pieces = list(split_long(self._detector.finish(), self._limit))
            # Keep the unfinished tail (and the space after it): the stream may continue it.
            tail = pieces.pop() if pieces else ""
            if buffered[-1:].isspace():
                tail += " "
            out.extend(pieces)
            out.extend(self._detector.add_chunk(tail))
        return [_restored(sentence) for sentence in out] if out else out

    def finish(self) -> list[str]:
        """End the text; return what remained."""
        rest = self._hide_abbreviations("", final=True)
        out = [piece for sentence in self._detect(rest, final=True) for piece in split_long(sentence, self._limit)]
        out += split_long(self._detector.finish(), self._limit)
        self._held = self._given = self._marked = self._before = ""
        return [_restored(sentence) for sentence in out]

    def _detect(self, chunk: str, final: bool = False) -> list[str]:
        """The detector's sentences for ``chunk``, and a sentence ended before an opening quotation mark too."""
        if not self._marked and _SENTENCE_MARK.search(chunk) is None:
            self._before = (self._before + chunk)[-_LONGEST_TITLE - 1 :]
            return list(self._detector.add_chunk(chunk))
        text = self._before + self._marked + chunk
        start = len(self._before)
        self._marked = ""
        if not final and (tail := _QUOTE_TAIL.search(text, start)) is not None and "\n\n" not in tail[0]:
            text, self._marked = text[: tail.start()], text[tail.start() :]
        out: list[str] = []
        for cut in _quote_cuts(text, start):
            out += self._detector.add_chunk(text[start:cut])
            if sentence := self._detector.finish():
                out.append(sentence)
            start = cut
        out += self._detector.add_chunk(text[start:])
        self._before = text[-_LONGEST_TITLE - 1 :]
        return out


def _short_word_dot(text: str) -> int:
    """Where the dot is when ``text`` ends in a capitalised word of one to three letters or a title, its dot, and what
    may still become a sentence opener ("Dez. Da", "Prof. Th"): the next piece decides whether that dot ends a
    sentence; else -1."""
    dot = text.rfind(".", max(0, len(text) - _LONGEST_OPENER))
    for date in re.finditer(r"\d\.", text[-_LONGEST_OPENER * 2 :]):
        # A date's dot: held until the two words after it are there ("am 31.12. Silvester mit").
        at = len(text) - min(len(text), _LONGEST_OPENER * 2) + date.end() - 1
        if _DAY_MONTH.search(text, max(0, at - 12), at) and not _NEXT_TWO.match(text, at + 1):
            return at
    if dot < 1 or not text[dot - 1].isalpha():
        return -1
    start = dot - 1
    while start > 0 and text[start - 1].isalpha():
        start -= 1
        if dot - start > _LONGEST_TITLE:
            return -1
    if dot - start > 3 and text[start:dot].lower() not in _TITLES:
        return -1
    after = text[dot + 1 :].lstrip(" \u00a0\u202f")
    return dot if text[start].isupper() and (not after or after.isalpha()) and after in _OPENER_BEGUN else -1


def _unit_dot(text: str, start: int, dot: int) -> bool:
    """Whether the word from ``start`` to the dot at ``dot`` is a unit after a number ("5 GB.", "21 °C.") and a
    capitalised word follows the dot."""
    word = text[start:dot]
    before = text[max(0, start - 2) : start]
    if word in ("C", "F"):
        after_number = before.endswith("°")
    else:
        after_number = word in UNIT_WORDS and (
            before[-1:].isdigit() or before[-1:] in " \u00a0" and before[:1].isdigit()
        )
    after = _WORD_AFTER.match(text, dot + 1)
    return after_number and after is not None and after.group(1)[0].isupper()


def _acronym(written: str) -> bool:
    """Whether an abbreviation as written is an acronym or an initial in capitals ("EST.", the time zone; "John D.
    Rockefeller", "vitamin D."; not "est.", "Z. B.")."""
    word = written[:-1]
    return word.isalpha() and word.isupper()


def _noun_after_date(text: str, dot: int) -> bool:
    """Whether a date's dot at ``dot`` stands before a noun its sentence goes on with: a capitalised word that is no
    sentence opener, before a mark or a word in lower case ("am 31.12. Silvester.", "am 1.5. Tag der Arbeit")."""
    after = _NEXT_TWO.match(text, dot + 1)
    if after is None or not after.group(1)[0].isupper() or after.group(1) in SENTENCE_OPENERS:
        return False
    return after.group(2) is not None or after.group(3).islower()


def _street(word: str) -> bool:
    """A German street's short form ("Hauptstr", "Str") or a number's ("Sendungsnr", "Nr"): its dot before the
    house number or the number ends no sentence (a number after a sentence mark was taken for a list's item)."""
    return word.endswith(("str", "nr")) and len(word) > 3 or word in ("str", "nr")


def _opener_after(text: str, dot: int) -> bool:
    """Whether the word after the dot at ``dot`` is a sentence opener ("Dann", "The"), whatever follows it ("Sept.
    Then.", "Dez. Dann.")."""
    after = _WORD_AFTER.match(text, dot + 1)
    return after is not None and after.group(1) in SENTENCE_OPENERS


def _quote_cuts(text: str, start: int) -> Iterator[int]:
    """Where sentences end in ``text`` from ``start`` on before an opening quotation mark (or after a closing one the
    detector does not know), not after a title or an initial ('Dr. "Bones" McCoy', 'J. "Bud" Smith')."""
    for mark in _QUOTE_CUT.finditer(text, start):
        first = mark[3]
        if not (first.isdigit() or first.isalpha() and not first.islower()):
            continue
        if mark[2] is None and _UNKNOWN_CLOSERS.isdisjoint(mark[1]):
            continue  # a letter after a mark and a closing mark the detector knows: its own boundary
        if text[mark.start() : mark.start(1)] == ".":
            start = mark.start()
            while start > 0 and mark.start() - start <= _LONGEST_TITLE and text[start - 1].isalpha():
                start -= 1
            word = text[start : mark.start()]
            if word[:1].isupper() and (len(word) == 1 or word.lower() in _TITLES):
                continue
        yield mark.end(1)


def _restored(sentence: str) -> str:
    """A sentence as written: the marks put in for the boundary detector taken out."""
    return sentence.replace(_HIDDEN_DOT, ".").replace(_SENTENCE_DOT, "")


def split_sentences(text: str | Iterable[str], max_sentence_chars: int = 400) -> list[str]:
    """All sentences of a complete text (or of its pieces)."""
    splitter = SentenceSplitter(max_sentence_chars)
    pieces = [text] if isinstance(text, str) else text
    out = [sentence for piece in pieces for sentence in splitter.feed(piece)]
    return out + splitter.finish()
