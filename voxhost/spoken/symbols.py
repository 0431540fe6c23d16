"""What is written for the eye but not said: URLs, e-mail addresses, emoji, hashtags, identifiers, stray symbols.

URLs are spoken short (their domain, "home assistant dot io") or dropped; e-mail addresses as "name at domain" or
dropped; emoji and emoticons dropped or replaced by one configured word; ``#``, ``*``, ``_``, ``|``, ``~``, ``>``,
backticks and symbols an engine would spell out ("symbol two seven one three" for ✓) never reach it.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import emoji

from .langs import TIME_ZONES, Lang

_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"'`]+")
_EMAIL = re.compile(r"(?i)\b([a-z0-9][a-z0-9._%+\-]*)@([a-z0-9\-]+(?:\.[a-z0-9\-]+)+)\b")
_TRAILING = ".,;:!?)]}'\"’”»›"
"""What may end a sentence after a URL: its mark and closing quotes ("See https://x.y/z.”" kept neither)."""
_HASHTAG = re.compile(r"(?<![\w#])[#@](?=[^\W\d_])")
ENTITY_DOMAINS = (
    "alarm_control_panel", "automation", "binary_sensor", "calendar", "camera", "climate", "counter", "cover",
    "device_tracker", "fan", "humidifier", "input_boolean", "input_button", "input_datetime", "input_number",
    "input_select", "input_text", "lawn_mower", "light", "lock", "media_player", "person", "remote", "scene", "script",
    "sensor", "siren", "switch", "timer", "todo", "vacuum", "valve", "water_heater", "weather", "zone",
)  # fmt: skip
"""Home Assistant entity domains whose ids are read as words even without an underscore (``light.kitchen``); the
domains that are also file names' stems (image, text, update, …) need one."""
_IDENTIFIER = re.compile(
    r"(?<![\w.@/\-])(?:("
    + "|".join(ENTITY_DOMAINS)
    + r")\.([a-z0-9]+(?:_[a-z0-9]+)*)|([a-z][a-z0-9]*(?:_[a-z0-9]+)*)\.([a-z0-9]+(?:_[a-z0-9]+)+))(?![\w@/\-]|\.\w)"
)
"""A Home Assistant entity id or service: ``domain.object_id``, all lower case, the object id with an underscore
(``sensor.living_room_temperature``, ``light.turn_on``) or the domain a known one (``light.kitchen``). Other dotted
words ("e.g.", "example.com", "index.html") are no entity ids, underscores elsewhere in the sentence or not."""
_RELATION = re.compile(
    r"\s*(?:([≥≤≠≈±\uff1d])|(?<![^\w\s(\[])(>=|<=|!=|~|\+/[-−]|[<>=](?![<>=]))(?=\s*[-−+$€£]?\d))\s*"
)
"""≥ ≤ ≠ anywhere, and ``>=``, ``<=``, ``!=``, ``>``, ``<``, ``=`` before a number (not in an arrow, "->", "=>"):
comparisons, said (the stray-symbol rule would drop them: "power ≥ 100 W" was "power one hundred watts", "x > 5"
"x five"); ``≈`` anywhere and ``~`` before a number are "about" ("~5 min" was "five minutes"); ``±`` anywhere and
``+/-`` before a number "plus or minus" (an engine that learned from words does not read the sign)."""
_ARROW = re.compile(r"((?<![<\-=])(?:-{1,2}|={1,2})>|[→⇒⟶⟹➔➜])|(<-{1,2}(?![\->\d])|[←⇐⟵])")
_MENU_PATH = re.compile(r"(?<=[\w)\"'’”])[ \u00a0]+>[ \u00a0]+(?=[A-ZÀ-ÖØ-ÞА-ЯЁ]|[\"'‘“(])")
"""A ">" between a word and a capitalised one with spaces around it: a menu path's step ("Settings > Devices &
Services"), said with a pause (it was dropped as a stray symbol: "Settings Devices and Services"); "a > b" stays a
stray symbol, and before a number it is "more than"."""
_ARROW_HINT = re.compile(r"[<>→⇒⟶⟹➔➜←⇐⟵]")
"""A right arrow (``->``, ``=>``, ``-->``, →, ⇒) or a left one (``<-``, ←, ⇐); ``<->``, ``>=`` and ``<-5`` ("less
than minus five") are none."""
_WORD_BEFORE = re.compile(r"[\w)\]\"'’”%°]\s*$")
_WORD_AFTER = re.compile(r"\s*[\w(\[\"'‘“$€£+\-−]")
_RELATION_KEYS = {
    ">=": "≥", "<=": "≤", "!=": "≠", ">": ">", "<": "<", "=": "=", "~": "≈", "+/-": "±", "+/−": "±", "\uff1d": "=",
}  # fmt: skip
_SENTENCE_END = re.compile(r"[\s'\")\]}’”»]*")
"""What may follow a sentence's last mark (closing quotes and brackets)."""
_SLASHED_WORDS = re.compile(r"(?<=[^\W\d_])/(?=[^\W\d_])")
_SPACED_SLASH = re.compile(r"(?<=[^\W\d_]{2})[ \u00a0]+/[ \u00a0]+(?=[A-ZÀ-ÖØ-ÞÄÖÜ])")
"""A slash with spaces between a word and a capitalised one: a forecast's or a table's parts ("High 72°F / Low
55°F"), a pause."""
_AMPERSAND = re.compile(r"\s&\s")
_STRAY = re.compile(r"[#*_|~^`<>{}\[\]\\=]+")
_EMOJI_BOUNDARY = re.compile(r"(?<=\w)\s*\x01[\s\x01]*(?=\s+[A-ZÀ-ÖØ-ÞА-ЯЁ])")
"""Emoji (marked \x01) between a word and a capitalised word: where one sentence ended and the next began."""
_KAOMOJI = re.compile(
    r"(?<![¯\\/_ヽノﾉ╯╰┐┌ლ٩۶ᕕᕗ︵づ⊂ԅ])[¯\\/_ヽノﾉ╯╰┐┌ლ٩۶ᕕᕗ︵づ⊂ԅ]*"
    r"\((?![^()\n]*[^\W_]{2})(?![^()\n]*\d)(?=[^()\n]*(?:[_^]|[^\x00-\x7f]))(?![^()\n]*°\s?[CF])[^()\n]{1,16}\)"
    r"[¯\\/_ヽノﾉ╯╰┐┌ლ٩۶ᕕᕗ︵づ⊃ง]*"
)
"""A kaomoji: a face in parentheses without two letters in a row ("(╯°□°)╯", "¯\\_(ツ)_/¯", "( ͡° ͜ʖ ͡°)"), with its
arms. Read symbol by symbol it was "japanese letter slash" and "degrees degrees"; ``(80%)``, ``(s)``, ``(°C)`` are no
faces, nor is one with a digit ("(▲ 0.3%)": a change, was dropped)."""
_APART = r"(?<![^\s\"'“«„(\[]{})"
"""After a space, an opening quote or bracket, or at the start (the lookbehind follows the emoticon's first character:
a pattern that begins with a character is searched for far faster than one that begins with a lookbehind)."""
_QUANTITY = (
    r"(?:[\d°%]|(?!(?:you|u|ya|yall|y'all|it|this|that|them|him|her|me|us|my|your|our|their|his|all|every\w*|so|too"
    r"|much|lots)\b)[a-zà-ÿа-я](?!D)|(?!I\b)[A-Z]{1,3}\b|[kMG]?Hz\b)"
)
"""What may follow "<3" that makes it "less than three": a number, a sign, or a unit ("km", "minutes", "GB"), but
not "xD" (another emoticon), a capitalised word ("See you", "I") nor what a heart is given ("I <3 you", "<3 u",
"<3 this": was "I less than three you")."""
_EMOTICON = re.compile(
    r"(?:[:;=]" + _APART.format("[:;=]") + r"['-]?(?:\)+|\(+|D+|P|p)|<" + _APART.format("<")
    + r"(?:3+(?![ \u00a0]?" + _QUANTITY + r")|/3)|x" + _APART.format("x") + r"D+)(?=$|[\s.,!?;:…\"'”»)\]])"
    r"|[:;](?<=[^\W_][:;])-?(?:\)+|\(+)(?=$|\s|[.!?…](?:$|\s))"
)  # fmt: skip
"""An ASCII emoticon (``:)``, ``:-(``, ``;)``, ``:D``, ``:P``, ``<3``, ``xD``) standing apart, or a smile or frown
right after a word ("Thanks:)", also before a sentence's final mark: "ok:)."). espeak read ":D" "colon d", "<3"
"three", "xD" "ex d"; "12:30", "3:2", code's "x:D" and "f(x):" are none, nor is "<3" before a quantity ("<3 °C",
"<3 km", "<3 GB": a comparison)."""
_KEYCAP = re.compile(r"\s*(\d)\ufe0f?\u20e3\s*")
_SPACES = re.compile(r"\s+")
_SPACE_BEFORE_MARK = re.compile(r"\s+([.,!?;:…])")
_CLAUSE_BEFORE_END = re.compile(r"[,;:](?:\s*[,;:])*\s*([.!?…])")
"""A clause mark left right before the sentence's end by what was dropped between them ("Done, ✅." was "Done,",
"Links: https://a.b." with URLs dropped "Links:"): the end mark is kept, the sentence ends as a sentence."""
_EMPTY_PAIR = re.compile(r"([(“‘«„\"'])\s*([)”’»“\"'])")
_PAIRS = frozenset({"()", "“”", "‘’", "«»", "„“", '""', "''"})
"""Brackets or quotes left empty by what was dropped ("More info (https://x.y)." was "More info ().")."""
_LONE_DASH = re.compile(r"[-–—]+(?=\s*(?:[.,!?;:…]|$))")
"""A dash left with nothing after it ("Done - ✅." was "Done -.")."""
_REPEATED_MARKS = re.compile(r"([.,!?;:])(?:\s*[.,;:])+")
_KEEP_SYMBOLS = set("°%‰€$£¥₽+−-/±×÷&@'’\"“”„«»()")
"""Symbols later rules read ("°C", "%", "€") or that are ordinary punctuation."""


def _domain_words(domain: str, lang: Lang | None) -> str:
    parts = [p for p in domain.lower().removeprefix("www.").split(".") if p]
    word = f" {lang.dot} " if lang else " "
    return word.join(part.replace("-", " ") for part in parts)


def urls(text: str, mode: str, lang: Lang | None) -> str:
    """Bare URLs as their domain ("example dot com"), or dropped (``mode="drop"``)."""

    def replace(m: re.Match[str]) -> str:
        url = m.group(0)
        tail = ""
        while url and url[-1] in _TRAILING:
            url, tail = url[:-1], url[-1] + tail
        if mode == "drop":
            return tail
        host = re.sub(r"(?i)^https?://", "", url).split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
        host = host.rsplit("@", 1)[-1].split(":", 1)[0]
        return _domain_words(host, lang) + tail

    return _URL.sub(replace, text) if ("://" in text or "www." in text.lower()) else text


def emails(text: str, mode: str, lang: Lang | None) -> str:
    """E-mail addresses as "name at example dot com", or dropped (``mode="drop"``)."""
    if "@" not in text:
        return text

    def replace(m: re.Match[str]) -> str:
        if mode == "drop":
            return ""
        name = re.sub(r"[._%+\-]+", " ", m.group(1))
        return f"{name} {lang.at if lang else 'at'} {_domain_words(m.group(2), lang)}"

    return _EMAIL.sub(replace, text)


_LOVES = re.compile(r"(?<=[A-Za-z] )<3(?= (?:you|u|ya|it|this|that|them|him|her|me|us|my|your|our|their|his)\b)")
"""A heart between a word and what it is given ("I <3 you", "we <3 this"): the verb, "love" (was "I less than three
you"; dropped, "I you")."""


def emojis(text: str, word: str) -> str:
    """Emoji and emoticons dropped, or a run of them replaced by ``word`` once."""
    emoticons = ":" in text or ";" in text or "=" in text or "<" in text or "xD" in text
    if emoticons and "<3 " in text:
        text = _LOVES.sub("love", text)
    marked = _EMOTICON.sub("\x01", text) if emoticons else text
    if not text.isascii():
        if "\u20e3" in marked:
            # A keycap ("1️⃣", "Step 2️⃣:") is its digit: numbered steps were read with no number ("Step:").
            text = marked = _KEYCAP.sub(r" \1 ", marked)
        if "(" in marked:
            text = marked = _KAOMOJI.sub(" ", marked)
        marked = emoji.replace_emoji(marked, replace="\x01")
    if "\x01" not in marked:
        return text
    replacement = f" {word} " if word else " "
    # A run of emoji between two sentences ("Great job 🎉 See you") was their boundary: keep one there.
    marked = _EMOJI_BOUNDARY.sub("." + replacement, marked)
    return re.sub(r"\x01(?:[\s\x01]*\x01)?", replacement, marked)


def identifiers(text: str, lang: Lang | None) -> str:
    """Hashtags, mentions, entity ids and ``&`` as words."""
    text = _HASHTAG.sub("", text) if ("#" in text or "@" in text) else text
    if "." in text:
        text = _IDENTIFIER.sub(lambda m: " ".join(g for g in m.groups() if g), text)
    if "&" in text and lang is not None:
        text = _AMPERSAND.sub(f" {lang.and_word} ", text)
    return text


@functools.lru_cache(maxsize=16)
def _abbreviation_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    # "z.b" is "z. B.", "z.B." or "z.\u00a0B." as written.
    spelled = (re.escape(w).replace(r"\.", r"\.[ \u00a0\u202f]?") for w in sorted(words, key=len, reverse=True))
    return re.compile(r"(?<![\w.])(?i:(" + "|".join(spelled) + r"))\.(?!\w)")


_ABBREVIATION_HINTS: dict[str, tuple[tuple[str, str], ...]] = {}


def _abbreviation_hints(lang: Lang) -> tuple[tuple[str, str], ...]:
    """Each abbreviation's first and last part with their dots ("bzw" → "bzw.", "bzw."; "z.b" → "z.", "b."): a
    sentence that has one has both (a cheap look before the pattern)."""
    hints = _ABBREVIATION_HINTS.get(lang.code)
    if hints is None:
        parts = (w.split(".") for w in lang.abbreviations)
        hints = _ABBREVIATION_HINTS[lang.code] = tuple(sorted({(p[0] + ".", p[-1] + ".") for p in parts}))
    return hints


def abbreviations(text: str, lang: Lang | None) -> str:
    """Abbreviations engines misread as the language's words ("approx." → "approximately", "bzw." →
    "beziehungsweise", "z. B." → "zum Beispiel": espeak spelled it, "zett. bee", a pause at each dot); their dot goes,
    except at the sentence's end ("Apples, pears, etc." keeps its mark)."""
    if lang is None or not lang.abbreviations or "." not in text:
        return text
    lower = text.lower()
    if not any(first in lower and last in lower for first, last in _abbreviation_hints(lang)):
        return text

    def replace(m: re.Match[str]) -> str:
        written = m.group(1)
        if written.isalpha() and written.isupper():
            return m.group(0)  # "8 PM EST.", "John D. Rockefeller": a time zone, an acronym or an initial
        word = lang.abbreviations[re.sub(r"[ \u00a0\u202f]", "", written.lower())]
        if word in _BEFORE_A_YEAR and _YEAR_AFTER.match(text, m.end()):
            word = _BEFORE_A_YEAR[word]  # "est. 1892": a firm's founding; "d. 1791": a death
        if written[0].isupper():
            word = word[0].upper() + word[1:]
        return word + ("." if _SENTENCE_END.fullmatch(text, m.end()) else "")

    return _abbreviation_pattern(tuple(lang.abbreviations)).sub(replace, text)


_LIMITS = {"de": ("mindestens", "maximal"), "en": ("minimum", "maximum")}
"""What "min." and "max." before a number are said as (in German after a number "min." is minutes)."""
_LIMIT = re.compile(r"(?<![\w.])(?<!\d[ \u00a0])([Mm]in|[Mm]ax)\.(?=[ \u00a0]*[-−+]?\d)")
"""A bound before a number ("min. 5 Grad", "max. 2 Personen", "Max. 12 °C"); "5 min. 30 s" is minutes."""


def limits(text: str, lang: Lang | None) -> str:
    """ "min. 5", "max. 12" → "mindestens fünf", "maximal zwölf" (espeak said "min" and "max" with a pause)."""
    if lang is None or lang.code not in _LIMITS or ("min." not in text.lower() and "max." not in text.lower()):
        return text
    least, most = _LIMITS[lang.code]

    def say(m: re.Match[str]) -> str:
        word = least if m.group(1).lower() == "min" else most
        return word[0].upper() + word[1:] if m.group(1)[0].isupper() else word

    return _LIMIT.sub(say, text)


_SHORT_WORDS = {
    "de": {"Hbf": "Hauptbahnhof", "Bhf": "Bahnhof"},
    "en": {"O/U": "over under", "P/E": "P E", "YoY": "year over year", "QoQ": "quarter over quarter"},
}
"""Short forms written without a dot that engines spell or misread ("Köln Hbf" "ha be ef", a betting line's "O/U"
and a stock's "P/E" "O or U", "P or E", "YoY" "yoy")."""
_SHORT_WORD = {
    code: re.compile(r"(?<![\w/])(" + "|".join(re.escape(w) for w in words) + r")(?![\w/])(\.(?=[ \u00a0]+[a-z\d]))?")
    for code, words in _SHORT_WORDS.items()
}
"""One of them, and a dot after it that ends no sentence ("Köln Hbf. um 8 Uhr")."""


def short_words(text: str, lang: Lang | None) -> str:
    """Short forms without a dot as words: "Hbf" → "Hauptbahnhof", "O/U" → "over under"."""
    if lang is None or lang.code not in _SHORT_WORDS:
        return text
    words = _SHORT_WORDS[lang.code]
    if not any(w in text for w in words):
        return text
    return _SHORT_WORD[lang.code].sub(lambda m: words[m.group(1)], text)


_BEFORE_A_YEAR = {"estimated": "established", "defeated": "died"}
"""What an English abbreviation is before a year ("est. 1892", "d. 1791"), not before a name or a price."""
_YEAR_AFTER = re.compile(r"[ \u00a0]*(?:in[ \u00a0]+)?(?:1[5-9]|20)\d\d\b(?![.,]\d)")
"""A year after "est." ("est. 1892"): the year a firm was established."""

STREET_SUFFIXES = frozenset({"st", "ave", "rd", "blvd", "ln", "ct", "pl", "pkwy", "hwy", "sq", "str"})
"""Short forms of a street's kind that ``addresses`` reads before a sentence's final dot ("on Elm St.")."""
_SUFFIXES_EN = {
    "St": "Street", "Ave": "Avenue", "Rd": "Road", "Blvd": "Boulevard", "Dr": "Drive", "Ln": "Lane", "Ct": "Court",
    "Pl": "Place", "Pkwy": "Parkway", "Hwy": "Highway", "Sq": "Square",
}  # fmt: skip
_DIRECTIONS_EN = {"N": "North", "S": "South", "E": "East", "W": "West"}
_NAME = r"(?:[A-Z][\w'’-]*|\d+(?:st|nd|rd|th))"
_STREET_EN = re.compile(
    r"(?<=\d )([NSEW])\.?(?= (?:"
    + _NAME
    + r" ){1,3}(?:"
    + "|".join([*_SUFFIXES_EN, *_SUFFIXES_EN.values(), "Way"])
    + r")\b)"
    r"|(?<=[\w.,] )(" + _NAME + r"(?: " + _NAME + r"){0,2}) (" + "|".join(_SUFFIXES_EN) + r")\."
    r"|\bSt\.(?= [A-Z])"
)
"""An English street address: a direction's letter after a house number before a street's name and kind ("123 W.
Main St." was "one hundred and twenty-three watts. Main St."), the street's kind after its name ("Main St."), and
"St." before a name, Saint ("St. Louis"); a kind's dot before a capitalised word is no street's ("Dr. Smith"), except
a "St." after a name, where a sentence ended ("on Elm St. Parking is free" was "Elm Saint Parking")."""
_SAINT_AFTER = frozenset({"Mount", "Mt", "Fort", "Ft", "Port", "Lake", "Cape", "Pope", "Sault", "Saint", "Ste"})
"""Words a "St." after them is Saint ("Mount St. Helens", "Fort St. John")."""
_SAINTS = re.compile(
    r" (?:Louis|Paul|Peter|Patrick|John|Mary|Andrew|Helen|Kitts|Lucia|Vincent|Thomas|Martin|Augustine|George"
    r"|Francis|Joseph|Nicholas|Moritz|Gallen|Pauli|Tropez|James|Albans|Ives|Michael|Anton|Barth|Pölten|Croix"
    r"|Clair|Cloud|Charles|Catharines|Petersburg)"
)
"""Names of places after "St." that are Saint's even after a name ("Minneapolis St. Paul")."""
_CAPITAL_NEXT = re.compile(r" ?[A-Z]")
_STREET_DE = re.compile(r"(?<=\w)(str)\.|\b(Str)\.")
"""A German street's short form ("Hauptstr. 5", "Str."): "straße"."""
_NUMBER_DE = re.compile(r"(?<=[a-zäöüß])nr\.(?=[ \u00a0]*(?:\d|:))")
"""A number's short form in a German compound before its number ("Sendungsnr. 0034", "Kundennr.: 12"): "nummer"
(espeak read "Sendungsnr" as one word, "zˈɛndʊŋsnɾ")."""


def addresses(text: str, lang: Lang | None) -> str:
    """Street addresses said as words: "123 W. Main St." is "123 West Main Street", "Hauptstr. 5" "Hauptstraße 5"
    (and "Sendungsnr. 5" "Sendungsnummer 5"); before the numbers, which read "W." as watts."""
    if lang is None or "." not in text:
        return text
    if lang.code == "de":
        if "nr." in text:
            text = _NUMBER_DE.sub("nummer", text)
        if "str." not in text.lower():
            return text
        return _STREET_DE.sub(lambda m: ("straße" if m.group(1) else "Straße") + _kept_dot(text, m.end()), text)
    if lang.code != "en":
        return text

    def replace(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            return _DIRECTIONS_EN[m.group(1)]
        if m.group(2) is not None:
            if m.group(3) == "Dr" and not re.search(r"\d[ \u00a0]+$", text[: m.start(2)]):
                return m.group(0)  # "Dr." after a name is a drive only after a house number ("5 Oak Dr.")
            if _CAPITAL_NEXT.match(text, m.end()):
                if m.group(3) != "St":
                    return m.group(0)  # "Ask Dr. Smith": a title's dot before a name
                if m.group(2).rpartition(" ")[2] in _SAINT_AFTER or _SAINTS.match(text, m.end()):
                    return f"{m.group(2)} Saint"
                # "on Elm St. Parking is free": the splitter took the dot for a title's (as in "St. Louis"); it
                # ended the sentence, and stays for the engine's pause.
                return f"{m.group(2)} Street."
            return f"{m.group(2)} {_SUFFIXES_EN[m.group(3)]}" + _kept_dot(text, m.end())
        return "Saint"

    return _STREET_EN.sub(replace, text)


def _kept_dot(text: str, end: int) -> str:
    """A short form's dot, kept where it ends the sentence."""
    return "." if _SENTENCE_END.fullmatch(text, end) else ""


_POINTS = {
    "en": {"N": "north", "E": "east", "S": "south", "W": "west"},
    "de": {"N": "Nord", "O": "Ost", "S": "Süd", "W": "West"},
}
"""The compass's points by letter ("NW": "north-west", "Nordwest"; "NNE": "north-north-east")."""
_COMPASS = {
    "en": re.compile(
        r"(?i:\b(?:winds?|gusts?|from(?: the)?|to(?: the)?|towards?|heading|blowing|mph|km/h|knots|kt)[ \u00a0]+)"
        r"((?-i:N|S|E|W|NE|NW|SE|SW|NNE|ENE|ESE|SSE|SSW|WSW|WNW|NNW))\b"
    ),
    "de": re.compile(
        r"(?i:\b(?:Wind|Winde|Böen|aus|nach|Richtung|km/h|Knoten)[ \u00a0]+)"
        r"((?-i:N|S|O|W|NO|NW|SO|SW|NNO|ONO|OSO|SSO|SSW|WSW|WNW|NNW))\b"
    ),
}
"""A wind's direction written in letters after a word of wind or direction ("wind NW 10 mph", "Wind aus SW"):
espeak spelled it ("N double-u")."""


def compass(text: str, lang: Lang | None) -> str:
    """ "wind NW 10 mph" → "wind north-west …", "Wind aus SW mit 10 km/h" → "Wind aus Südwest …": in a sentence with a
    number (a weather report; plain prose, which skips the reading steps, has none)."""
    if lang is None or lang.code not in _COMPASS or not any(c.isdigit() for c in text):
        return text
    points = _POINTS[lang.code]

    def replace(m: re.Match[str]) -> str:
        letters = m.group(1)
        if lang.code == "de":
            words = [points[c] for c in letters]
            said = "".join(w if i == 0 else w.lower() for i, w in enumerate(words))  # "Nordnordost"
        else:
            said = "-".join(points[c] for c in letters)
        return m.group(0)[: m.start(1) - m.start()] + said

    return _COMPASS[lang.code].sub(replace, text)


def relations(text: str, lang: Lang | None) -> str:
    """≥ ≤ ≠ ≈ ± (and ``>=``, ``<=``, ``!=``, ``>``, ``<``, ``=``, ``~``, ``+/-`` before a number) in the language's
    words: "at least", "at most", "not equal to", "about", "plus or minus", "more than", "less than", "equals" (where
    a language has none, the stray-symbol rule drops them)."""
    if lang is None or not lang.relations or not any(c in text for c in "=<>≥≤≠≈±~+\uff1d"):
        return text

    def replace(m: re.Match[str]) -> str:
        sign = m.group(1) or m.group(2)
        words = lang.relations[_RELATION_KEYS.get(sign, sign)]  # a formula's "=" (formulas.EQUALS) is "="
        if m.start() == 0:
            return words[0].upper() + words[1:] + " "  # "= 42" alone: "Equals forty-two"
        return (" " if text[m.start() - 1] not in "([" else "") + words + " "

    return _RELATION.sub(replace, text)


_CAPITAL_AFTER = re.compile(r"[ \u00a0]+[A-ZÄÖÜ]")
_DE_DAY_BEFORE_NOUN = re.compile(r"(?<![\w.])(Mo|Di|Mi|Do|Sa)\.(?=[ \u00a0]+[A-ZÄÖÜ])")
"""A German day with its dot before a capitalised word ("Mi. EZB-Zinsentscheid"): no word is written so."""
EN_DAY = re.compile(r"\b(Tues|Tue|Thurs|Thur|Thu|Fri)\b(\.?)")
_EN_DAY_AFTER_TIME = re.compile(
    r"((?<![^\W\d_])[AaPp]\.?[Mm]\b\.?(?:[ \u00a0]+[A-Z]{2,4})?[ \u00a0]+)(Mon|Wed|Sat|Sun)\b(\.?)"
)
"""English days written short: those that are no word anywhere, the others after a time ("6 PM Sun", "9 AM EST
Sun")."""
_HOURS_AFTER = re.compile(r":?[ \u00a0]*\d{1,2}(?::\d\d)?(?:[ \u00a0]?[–-][ \u00a0]?\d{1,2}(?::\d\d)?|[ \u00a0]?Uhr\b)")
"""Opening hours after a day written short ("Sa 10–14 Uhr", "So 10-12", "Sa 9 Uhr")."""


@functools.lru_cache(maxsize=16)
def _weekday_patterns(names: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    day = "(" + "|".join(sorted(names, key=len, reverse=True)) + ")"
    ranged = re.compile(r"\b" + day + r"\.?[ \u00a0]?[–-][ \u00a0]?" + day + r"\b(\.?)")
    alone = re.compile(r"\b" + day + r"(\.?)(?=[ \u00a0]*(?:[,:]|\d))")
    # "Mo. bis Mi.:", "Do. und Fr. 9–20 Uhr", "Mon. to Wed.": two days joined by a word, the first with its dot
    # or hours after the second ("Mo bis Mi 9–18 Uhr"); "So und Mo" alone may be words.
    worded = re.compile(
        r"\b" + day + r"(\.?)([ \u00a0]+(?:bis|und|oder|to|through|thru|and|or|&)[ \u00a0]+)" + day + r"\b(\.?)"
    )
    # "am Do. zw. 10 und 14 Uhr", "Mi. um 10 Uhr", "Wed. at 3", "So. geschlossen": a day with its dot after a
    # German word of days or before a time's word or an opening's (were left: "em i"); English "on Wed." stays:
    # "Wed" and "Sun" are words too.
    dotted = re.compile(
        r"(\b(?i:am|ab|bis|jeden)[ \u00a0]+)?\b"
        + day
        + r"\.(?(1)|(?=[ \u00a0]+(?:um|ab|at|geschlossen|geöffnet|closed)\b))"
    )
    return ranged, alone, worded, dotted


def weekdays(text: str, lang: Lang | None) -> str:
    """Days of the week written short, in a range or before a number or comma ("Mo.–Fr. 9–18 Uhr", "Mon-Fri",
    "Sa. 10–14 Uhr") as their names ("Montag bis Freitag"); espeak read "Mo." "em o" and "Fr." "Frau"."""
    if lang is None or not lang.weekdays or not any(d in text for d in lang.weekdays):
        return text
    names = lang.weekdays
    ranged, alone, worded, dotted = _weekday_patterns(tuple(names))

    def ends(m: re.Match[str], dot: str) -> str:
        return "." if dot and _SENTENCE_END.fullmatch(m.string, m.end()) else ""

    def one(m: re.Match[str]) -> str:
        if (
            (len(m.group(1)) < 3 or m.string.startswith(":", m.end()))
            and not m.group(2)
            and not _HOURS_AFTER.match(m.string, m.end())
        ):
            # "So 5 Leute", "Sun: clear skies": a word, not "Sonntag" ("Sa 10–14 Uhr", "So 10-12", "Sa.:" are days)
            return m.group(0)
        return names[m.group(1)] + ends(m, m.group(2))

    text = ranged.sub(lambda m: f"{names[m.group(1)]} {lang.to or '-'} {names[m.group(2)]}" + ends(m, m.group(3)), text)

    def joined(m: re.Match[str]) -> str:
        if not m.group(2) and not (m.group(5) or _HOURS_AFTER.match(m.string, m.end())):
            return m.group(0)  # "So und Mo": perhaps words, not "Sonntag und Montag"
        return names[m.group(1)] + m.group(3) + names[m.group(4)] + ends(m, m.group(5))

    if " " in text or "\u00a0" in text:
        text = worded.sub(joined, text)
    text = alone.sub(one, text)
    if "." in text:
        # The dot stays before a capitalised word: the splitter took the day for an abbreviation ("next Mon. Then").
        text = dotted.sub(
            lambda m: (
                (m.group(1) or "")
                + names[m.group(2)]
                + ("." if _CAPITAL_AFTER.match(text, m.end()) else "")
                + ends(m, ".")
            ),
            text,
        )
    if lang.code == "de" and "." in text:
        # "; Mi. EZB-Zinsentscheid", "Sa. Training": a day with its dot before a capitalised word (was "em i"); not
        # "Fr." ("Fr. Müller": Frau) nor "So." ("So. Jetzt …"); the dot stays, as above.
        text = _DE_DAY_BEFORE_NOUN.sub(lambda m: names[m.group(1)] + ".", text)
    if lang.code == "en":
        # "ships Tue.", "6 PM Fri to 9 AM Sun": a day no word could be ("Tue", "Thu", "Fri") anywhere, the others
        # after a time ("Sun" and "Sat" are words too); espeak read "Tue" "too" and "Fri" "fry".
        text = EN_DAY.sub(lambda m: names[m.group(1)] + ends(m, m.group(2)), text)
        text = _EN_DAY_AFTER_TIME.sub(lambda m: m.group(1) + names[m.group(2)] + ends(m, m.group(3)), text)
    return text


TIME_ZONE = re.compile(
    r"(\d:[0-5]\d|(?<![^\W\d_])[AaPp]\.?[Mm]\b\.?|\bUhr\b|\bo'clock\b)([ \u00a0]*\(?)("
    + "|".join(sorted(TIME_ZONES, key=len, reverse=True))
    + r")(?![\w+\-−]\d|\w)"
)
"""A time zone's short form right after a time ("3 PM EST", "20:45 Uhr MESZ", "18:45 UTC", "(EDT)")."""


_DIGIT = re.compile(r"\d")
_OFFSET = re.compile(r"\b(UTC|GMT)[ \u00a0]?([+\-−])[ \u00a0]?(?=\d{1,2}(?::\d\d)?(?![\w:]|[.,]\d))")
"""An offset from UTC ("UTC+9", "GMT-5", "UTC+5:30")."""


def time_zones(text: str, lang: Lang | None) -> str:
    """A time zone after a time spelled letter by letter, as it is said ("M E S Z"): espeak read "MESZ" "mests",
    "CEST" "sest" and, before a comma, "UTC" "utk" and "CET" "ket"; elsewhere ("ET is fine") it is left. An offset
    from UTC anywhere, with its sign said ("UTC+9" "U T C plus nine"; the sign was dropped or read as a range)."""
    if "T" not in text and "Z" not in text or not _DIGIT.search(text):
        return text  # a zone's short form ends in T or Z, and a time or an offset has a digit
    if lang is not None and ("UTC" in text or "GMT" in text):
        text = _OFFSET.sub(lambda m: f"{' '.join(m.group(1))} {lang.plus if m.group(2) == '+' else lang.minus} ", text)
    return TIME_ZONE.sub(lambda m: m.group(1) + m.group(2) + " ".join(m.group(3)), text)


def arrows(text: str, lang: Lang | None) -> str:
    """``a → b`` (``->``, ``=>``) as "a to b", ``a ← b`` (``<-``) as "a from b", in the language's words (a comma
    where it has none); an arrow with no word on one side is dropped. espeak read "->" as "hyphen" or nothing. A menu
    path's ">" ("Settings > Devices") is a pause."""
    if not _ARROW_HINT.search(text):
        return text

    def replace(m: re.Match[str]) -> str:
        if not (_WORD_BEFORE.search(text, max(0, m.start() - 40), m.start()) and _WORD_AFTER.match(text, m.end())):
            return " "
        words = lang.arrows if lang is not None else None
        if words is None:
            return ", "
        return f" {words[0] if m.group(1) else words[1]} "

    if " >" in text:
        text = _MENU_PATH.sub(", ", text)
    return _ARROW.sub(replace, text)


_WITH_EN = re.compile(r"(?<![\w/])([wW])/(o\b)?(?=[ \u00a0])")
"""English "w/" and "w/o" before a word ("Lunch w/ Sam"): "with", "without"."""


def slashes(text: str, lang: Lang | None) -> str:
    """``on/off`` → "on or off", English ``w/`` "with", ``High 72°F / Low 55°F`` a pause (after the numbers: "km/h"
    is theirs)."""
    if "/" not in text:
        return text
    if lang is not None and lang.code == "en":
        text = _WITH_EN.sub(lambda m: ("W" if m.group(1) == "W" else "w") + ("ithout" if m.group(2) else "ith"), text)
    text = _SPACED_SLASH.sub(", ", text)  # espeak said "slash"
    return _SLASHED_WORDS.sub(f" {lang.or_word} " if lang else " ", text)


def _empty_pair(m: re.Match[str]) -> str:
    """Brackets or quotes with nothing in them go; an apostrophe and a quote ("the Joneses' 'best'") stay."""
    text, start, end = m.string, m.start(), m.end()
    if m.group(1) + m.group(2) not in _PAIRS:
        return m.group(0)
    if m.group(1) in "'\"" and (start and text[start - 1].isalnum() or end < len(text) and text[end].isalnum()):
        return m.group(0)
    return ""


def _lone_dash(m: re.Match[str]) -> str:
    """A dash after a space with nothing to say after it goes ("-5" and "well-" stay)."""
    start = m.start()
    return "" if start and m.string[start - 1] == " " else m.group(0)


def stray(text: str) -> str:
    """Markup characters and symbols an engine would spell out removed; spaces and marks tidied."""
    text = _STRAY.sub(" ", text)
    if not text.isascii():
        text = "".join(
            " "
            if unicodedata.category(c) in ("So", "Sk", "Sm", "Co", "Cn")
            and c not in _KEEP_SYMBOLS
            and not "\ue000" <= c <= "\ue1ff"  # the lexicon's placeholders
            else c
            for c in text
        )
    text = _SPACES.sub(" ", text).strip()
    if "(" in text or "'" in text or '"' in text or not text.isascii():
        text = _EMPTY_PAIR.sub(_empty_pair, text).replace("  ", " ").strip()
    if "-" in text or "–" in text or "—" in text:
        text = _LONE_DASH.sub(_lone_dash, text).strip()
        if text[:1] in ("-", "–", "—") and text[1:2] == " ":
            text = text.lstrip("-–— ")
    text = _SPACE_BEFORE_MARK.sub(r"\1", text)
    text = _CLAUSE_BEFORE_END.sub(r"\1", text)
    text = _REPEATED_MARKS.sub(r"\1", text)
    return text.lstrip(".,;:!? ")
