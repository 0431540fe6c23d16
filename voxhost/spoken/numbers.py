"""Numbers read as words in the sentence's language: times, dates, years, money, temperatures, units, percentages,
ordinals, ranges, versions, phone-number-like digit runs, then plain cardinals and decimals.

The rules run in that order, each on what the earlier ones left, so a date is never read as a range and a phone
number never as a cardinal. num2words writes the numbers; ``langs`` holds the words around them. A language without
a table gets only its plain numbers from num2words; a language num2words does not know keeps its digits.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from num2words import CONVERTER_CLASSES, num2words

from ..langid import primary_language
from ..text import SENTENCE_OPENERS
from .langs import PRODUCT_NAMES, Lang, lang_for

_LOGGER = logging.getLogger(__name__)

_INT = r"\d{1,3}(?:[,.\u00a0\u202f]\d{3})+|\d+"
_NUM = rf"(?:{_INT})(?:[.,]\d+)?"
_SIGNED = rf"(?:[-−+](?=\d))?{_NUM}"
_DATE_RULES = 6
"""The first rules of ``_structured_rules`` are dates: they run before digit runs (an ISO date looks like one); German
has one more (a range of days)."""
_LENGTH_MARKS = "'’′\"”″"
"""The marks of feet and inches: their rules look only at a sentence that has one."""
Handler = Callable[[re.Match[str]], str | None]
_ARTICLE = r"(?:\b((?i:am|vom|zum|bis zum|seit dem|ab dem|im|beim|dem|den|der|die|das|ab|bis|seit|von))\s+)?"
"""A German article or preposition before a date: it decides the ordinal's ending ("am dritten", "der dritte", "ab
fünften": "ab 5. Dezember" was "ab fünfter Dezember")."""
_LEFT = r"(?<![\w.,:/\-−+])"
_AVERAGE: dict[str, tuple[str, str, str]] = {
    "de": ("im Durchschnitt", "Durchmesser", "durchschnittlich"),
    "en": ("on average", "diameter", "average"),
}
"""What "im Ø", "Ø" before a length and "Ø" before another number are said as."""
_AVERAGE_IN = re.compile(r"\b[Ii]m[ \u00a0]*[Ø⌀](?![\w])")
_DIAMETER = re.compile(r"[Ø⌀][ \u00a0]?(?=\d+(?:[.,]\d+)?[ \u00a0]?(?:mm|cm|m|Zoll|in|\"|″)(?!\w))")
_AVERAGE_SIGN = re.compile(r"[Ø⌀][ \u00a0]?(?=[-−]?\d)")
_COUNTDOWN = re.compile(
    r"(?<![\w-])T[-−–](?=\d+(?:[ \u00a0]*(?:[,.;:!?)]|$)|[ \u00a0]?(?i:s|min|h|d|sec|seconds?|minutes?|hours?|days?|"
    r"Sek|Sekunden?|Minuten?|Stunden?|Tagen?)\b))"
)
"""A countdown ("T-10 minutes", "T-5."): not a model's name ("the T-800 arrives")."""
_STAMP = re.compile(
    r"(?<![\w.,:/\-−+])(\d{4}-\d{1,2}-\d{1,2})(?:T|[ \u00a0]+)((?:[01]?\d|2[0-3]):[0-5]\d)(?::([0-5]\d)(?:\.\d+)?"
    r"([+-]\d\d:?\d\d)?)?(Z)?(?![\w:]|[.,]\d)"  # an offset only after the seconds: "10:00-12:00" is a range
)
"""A date and time as Home Assistant gives them ("2026-12-05T14:30:00Z", "2026-12-05 14:30"): the date, "at", the
time (was "two thousand and twenty-six to twelve-05T14:30:00Z")."""
_STAMP_AT = {"en": "at", "de": "um", "fr": "à", "es": "a las", "fi": "klo", "ru": "в"}
_UTC = frozenset({"Z", "+00:00", "+0000", "-00:00", "-0000"})
_MEASURE_SLASH = re.compile(
    r"(?:(?<=[°%])|(?<=°[CF])|(?<=°[ \u00a0][CF]))[ \u00a0]?/[ \u00a0]?(?=[-−]?\d[\d.,]*[ \u00a0]?[°%])"
)
"""A slash between two temperatures or percentages ("400°F/200°C", "180 °C/160 °C Umluft", "40%/60%"): either,
"or" (the second one, after the slash, was left as written)."""
_TEMPERATURE_PAIR = re.compile(r"(?<![\w/.,:])([-−]?\d{1,3})/(?=[-−]?\d{1,3}[ \u00a0]?°[CF]?(?!\w))")
"""A low and a high before one degree sign ("0/4 °C", "−2/3 °C", "29/42°F"): a forecast's range."""
_V_VERSION = re.compile(r"(?<!\w)v(?=\d+\.\d)")
"""No number, word or separator just before (so "v2" and "1.2.3" are not split into numbers)."""
_RIGHT = r"(?![\w])"
_AMPM = r"(a\.m(?=\.)|p\.m(?=\.)|am|pm)(?:(?<=\.m)\.(?=[ \u00a0]*(?-i:[a-z0-9,;–-]|[A-Z](?: [A-Z]){1,3}\b)))?"
"""am/pm; the final dot of "a.m." stays where it may end the sentence, and goes before a lower-case word, a number or
a comma ("at 9 a.m. on Monday" was "nine a m. on Monday", a pause) or a time zone ("p.m. ET", spelled by then: "E
T"); that of "PM." is a sentence's ("7:14 PM. 5-day
forecast" lost its pause)."""
_YEAR_NEXT = re.compile(r"[ \u00a0]*\d{4}(?![\d:]|[.,]\d)")
"""A year after a month ("5 dic. 2026"), not a time or another number."""
_RIGHT_NUM = r"(?![\d/]|:\d)(?:(?<=\d)(?![.,]\d))"
_YEAR = re.compile(r"1[1-9]\d\d|20[1-9]\d")
"""What is read as a year where it stands alone (English and German): "1999", "2024"."""
_DECADES = {
    "en": re.compile(
        r"(?:(?<![\w.,:/\-−+'’‘])|(?<=mid-)|(?<=late-)|(?<=early-)|(?<=[sS][-–]))"
        r"(['’‘])?(1[1-9]\d0|20\d0|[1-9]0)['’]?s(?!\w)"
        # "mid-70s °F": a forecast's temperatures, the scale said ("…Fahrenheit"; the sign was left as written).
        r"(?:[ \u00a0]?°[ \u00a0]?([CF])?(?!\w))?"
    ),
    "de": re.compile(_LEFT + r"(1[1-9]\d\d|20\d\d|[1-9]0)(?=er[ns]?(?![^\W\d_]))"),
}
"""Decades ("the 1990s", "the '90s", "the 80's"; "die 90er", "die 1990er Jahre") and German years as adjectives
("1995er Jahrgang"): the number as a year, made plural ("nineteen nineties") or given its "-er" ("neunziger")."""
_DECADE_BEFORE = re.compile(
    r"(?i:\b(?:the|his|her|their|my|your|our|its|those|these|early|mid|late)[\s-]+"
    r"|\d0['’]?s(?:,?\s+(?:and|or|to|through)\s+|,\s*|\s?[-–/]\s?))$"
)
"""What says that a "90s" is a decade or an age ("the 90s", "in their 30s", "the 80s and 90s"), not ninety seconds."""
_PHONE_CONTEXT = 32
"""How many characters before a number are searched for a word that says it is a telephone number."""
_PLURAL_S = re.compile(r"s(?!\w)")
_NAMED = re.compile(r"(?:(?i:\b(?:the|those|these))|\b(?:Boeing|Airbus|Porsche|Cessna|Embraer|Bombardier))\s+$")
"""What says that a number + "s" is no span of seconds but the number as a name, made plural ("the 747s", "Boeing
747s": a maker of models numbered so)."""
_COUNTED_DIGIT = re.compile(
    r"(?i:\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|several|many|few|all|both|some|any|more"
    r"|double|triple|pair of)\s+)$"
)
"""What says that a number + "s" is the number made plural ("two 6s", "all 7s", "a pair of 3s", "two 45s": "sixes"),
not seconds: a count before it, where no noun follows ("three 5s sprints" are seconds, as "Wait 30s" is)."""
_MINUTES_BEFORE = re.compile(r"(?i:\b(?:wait(?:s|ed|ing)?|takes?|took|taking|lasts|lasted|lasting)\s+)$")
_MINUTES_IN = re.compile(r"(?i:\bin\s+)$")
_MINUTES_AFTER = re.compile(r"\s*(?:ago|later|delay|timeout|timer|break|pause|interval|cooldown)\b")
_CLAUSE_END = re.compile(r"\s*(?:[.,;:!?)]|$)")
_OF = re.compile(r"\s+of\b")
"""What says that an English "5m" is minutes, not meters: a word of waiting or lasting before it ("wait 5m", "takes
5m", not "takes 5m of cable"), "in" before it at a clause's end ("back in 5m."), or a word of time after it ("5m
ago", "a 5m timer"). Elsewhere it stays meters: "every 5m", "after 5m", "for 5m" are as often a distance (a post
every 5m, turn right after 5m) as a time."""
_COUNTED = re.compile(r" [^\W\d_A-Z]")
"""A word in lower case after "1B" or "2M": what it counts ("1B users"), so the letter is a magnitude."""
_ARTICLE_BY_EN = re.compile(r"(?i)\ban?[ \u00a0]+(?:[\w-]+[ \u00a0]+by[ \u00a0]+)+$")
"""English "a" before a size's first sides, said already ("a nine by 5" pan"): the last side stands before a noun."""
_OF_WORD = {"en": "of", "de": "von"}
_COUNTED_PLURAL = re.compile(r"[ \u00a0]+(?:[a-z]+[ \u00a0]+)?([a-z]+[^s\W]s)\b")
"""A plural noun, perhaps after a word ("7/9 free throws", "3/4 shots"), after a count of tries."""
_PLURAL_AFTER = re.compile(r" [a-z]+s\b")
"""A plural noun after "12K": what it counts, so the letter is thousands."""
_YEAR_BEFORE = re.compile(r"(?i:\b(?:in|since|by|from|until|till|of|during|before|after|around|circa))[ \u00a0]+$")
"""English words before a year: "in 1999 sales rose" is no count of sales."""
_MODEL_WORD = re.compile(r"[ \u00a0-](?i:models?|variants?|versions?|checkpoints?|instruct|chat|base|quant)\b")
_NAME_VERSION = re.compile(r"\b[A-Z][\w-]*[ \u00a0-]v?\d{1,3}(?:\.\d+)*[ \u00a0-]$")
"""What says that "8B" is a language model's size: a word of models after it, a name and its version before it."""
_LEADING_DOT = re.compile(r"(?<=[ (])\.(\d{1,4})(?![\w.,])")
"""A decimal without its zero after a space ("batting .311", "p < .05")."""
_TIEBREAK = re.compile(r"(?<![\w.,:–-])(7[–:-]6|6[–:-]7)[ \u00a0]?\((\d{1,2})\)")
"""A tennis set won 7–6 and the tiebreak's points of its loser in brackets ("7–6(5)", "6:7 (3)")."""
_SCORE_IN = re.compile(r"\d[ \u00a0]?[:–-][ \u00a0]?\d|\d\.?\+\d{1,2}(?:['’′]|\b)")
"""A score ("2–1", "2:1") or a goal in added time ("90+3'"): a sentence that may hold a match's goals' minutes."""
_GOAL_MINUTE = re.compile(
    r"(?:(?<=\()|(?<=[^\W\d_] ))(\d{1,3})(?:\+(\d{1,2})['’′]|\.\+(\d{1,2})(?!\d|[.,]\d)|[.'’′](?=[ \u00a0]*[,;)]))"
)
"""A goal's minute after a scorer or a bracket, before a comma or the bracket's end: "(Saka 12', Havertz 90+3')",
"(Müller 12., Kane 45.+2)", "(12.)"; added time anywhere ("Tor in der 90.+3", "the 90+3'")."""
_CAPITAL_NEXT = re.compile(r"[ \u00a0]+[A-ZÄÖÜ]")
_MINUTE_AFTER = re.compile(r"[ \u00a0]+(?i:min)")
_IN_BEFORE = re.compile(r"\b[Ii]n[ \u00a0]+$")
"""German "in" before minutes and seconds past a day's hours ("in 42:17"): a time taken, not a score."""
_MATCH_MINUTE = re.compile(r"\bthe[ \u00a0]$")
"""English "the" right before "67'": a match's minute where no noun follows ("the 6' fence" is feet)."""
_ARTICLE_EN = re.compile(r"(?i)\ban?\s+$")
"""English "a", "an" right before a measure: the measure stands before a noun, as an adjective ("a five megabyte
file", "a twelve inch pizza", "a five dollar bill"), and its unit is said in the singular."""
_DETERMINER_EN = re.compile(
    r"(?i:\b(?:the|this|that|these|those|each|every|my|your|our|their|his|her|its|no|both|all|two|three|four|five"
    r"|six|seven|eight|nine|ten|eleven|twelve|several|many|few)\s+)$"
)
"""English words before a measure after which it may be an adjective or a quantity: "the 5 MB file" (before a noun,
"the five megabyte file"), "the 5 MB are used", "free up the 5 MB" (a quantity, plural)."""
_WORD_AFTER = re.compile(r"\.?[ \u00a0]([a-z]+)\b(?!-)")
"""The lower-case word right after a measure (after its unit's dot: "a 5 min. drive")."""
_NO_NOUN_WORDS = """
    a an the and or but nor than then so as if because though although while when where which who whom whose that
    this these those there here it its i you he she we they me him her us them my your our their
    is are was were be been being am will would shall should can could may might must do does did have has had
    of to from in on at for with by per into onto over under above below between across through via within without
    before after until till since about around along past up down off out away back ahead behind apart together
    ago later earlier sooner each apiece total overall altogether extra more less fewer most least only just
    too also even still yet already instead rather not never always again please here now today tonight tomorrow
    yesterday daily weekly monthly yearly hourly long wide high tall deep thick thin old young left remaining free
    spare available used needed required missing lost gained saved added north south east west further farther
    bigger smaller larger longer shorter higher lower faster slower heavier lighter wider narrower deeper warmer
    colder cooler hotter cheaper older younger thousand million billion trillion hundred plus minus times
"""
_NO_NOUNS = frozenset(_NO_NOUN_WORDS.split())
"""Lower-case words after a measure that are no noun it could qualify: verbs, prepositions, adverbs, comparatives
("the 5 MB are used", "the 30 km to Berlin", "the 5 kg lighter")."""
_ALGEBRA = re.compile(r"[ \u00a0]*[=+\-−*/<>≤≥)\uff1d]")
"""What says that "2x" is two times x, algebra, not "two times" ("2x + 3 = 7", "f(x) = 2x")."""
_MEASURE_WORD = re.compile(r"\s+(?i:tall|long|wide|high|deep|thick|across)\b")
"""What says that a number's ``'`` or ``"`` is feet or inches, not a quotation's end ('"I am 5" tall"')."""
_NAME_BEFORE = re.compile(r"(?:^|[\s\"'„“‚‘«»(\[])([^\W\d_][\w-]*)\.?\s+$")
"""The word right before a number (after a space, a quotation mark or a bracket; "Mo." with its dot)."""
_AT_END = re.compile(r"[\s'\")\]}’”»“«]*$")
"""What may follow a sentence's last mark: closing quotes and brackets."""
_VULGAR = {
    "½": (1, 2), "⅓": (1, 3), "⅔": (2, 3), "¼": (1, 4), "¾": (3, 4), "⅕": (1, 5), "⅖": (2, 5), "⅗": (3, 5),
    "⅘": (4, 5), "⅙": (1, 6), "⅚": (5, 6), "⅐": (1, 7), "⅛": (1, 8), "⅜": (3, 8), "⅝": (5, 8), "⅞": (7, 8),
    "⅑": (1, 9), "⅒": (1, 10),
}  # fmt: skip
"""Fractions written as one character ("½ cup", "9¾"): numerator and denominator."""
_WORD_NEXT = re.compile(r"[ \u00a0]+[^\W\d_]")
"""A word after "3/4": what the fraction is of ("3/4 cup", "3/4 of the way", "3/4 der Strecke"), not a date."""
_DATE_BEFORE_EN = re.compile(
    r"(?i:\b(?:on|by|due|until|till|from|since|before|after|through|thru"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday),?\s+)$"
)
"""English words before a month and day without a year ("due 12/25", "on 7/4", "Monday 12/9"): a date, not a ratio
or a score."""
_PARTS_DE = (
    "", "", "halb", "Drittel", "Viertel", "Fünftel", "Sechstel", "Siebtel", "Achtel", "Neuntel", "Zehntel", "Elftel",
    "Zwölftel", "Dreizehntel", "Vierzehntel", "Fünfzehntel", "Sechzehntel",
)  # fmt: skip
"""German names of a fraction's parts by denominator (2 to 16)."""
_SERVICE = re.compile(r"[2-9]11|11[0-9]|999|000|988|116\d{3}|118\d{2}")
"""Service and emergency numbers (911, 311, 112, 110, 999, 000, 988, 116117, 11880): dialled wherever they stand
after a word of dialling ("Call 911 immediately")."""
_SCORE_WORDS = {"en": ("to", "and"), "de": ("zu", "und")}
_CURRENCY_SIGNS = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY", "₽": "RUB", "руб": "RUB", "руб.": "RUB"}
"""A currency's sign (or short form) as its code in ``Lang.currencies``."""
_BETWEEN = {
    "en": (re.compile(r"(?i:\bbetween)[ \u00a0]+$"), "and"),
    "de": (re.compile(r"(?i:\bzwischen)[ \u00a0]+$"), "und"),
    "fr": (re.compile(r"(?i:\bentre)[ \u00a0]+$"), "et"),
    "es": (re.compile(r"(?i:\bentre)[ \u00a0]+$"), "y"),
}
"""A range after "between" is said with "and", not "to" ("between 2–4 PM" was "between two to four p m",
"zwischen 14–16 Uhr" "zwischen vierzehn bis sechzehn Uhr")."""
"""Between a score's numbers ("3:1": "three to one"), and before a time's seconds ("ten fifteen and thirty
seconds")."""
_SPAN_BEFORE = re.compile(
    r"(?i:\b(?:for|takes?|took|lasts?|lasted|timer|ran|run|time|duration|elapsed|remaining|left|in|of|after|dauert|"
    r"dauerte|Dauer|Zeit|für|nach|in|lief|Laufzeit|von)\s*:?\s+)$"
)
_AT_TIME = re.compile(r"(?i:\b(?:at|the|um|ab))[ \u00a0]+$")
"""Words before a time of day: "4:59 left" is a timer's span, "the 5:30 left" a train."""
_AN = re.compile(r"\b([Aa])(?= (?:eight|eighth|eleven|eleventh|eighteen|eighteenth|eighty|eightieth)(?![^\W-]))")
"""English "a" before a number said with a vowel: "an" ("a $85 bill" was "a eighty-five dollar bill"); written
"a eight" is no English, so only a number read makes one."""
_SPAN_AFTER = re.compile(r"[ \u00a0]+(?:remaining|left|long|to go|ago|lang|übrig|verbleibend|noch)\b")
"""Words before "1:30:00" ("a timer for", "Dauer:", "nach") or after it ("remaining", "long", "lang") that say it
is a span, not a time of day; "0:04:59" is one too."""
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10}
_ROMAN_NUMERAL = r"(X{0,3}(?:IX|IV|V?I{0,3}))"
_ROMAN_SECTIONS = {
    "en": "chapter|part|volume|vol\\.|book|act|scene|section|article|appendix|phase|episode|season|level|stage|type"
    "|class|grade|war|round|title|track|step|unit|lesson|rule",
    "de": "Kapitel|Teil|Band|Bd\\.|Akt|Szene|Abschnitt|Artikel|Art\\.|Anhang|Phase|Stufe|Klasse|Typ|Staffel|Folge"
    "|Episode|Level|Buch|Runde|Lektion",
}
"""Words after which a Roman numeral counts a part ("Chapter IV", "World War II", "type II", "Kapitel IV"): a
cardinal, "I", "V" and "X" alone too."""
_RULER_NAMES = """
    Henry Edward George William Elizabeth Charles James Richard Louis Ludwig Heinrich Friedrich Frederick Karl
    Wilhelm John Paul Pius Benedict Benedikt Leo Gregory Gregor Innocent Clement Alexander Peter Catherine Katharina
    Mary Philip Philipp Felipe Juan Carlos Gustav Gustaf Napoleon Nicholas Nikolaus Ivan Iwan Otto Constantine
    Ramesses Ramses Francis Franz Joseph Josef Maximilian Boniface Urban Sixtus Stephen Harald Olaf Christian
    Frederik Haakon Carl Albert Leopold Rudolf Ferdinand Sigismund Johann Johannes Henri Malcolm David Robert Alfonso
    Pedro Manuel Anne Victor Emmanuel Umberto Sancho Magnus Eric Erik Valdemar Sebastian Ptolemy Antiochus Cyrus
    Darius Xerxes Thutmose Amenhotep Sesostris Pepi Edmund Ethelred Harold Canute Stefan Andrew Béla Władysław
    Casimir Vladimir Mehmed Murad Suleiman Selim Bayezid Abdul Rama Hussein Abdullah Mohammed Hassan
"""
_ROMAN_RULERS = frozenset(_RULER_NAMES.split())
"""Given names of monarchs and popes: a Roman numeral after one is an ordinal ("Henry VIII": "Henry the eighth",
"Heinrich VIII.": "Heinrich der Achte"); after another capitalised word a cardinal ("Rocky III", "Diablo IV")."""
_GIVEN_NAME_WORDS = """
    Martin Thomas Michael Daniel Matthew Mark Kenneth Ken Davis Jim Tom Bill Joe Bob Bobby Jack Harry Howard Walter
    Samuel Jonathan Benjamin Steven Anthony Kevin Brian Ronald Donald Douglas Gary Larry Jerry Frank Raymond
"""
_GIVEN_NAMES = _ROMAN_RULERS | frozenset(_GIVEN_NAME_WORDS.split())
"""Given names: a Roman numeral after a name that begins with one is a generation's ordinal ("Martin Luther King III"
"the third", "Henry Ford II"), not a cardinal as after a title ("World War II", "Final Fantasy VII")."""
_CHAIN_BEFORE = re.compile(r"((?:[A-Z][\w'’-]*[ \u00a0]+){1,3})$")
"""The capitalised words before a name ("Martin Luther " before "King")."""
_ROMAN_LETTERS = re.compile(r"(?<=[ \u00a0])[IVX]{1,7}\b")
_ROMAN_SECTION_BEFORE = re.compile(
    r"\b(?:" + "|".join(v.replace("\\.", "\\.?") for v in _ROMAN_SECTIONS.values()) + r")[ \u00a0]$", re.IGNORECASE
)


def has_roman(text: str) -> bool:
    """Whether ``text`` may hold a Roman numeral that ``Reader.read`` says as a number (plain prose, else)."""
    if "I" not in text and "V" not in text and "X" not in text:
        return False
    for m in _ROMAN_LETTERS.finditer(text):
        if m.end() - m.start() > 1 or _ROMAN_SECTION_BEFORE.search(text, max(0, m.start() - 12), m.start()):
            return True
    return False


_AT_LEAST = re.compile(r"(?<![\w.,+])((?:[€$£¥][ \u00a0]?)?" + _NUM + r")\+(?![\w+]|[ \u00a0]*[\d(=])")
"""A number with a "+" after it, "and more" ("10+ km", "100+ users", "$50+"): not a sum ("1+1", "2+ 2 = 4")."""
_NUMBER_SIGN = re.compile(r"(?:\b(?:No|Nr|nr)\.|№)[ \u00a0]?(?=\d)")
"""A number's sign ("No. 1", "Nr. 5", "№ 3"): the language's word for "number" (not "no.", which ends "I said no.
5 minutes later" as often)."""
_TIMES_BEFORE = re.compile(r"(?<=[^\W\d_] )[x×](?=\d+(?![\w.,]\d))")
"""A count written after an item ("Bananas ×6", "Apples x6")."""
_PLAN = re.compile(r"(?<![\w.])(401|403|457)\(([kb])\)")
"""A US retirement plan named by its section of the tax code ("401(k)", "403(b)")."""
_TREND_SIGNS = "↑↓▲▼"
_TREND = re.compile(r"([↑↓▲▼])[ \u00a0]?(?=[$€£¥]?\d)")
"""An arrow up or down before a number: a change ("↑8%", "▼ 0.3%")."""
_TREND_WORDS = {"en": ("up", "down")}
"""What a rise and a fall are where "plus" and "minus" read less well."""
_SIGNED_MONEY = re.compile(
    r"(?<![\w.,:/+\-−])([+\-−])(?=[€$£¥][ \u00a0]?\d|\d[\d.,]*[ \u00a0]?(?:€|\$|£|¥|EUR|USD|GBP|CHF|JPY)(?!\w))"
)
"""A sign before a price ("+$2.37", "-1,20 €", "−€5"): a change, said "plus", "minus"."""
_SUM = re.compile(r"(?<=\d)[ \u00a0]?\+[ \u00a0]?(?=\d)")
"""A "+" between two numbers: a sum."""
_MORE_BEFORE = re.compile(r"(?i:\b(?:over|above|from|more than|at least|ab|über|mehr als|mindestens|von))$")
"""Words before "10+" that say "and more" already."""
_FEMININE_DE = ("e", "ung", "heit", "keit", "schaft", "ion", "tät", "erei", "ik")
"""Endings of German nouns that are feminine far more often than not ("Tasse", "Prise", "Packung"): "eine Tasse",
"eine halbe Tasse" (was "eins Tasse", "ein halb Tasse")."""
_NOT_FEMININE_DE = (
    "käse", "name", "auge", "gemüse", "gebäude", "junge", "interesse", "löwe", "affe", "hase", "getreide", "gebirge",
    "kollege", "experte", "gedanke", "buchstabe", "glaube", "wille", "friede", "ende", "erbe", "finale",
)  # fmt: skip
"""German nouns in "-e" that are masculine or neuter (and compounds that end in them: "Schafskäse", "Vorname")."""
_FEMININE_WORDS_DE = (
    "zwiebel", "kartoffel", "gabel", "schüssel", "nudel", "mandel", "semmel", "dattel", "tafel", "kugel", "wurzel",
    "brezel", "schachtel", "nadel", "muschel", "morchel", "regel", "formel", "insel", "kachel", "windel", "nuss",
    "frucht", "milch", "butter", "wurst", "nacht", "stadt", "zahl", "zeit", "tür", "handvoll", "zucchini", "paprika",
    "kiwi", "mango", "sauce", "soße",
)  # fmt: skip
"""Feminine German nouns whose ending does not say so ("Zwiebel", "Kartoffel", "Nuss"): "eine Zwiebel" (was "ein")."""
_MASCULINE_DE = (
    "liter", "löffel", "becher", "würfel", "beutel", "streifen", "tropfen", "zweig", "stiel", "apfel", "topf",
    "teller", "eimer", "kaffee", "tee", "tag", "monat", "moment", "schritt", "schuss", "spritzer", "sack", "karton",
    "riegel", "keks", "kopf", "zentner", "termin", "timer", "wecker", "sensor", "schalter", "stecker",
)  # fmt: skip
"""Masculine German nouns and units counted in answers ("Liter", "Esslöffel", "Tag"): "ein halber Liter", "einen
halben Liter", "mit einem Liter" (a word ending so, "Milliliter", too); "-meter" not ("das Thermometer")."""
_NEUTER_DE = (
    "kilo", "kilogramm", "gramm", "pfund", "glas", "stück", "chen", "lein", "paket", "bund", "jahr", "prozent", "grad",
    "blatt", "brot", "fass", "viertel", "drittel", "zimmer", "fenster", "licht", "gerät", "haus", "auto", "kind",
    "bett", "buch", "wasser", "messer", "steak", "filet", "schnitzel", "hähnchen",
)  # fmt: skip
"""Neuter German nouns and units counted in answers ("Kilo", "Glas", "Päckchen"): "ein halbes Kilo"."""
_DATIVE_BEFORE_DE = re.compile(r"(?i:\b(?:mit|aus|bei|nach|von|zu|seit|samt|nebst|in|vor))[ \u00a0]+$")
"""A German preposition that takes the dative right before a count ("mit 1 Tasse": "mit einer Tasse")."""
_COPULA_DE = frozenset(
    {"ist", "sind", "war", "waren", "wäre", "wären", "bleibt", "bleiben", "wird", "werden", "wurde", "wurden", "sei",
     "es", "bin", "bist"}
)  # fmt: skip
"""Words in a clause before a count that leave it in the nominative ("Das ist ½ Liter", "Es fehlt ½ Liter")."""
_DAY_FORMS: dict[str, tuple[str, str]] = {"en": ("day", "days"), "de": ("Tag", "Tage"), "fr": ("jour", "jours")}
"""A day's word in a duration written short ("2d 4h")."""
_KELVIN = {"en": "kelvin", "de": "Kelvin"}
_UNIT_DE = re.compile(r"[mcdk]?[lgm]|h|min|s|ms")
"""Units in lower case that go on a list of counted things ("mit 1 l Wasser und ½ Glas Öl")."""
_CLAUSE_START_DE = re.compile(r"[.!?:;(\n]")
_NOUN_DE = re.compile(r"[ \u00a0]+([A-ZÄÖÜ][a-zäöüß]+)\b")
"""A German noun right after a number ("1 Tasse", "1 Uhr")."""
_LABEL_DE = re.compile(r"[ \u00a0]+[A-ZÄÖÜ][a-zäöüß]+[ \u00a0]+\d")
"""A noun and a number after a number: the first number names a part ("Kapitel 1 Absatz 2"), counts nothing."""
_WEEKDAY_BEFORE_DE = re.compile(
    r"(?i:\b(?:am|vom|zum|seit|bis zum)[ \u00a0]+)([^\W\d_]+)\.?(?:,[ \u00a0]*|[ \u00a0]+)$"
)
"""A German weekday after "am" before a date ("am Montag, 14.10."): the date takes the dative too."""
_WEEKDAY_ALONE_DE = re.compile(
    r"(?:^|[.!?:;(\n\-–][ \u00a0]*|(?i:\b(?:ist|war|wäre|wird|sei|heute|morgen|gestern))[ \u00a0]+)"
    r"([^\W\d_]+)\.?,[ \u00a0]*$"
)
"""A German weekday that opens its clause or follows "ist" before a date ("Heute ist Montag, 3. Mai", "Mo., 3.5.:
Zahnarzt"): the date is "der dritte Mai" (was "dritter Mai")."""
_PREPOSITION_DE = re.compile(
    r"(?i:\b(?:in|an|auf|aus|bei|mit|nach|seit|von|vor|zu|hinter|neben|unter|über|zwischen|gegenüber|während|wegen|"
    r"trotz|innerhalb|außerhalb|statt|anstatt|laut))[ \u00a0]+$"
)
"""A preposition before "der" and an ordinal: a dative or genitive, "in der 89. Minute" "in der neunundachtzigsten"
(was "neunundachtzigste", the nominative)."""
_DATIVE_DE = {"von": "vom", "bis": "bis zum", "seit": "seit dem"}
"""A German preposition before a day as it is said: "von 2. Mai" is "vom zweiten Mai", "seit 1.3." "seit dem ersten
März", "bis 7. Dezember" "bis zum siebten Dezember" (the written short forms, said with their article)."""


def plural_en(word: str) -> str:
    """An English number's words made plural: "sixes", "twenties", "sevens", "nineteen nineties"."""
    if word.endswith("y"):
        return word[:-1] + "ies"
    return word + ("es" if word.endswith(("x", "s")) else "s")


@dataclass(frozen=True)
class Number:
    """A parsed number: sign, integer part and decimal digits as written."""

    negative: bool
    integer: int
    decimals: str
    plus: bool = False
    """Written with its "+" ("+6 %", "+3 °C": a rise, said "plus")."""

    @property
    def value(self) -> float:
        """The number as a float (for plural choice)."""
        out = self.integer + (float("0." + self.decimals) if self.decimals else 0.0)
        return -out if self.negative else out


def parse_number(raw: str, lang: Lang | None) -> Number:
    """``1,234.5``, ``1.234,5``, ``3,5``, ``-5``, ``1 234`` → a ``Number`` (the language decides ``1,234``)."""
    negative = raw[:1] in "-−"
    text = raw.lstrip("-−+").replace("\u00a0", "").replace("\u202f", "")
    seps = [c for c in text if c in ".,"]
    decimal: str | None = None
    if len(set(seps)) == 2:
        decimal = text[max(text.rfind("."), text.rfind(",")) :][0]
    elif len(seps) == 1:
        sep = seps[0]
        head, tail = text.split(sep)
        comma_decimal = lang is None or lang.code != "en"
        thousands = len(tail) == 3 and 1 <= len(head) <= 3 and head != "0"
        # "1,234" is a thousand in English and a decimal elsewhere; "1.234" the other way round; "3.5" and
        # "21.500" with other lengths are decimals everywhere (sensor values are written with a point).
        if thousands and ((sep == "," and not comma_decimal) or (sep == "." and comma_decimal)):
            decimal = None
        else:
            decimal = sep
    if decimal is not None:
        head, _, tail = text.rpartition(decimal)
    else:
        head, tail = text, ""
    digits = re.sub(r"\D", "", head) or "0"
    return Number(negative, int(digits), tail, raw[:1] == "+")


@functools.lru_cache(maxsize=8192)
def _n2w(value: int, code: str, to: str = "cardinal", gender: str | None = None, case: str | None = None) -> str:
    kwargs: dict[str, str] = {}
    if gender:
        kwargs["gender"] = gender
    if case:
        kwargs["case"] = case
    return str(num2words(value, lang=code, to=to, **kwargs))


def supported(code: str | None) -> bool:
    """Whether num2words writes this language's numbers."""
    return bool(code) and code in CONVERTER_CLASSES


class Reader:
    """Reads the numbers of one language; ``reads_numbers`` leaves plain cardinals and decimals to the engine."""

    def __init__(self, language: str | None, *, reads_numbers: bool = False) -> None:
        self.lang = lang_for(language)
        base = primary_language(language or "")
        self.code = base if supported(base) else None
        self.reads_numbers = reads_numbers
        words = self.lang.phone_words if self.lang is not None else ()
        self._phone_word = re.compile(r"(?i)(?<!\w)(?:" + "|".join(words) + r")(?!\w)") if words else None
        self._roman: re.Pattern[str] | None = None
        """A Roman numeral after a ruler's name or a word of parts (English, German)."""
        if self.code in _ROMAN_SECTIONS:
            self._roman = re.compile(
                r"(?:\b((?i:"
                + _ROMAN_SECTIONS[self.code]
                + r"))|(?<![\w.])([A-ZÀ-Ý][\w'’-]*))[ \u00a0]+"
                + _ROMAN_NUMERAL
                + r"\b(\.(?![ \u00a0]*$))?"
            )
        self._fraction: re.Pattern[str] | None = None
        """A fraction, a unit perhaps after it (set by the structured rules of English and German)."""
        self._measure_after: re.Pattern[str] | None = None
        self._unit_pair: re.Pattern[str] | None = None
        """A unit, sign or currency (set by the structured rules): "500-1000 W" is a range, not a number to dial."""
        self._relations: tuple[str, ...] = ()
        """The language's words of relations ("mindestens"): before a version after a name ("Python ≥ 3.10")."""
        rules: list[tuple[re.Pattern[str], Handler, str | None]] = []
        structured = self._structured_rules(self.lang) if self.lang is not None and self.code is not None else []
        dates = _DATE_RULES + (self.code == "de")
        if self._fraction is not None:
            # Before dates and digit runs: "1 1/2 hours" is no run of digits, "3/4 cup" no day.
            rules.append((self._fraction, self._fraction_words, "/⁄" + "".join(_VULGAR)))
        if self.lang is not None and self.code == "en":
            # "Dec 3rd–5th", "Jan 1 - Mar 31": the dash between a day and a day or a date is "to" (was dropped:
            # "December third fifth", "January first March thirty-first").
            spelled = [*self.lang.months, *(a for n in self.lang.month_abbreviations for a in n.split("|") if a)]
            capitals = {n[0].upper() + n[1:] for n in spelled}  # "Dec", "May": not the verb "may"
            month = r"(?:" + "|".join(re.escape(n) for n in sorted(capitals, key=len, reverse=True)) + r")\.?"
            day = r"\d{1,2}(?:st|nd|rd|th)?"
            pattern = (
                rf"\b({month}[ \u00a0]+{day})[ \u00a0]*[–-][ \u00a0]*"
                rf"(?:(\d{{1,2}})(?:st|nd|rd|th)?\b(?![:.,]\d)|(?={month}[ \u00a0]+\d{{1,2}}\b))"
            )
            rules.append((re.compile(pattern), self._date_range, "-–"))
        sections = self.lang.section_words + PRODUCT_NAMES if self.lang is not None and self.code is not None else ()
        if sections:
            # "Kapitel 3.2" is "drei Punkt zwei", not a decimal (was "drei Komma zwei"); "Kapitel 2.1 und 2.2." no
            # day ("zweiter Februar"): before the dates.
            # A name is a whole word ("Pythons 3.12" none), "§3.2" may join its number.
            names = "|".join(re.escape(w) + r"(?![^\W\d])" for w in sections)
            part = r"\d{1,3}\.\d{1,3}(?!\d|[.,]\d)"
            link = r"[ \u00a0]*(?:,|und|oder|bis|and|or|to|–|-)[ \u00a0]*"  # "3.11 to 3.12": each a version
            # "Python ≥ 3.10" (the relation said first: "Python mindestens 3.10") is a version too (was "mindestens
            # dritter Oktober", "at least three point one zero").
            self._relations = tuple(self.lang.relations.values()) if self.lang is not None else ()
            relation = "|".join(re.escape(w) for w in sorted(self._relations, key=len, reverse=True))
            relation = rf"(?:(?:{relation})[ \u00a0]+)?" if relation else ""
            pattern = rf"(?<!\w)((?:{names})[ \u00a0]*{relation})({part}(?:{link}{part})*)"
            rules.append((re.compile(pattern), self._section, "."))
        rules += structured[:dates]
        if self.code is not None:
            # Before times, money and ranges: "+1 555-123-4567" is one phone number, not a range and a cardinal.
            rules.append((re.compile(_LEFT + r"(\+|00)?(\(?\d[\d\- /()]{4,}\d)" + _RIGHT), self._digit_run, None))
            rules.append((re.compile(_LEFT + r"(\d+(?:\.\d+){2,})" + _RIGHT), self._version, None))
            # "Home Assistant 2024.10": a version by year and month, not a decimal ("two thousand and twenty-four
            # point one zero").
            rules.append((re.compile(_LEFT + r"(20\d\d)\.(1[0-2]|0?[1-9])(?!\d|[.,]\d)"), self._calendar_version, "."))
            if self.code in _SCORE_WORDS:
                # "3:1", "2:1 für Bayern", "16:9": a score or a ratio (one digit after the colon: no time).
                rules.append((re.compile(_LEFT + r"(\d{1,3}):(\d)(?![\d:]|[.,]\d)"), self._score, ":"))
            dial = self.lang.dial_words if self.lang is not None else ()
            if dial:
                # "Call 911", "Notruf 110": a short number dialled is said digit by digit (was "nine hundred and
                # eleven"); before the year and plain rules ("Call 1800").
                # "PIN is 4821", "die PIN lautet 0815": a verb of naming may come between.
                pattern = (
                    r"(?i)\b((?:" + "|".join(dial) + r")(?!\w):?[ \u00a0]+(?:(?:is|ist|lautet):?[ \u00a0]+)?)"
                    r"(\d{2,6})(?![\d.,:/\-–]?\d)"
                )
                rules.append((re.compile(pattern), self._dialled, None))
        if self.code in _DECADES:
            # Before the year and plain rules, which read "1990s" "nineteen ninetys" and left "90's" to espeak
            # ("ninety"); before lengths, which would count the apostrophe of "'90s" as an open quotation.
            rules.append((_DECADES[self.code], self._decade, None))
        rules += structured[dates:]
        if self.code is not None:
            if self.code in ("en", "de"):
                year = re.compile(_LEFT + f"({_YEAR.pattern})" + _RIGHT_NUM + r"(?!\s?%)")
                rules.append((year, self._year, None))
            if not reads_numbers:
                rules.append((re.compile(_LEFT + r"(" + _SIGNED + r")" + _RIGHT_NUM), self._plain, None))
                # "2-for-4", "best-of-7", "COVID-19", "UTF-8": a number after a word and a hyphen (the plain rule
                # leaves it, a range's or a sign's dash before it; it reached an engine that reads no digits). After a
                # single letter a model's name stays ("the T-800", "F-150").
                hyphened = r"(?<=[^\W\d_]{2}-)(\d{1,4})(?![\w/]|:\d|[.,]\d)"
                rules.append((re.compile(hyphened), self._hyphened, "-"))
        self._rules = rules
        """Each rule's pattern, handler, and the characters of which a sentence needs one for it to look (None: any)."""

    # -- entry point ---------------------------------------------------------------------------------------

    def read(self, text: str) -> str:
        """``text`` with its numbers in words (digits the language cannot read are left as they are)."""
        if "℃" in text or "℉" in text:
            # One character for "°C" (CJK fonts, some LLMs): a symbol that would otherwise be dropped unread.
            text = text.replace("℃", "°C").replace("℉", "°F")
        if self._roman is not None and has_roman(text):
            text = self._roman.sub(self._roman_words, text)
        if self.code is None or not any(c.isdigit() or c in _VULGAR for c in text):
            return text
        if "v" in text:
            # "v3.12", "v2.0.1": the letter apart, then a version (was "v3.12" as written).
            text = _V_VERSION.sub("v ", text)
        if "(" in text and self.code == "en":
            # "401(k)", "403(b)": a US retirement plan, "four oh one k" (was "four hundred and one(k)").
            text = _PLAN.sub(lambda m: f"{self._octet(m.group(1))} {m.group(2)}", text)
        if "(" in text and self.code in ("en", "de"):
            # "7–6(5)": a tennis set won in a tiebreak, the loser's points in brackets (was "seven to six(five)").
            text = _TIEBREAK.sub(r"\1 (Tiebreak \2)" if self.code == "de" else r"\1 (tiebreak \2)", text)
        if " ." in text and self.code == "en":
            # "batting .311", "a .402 OBP": a rate of three digits, "three eleven" (the stray rule glued it to the
            # word before, "batting.311", and it was not read); ".05" "point zero five".
            text = _LEADING_DOT.sub(self._leading_dot, text)
        if self.lang is not None and ("No" in text or "Nr" in text or "№" in text):
            # "No. 1 seed", "Nr. 5": espeak said "no." (a sentence's end) and "en er".
            text = _NUMBER_SIGN.sub(self.lang.number + " ", text)
        if ("×" in text or "x" in text) and self.lang is not None and "times" in self.lang.extra:
            # "Bananas ×6", "Apples x6": so many times the item (was "ex six", "×six").
            text = _TIMES_BEFORE.sub(self.lang.extra["times"] + " ", text)
        if ("Ø" in text or "⌀" in text) and self.code in _AVERAGE:
            # "Ø 25 cm", "im Ø 3,5 kWh": a diameter before a length, else an average (the sign was read as a letter).
            mean, across, each = _AVERAGE[self.code]
            text = _AVERAGE_IN.sub(lambda m: m.group(0)[0] + mean[1:], text)  # "Im Ø" opens a sentence
            text = _DIAMETER.sub(across + " ", text)
            text = _AVERAGE_SIGN.sub(each + " ", text)
        if "/" in text and self._unit_pair is not None:
            text = self._unit_pair.sub(r"\1, ", text)
        if "/" in text and ("°" in text or "%" in text) and self.lang is not None:
            text = _MEASURE_SLASH.sub(f" {self.lang.or_word} ", text)
            # "0/4 °C", "29/42°F": a forecast's low and high, a range (was left as written).
            text = _TEMPERATURE_PAIR.sub(rf"\1 {self.lang.to} ", text)
        if self.code in _STAMP_AT and ":" in text and "-" in text:
            text = _STAMP.sub(self._stamp, text)
        if "T" in text and self.lang is not None:
            # "T-10", a countdown: "T minus ten" (the dash was dropped: "T ten", or a range's "to").
            text = _COUNTDOWN.sub(f"T {self.lang.minus} ", text)
        if self.lang is not None and any(c in text for c in _TREND_SIGNS):
            # "(↑8% vs. last month)", "AAPL ▼ 0.3%": a rise or a fall, "up", "down" (the sign was dropped as a stray
            # symbol, and the direction with it).
            up, down = _TREND_WORDS.get(self.code or "", (self.lang.plus, self.lang.minus))
            text = _TREND.sub(lambda m: (up if m.group(1) in "↑▲" else down) + " ", text)
        if ("+" in text or "-" in text or "−" in text) and self.lang is not None and self.lang.currencies:
            # "+$2.37", "-1,20 €": a change of price, its sign said (was "+two dollars", "plus zwei Komma drei
            # sieben €": the sign kept the money rules from the number).
            text = _SIGNED_MONEY.sub(lambda m: f"{self._sign_word(m.group(1))} ", text)
        if self.code in ("en", "de") and ("+" in text or "(" in text) and _SCORE_IN.search(text):
            # A match's report: "Havertz 90+3'", "(Müller 12.)": a goal's minute (was "ninety plus three feet").
            text = _GOAL_MINUTE.sub(self._goal_minute, text)
        if "+" in text and self.lang is not None:
            # "2+2", "5 + 3 = 8": "two plus two" (the second number was left a digit, the sign to the engine).
            text = _SUM.sub(f" {self.lang.plus} ", text)
            if ">" in self.lang.relations:
                text = _AT_LEAST.sub(self._at_least, text)
        for pattern, handler, needs in self._rules:
            if needs is None or any(c in text for c in needs):
                text = pattern.sub(lambda m, h=handler: _keep(m, h), text)  # type: ignore[misc]
        if self.code == "en" and ("a e" in text or "A e" in text):
            text = _AN.sub(r"\1n", text)
        return text

    def _stamp(self, m: re.Match[str]) -> str:
        """ "2026-12-05T14:30:00Z" → "2026-12-05 at 14:30 UTC", read below as a date and a time; zero seconds go, and
        an offset other than UTC's (the home's own, as Home Assistant writes local times) is not said."""
        date, clock, seconds, offset, zulu = m.groups()
        zone = zulu or offset
        if seconds and seconds != "00":
            clock += ":" + seconds
        # "UTC" spelled, as symbols.time_zones spells a zone after a time (this runs after it).
        return f"{date} {_STAMP_AT[self.code or '']} {clock}" + (" U T C" if zone in _UTC else "")

    def _goal_minute(self, m: re.Match[str]) -> str:
        """ "90+3'" → "ninetieth minute plus three", "(Kane 12')" → "twelfth minute", "(12.)" → "zwölfte Minute",
        "45.+2" → "fünfundvierzigste Minute plus zwei": inside brackets, or in added time."""
        minute, added = int(m.group(1)), m.group(2) or m.group(3)
        if added is None and m.string.rfind("(", 0, m.start()) <= m.string.rfind(")", 0, m.start()):
            return m.group(0)  # "Ceiling 12'": no bracket of a match's goals around it
        word = "Minute" if self.code == "de" else "minute"
        said = f"{self.words(minute, to='ordinal')} {word}"
        if _MINUTE_AFTER.match(m.string, m.end()):
            said = self.words(minute)  # "in der 90.+3 Minute": the word follows, "neunzig plus drei Minute"
        return said + (f" {self.lang.plus if self.lang else '+'} {self.words(int(added))}" if added else "")

    def _at_least(self, m: re.Match[str]) -> str:
        """ "10+ km" → "more than 10 km" (read below; the unit was left unread after "ten+"), "mehr als 10 km"; after
        a name a version and up: "Android 12+" → "Android 12 plus"."""
        assert self.lang is not None
        before = m.string[: m.start()].strip()
        if _MORE_BEFORE.search(before):
            return m.group(1)  # "over 100+", "ab 18+": the word says it ("over more than one hundred")
        measure = self._measure_after is not None and self._measure_after.match(m.string, m.end()) is not None
        if self._after_name(m) and not (" " not in before and (measure or before in SENTENCE_OPENERS)):
            # A sentence's first word is a verb or a preposition as often ("Run 10+ km", "Ab 18+ Jahren").
            return f"{m.group(1)} {self.lang.plus}"
        return f"{self.lang.relations['>']} {m.group(1)}"

    # -- words ---------------------------------------------------------------------------------------------

    def words(self, n: int, *, to: str = "cardinal", gender: str | None = None, case: str | None = None) -> str:
        """num2words for this language (a failure keeps the digits)."""
        assert self.code is not None
        try:
            out = _n2w(n, self.code, to, gender, case)
        except (NotImplementedError, TypeError, ValueError, OverflowError):
            return str(n)
        # num2words writes "one million, two hundred": the commas would be heard as pauses.
        return out.replace(",", "")

    def count(self, n: int, *, feminine: bool = False) -> str:
        """A cardinal standing before a noun ("ein Kilometer", "une heure", "veintiún grados", "одна минута")."""
        code = self.code
        if code == "ru":
            return self.words(n, gender="f" if feminine else None)
        word = self.words(n)
        if code == "de":
            word = re.sub(r"eins$", "eine" if feminine else "ein", word)
        elif code == "fr" and feminine:
            word = re.sub(r"\bun$", "une", word)
        elif code == "es":
            word = re.sub(r"uno$", "una" if feminine else ("ún" if word != "uno" else "un"), word)
        return word

    def _sign_word(self, sign: str) -> str:
        assert self.lang is not None
        return self.lang.plus if sign == "+" else self.lang.minus

    def number(self, num: Number, *, noun: bool = False, feminine: bool = False) -> str:
        """A parsed number in words, decimals included; ``noun``: it stands before a noun (of that gender)."""
        lang = self.lang
        sign = (lang.minus if lang else "-") + " " if num.negative else ""
        if num.plus and lang is not None:
            sign = lang.plus + " "  # "+6 %" was "six percent": the rise was lost
        if not num.decimals:
            return sign + (self.count(num.integer, feminine=feminine) if noun else self.words(num.integer))
        head = self.words(num.integer)
        if lang is None:
            return sign + head + " " + " ".join(self.words(int(d)) for d in num.decimals)
        if lang.digit_decimals or num.decimals.startswith("0") and len(num.decimals) > 2:
            tail = " ".join(self.words(int(d)) for d in num.decimals)
        else:
            zeros = len(num.decimals) - len(num.decimals.lstrip("0"))
            rest = num.decimals.lstrip("0")
            tail = " ".join([self.words(0)] * zeros + ([self.words(int(rest))] if rest else []))
        return f"{sign}{head} {lang.decimal_word} {tail}"

    def digits(self, run: str) -> str:
        """Digit by digit, groups kept apart by commas."""
        groups = [g for g in re.split(r"[\s\-/().]+", run) if g]
        return ", ".join(" ".join(self.words(int(d)) for d in group if d.isdigit()) for group in groups)

    def year(self, n: int) -> str:
        """A year as the language reads it (English and German centuries; elsewhere a cardinal)."""
        if self.code in ("en", "de", "nl") and 1100 <= n <= 1999 or self.code == "en" and 2010 <= n <= 2099:
            return self.words(n, to="year")
        return self.words(n)

    # -- plain rules ---------------------------------------------------------------------------------------

    def _plain(self, m: re.Match[str]) -> str | None:
        said = self.number(parse_number(m.group(1), self.lang))
        # A letter written against the number ("4K", "5G") stays a word of its own: "fourK" is no word to an engine
        # (a plural "s" stays on: "the 747s").
        end = m.end()
        glued = m.string[end : end + 1].isalpha() and not _PLURAL_S.match(m.string, end)
        return said + " " if glued else said

    def _year(self, m: re.Match[str]) -> str | None:
        if self.reads_numbers and self.code != "en":
            return None
        n = int(m.group(1))
        if (
            self.code == "en"
            and n < 2000
            and n % 100
            and _PLURAL_AFTER.match(m.string, m.end())
            and not _YEAR_BEFORE.search(m.string, max(0, m.start() - 8), m.start())
        ):
            # "1234 rows", "1850 meters": a count of what follows (was "twelve thirty-four rows"); "in 1999 sales
            # rose" a year. Left to the plain rule, or to an engine that reads numbers.
            return None
        return self.year(n)

    def _decade(self, m: re.Match[str]) -> str | None:
        """ "the 1990s" → "the nineteen nineties", "die 1990er" → "die neunzehnhundertneunziger"."""
        if self.code == "de":
            n = int(m.group(1))
            return self.year(n) if n > 99 else self.words(n)  # the "-er" stays: "neunzehnhundertneunziger"
        n = int(m.group(2))
        if (
            n < 100
            and not m.group(1)
            and "°" not in m.group(0)  # "near 20s °C": degrees
            and not _DECADE_BEFORE.search(m.string, max(0, m.start() - 24), m.start())
        ):
            return None  # "wait 30s": seconds, perhaps
        said = plural_en(self.year(n) if n > 99 else self.words(n))
        if m.group(3) and self.lang is not None:
            said += " " + (self.lang.celsius if m.group(3) == "C" else self.lang.fahrenheit)
        return said

    def _version(self, m: re.Match[str], *parts: str) -> str | None:
        """ "2.0.1" → "two dot zero dot one" (its parts, or ``parts``)."""
        written = parts or m.group(1).split(".")
        if not parts and self.code != "en" and len(written[0]) <= 3 and all(len(p) == 3 for p in written[1:]):
            return None  # "1.234.567 Besucher": a number grouped in thousands (was "eins Punkt zweihundert…")
        word = self.lang.dot if self.lang else " "
        if not parts and self.code == "en" and len(written) == 4 and all(int(p) <= 255 for p in written):
            # An IP address: a part of three digits in pairs, "one ninety-two dot one sixty-eight dot one dot ten"
            # (was "one hundred and ninety-two dot one hundred and sixty-eight …").
            return f" {word} ".join(self._octet(p) for p in written)
        # "22.04" is "twenty-two oh four", not "twenty-two four": a part with a leading zero digit by digit; a year
        # first is a year ("2024.10.3": "twenty twenty-four dot ten dot three").
        return f" {word} ".join(
            self.digits(part)
            if part.startswith("0")
            else self.year(int(part))
            if i == 0 and _YEAR.fullmatch(part)
            else self.words(int(part))
            for i, part in enumerate(written)
        )

    def _leading_dot(self, m: re.Match[str]) -> str:
        digits = m.group(1)
        if len(digits) == 3 and not digits.startswith("0"):
            return self._octet(digits)  # a batting average: ".311" "three eleven"
        return f"{self.lang.decimal_word if self.lang else 'point'} {self.digits(digits)}".replace(",", "")

    def _octet(self, part: str) -> str:
        """ "192" → "one ninety-two", "100" → "one hundred", "205" → "two oh five", "10" → "ten"."""
        n = int(part)
        if len(part) != 3 or part.startswith("0") or n % 100 == 0:
            return self.digits(part) if part.startswith("0") else self.words(n)
        tail = self.words(n % 100) if n % 100 > 9 else f"oh {self.words(n % 100)}"
        return f"{self.words(n // 100)} {tail}"

    def _calendar_version(self, m: re.Match[str]) -> str | None:
        """ "Home Assistant 2024.10", "HA 2025.1": after a name, unless a unit follows ("2024.10 kWh")."""
        if not self._after_name(m) or self._measure_after is not None and self._measure_after.match(m.string, m.end()):
            return None
        return self._version(m, m.group(1), m.group(2))

    def _version_at_end(self, m: re.Match[str]) -> bool:
        """Whether a day and month without a year ("3.11.") at a sentence's end follow a name ("Python 3.11.",
        "Kernel 6.8."), not a word of days (``Lang.day_words``: "Montag 3.11."), a noun of what happens on a day
        (``Lang.date_endings``: "Lieferung 3.11.") nor anything else ("am 3.11.", "Termin: 3.11.")."""
        return _AT_END.match(m.string, m.end()) is not None and self._after_name(m)

    def _after_name(self, m: re.Match[str]) -> bool:
        """Whether ``m`` follows a name with a capital in it ("Kernel", "Python", "iOS"), no word of days and no noun
        of what happens on a day (see ``_version_at_end``)."""
        name = _NAME_BEFORE.search(m.string, max(0, m.start() - 40), m.start())
        if name is None or not any(c.isupper() for c in name.group(1)):
            return False
        word = name.group(1).lower()
        # "Lieferung 3.11.", "Abgabetermin 3.11." name what happens that day: a date ("Version 3.11." a version).
        lang = self.lang
        if lang is None or word in lang.day_words:
            return False
        return not word.endswith(lang.date_endings) or word.endswith(lang.numbered_nouns)

    def _digit_run(self, m: re.Match[str]) -> str | None:
        prefix, run = m.group(1), m.group(2)
        digits = re.sub(r"\D", "", run)
        groups = re.findall(r"\d+", run)
        phone_like = bool(prefix) or digits.startswith("0") or len(groups) >= 3
        if len(groups) == 2 and not phone_like:
            phone_like = self._local_number(m, run, groups[0], groups[1])
        if len(digits) < 7 or not phone_like and len(groups) > 1:
            return None
        if run.count("(") != run.count(")"):
            return None
        plus = ""
        if prefix == "+":
            plus = (self.lang.plus if self.lang else "+") + " "
        elif prefix == "00":
            plus = self.words(0) + " " + self.words(0) + " "
        return plus + self.digits(run)

    def _to(self, m: re.Match[str]) -> str:
        """What the dash of a range that starts at ``m`` is said as: the language's "to", or its "and" after
        "between" (``_BETWEEN``)."""
        assert self.lang is not None and self.lang.to is not None
        between = _BETWEEN.get(self.lang.code)
        if between is not None and between[0].search(m.string[max(0, m.start() - 12) : m.start()]):
            return between[1]
        return self.lang.to

    def _date_range(self, m: re.Match[str]) -> str | None:
        """ "Dec 3rd–5th" → "Dec 3rd to fifth", "Jan 1 - Mar 31" → "Jan 1 to Mar 31" (the dates are read after)."""
        to = self._to(m) if self.lang is not None and self.lang.to else "-"
        last = m.group(2)
        return f"{m.group(1)} {to} " + (self.words(int(last), to="ordinal") if last is not None else "")

    def _section(self, m: re.Match[str]) -> str | None:
        """ "Kapitel 3.2" → "Kapitel drei Punkt zwei", "Kapitel 2.1 und 2.2" each part so."""
        end = self.reads_numbers and m.string.startswith(".", m.end()) and m.group(2).count(".") == 1
        if end and self.code in ("de", "fi", "ru") and not m.group(1).rstrip(" \u00a0").endswith(self._relations):
            # "Abbildung 3.11." at the end: left to the engine as the date rules leave it; after a relation
            # ("Python mindestens 3.11.") the date rules see no name, so it is said here.
            return None
        if self._measure_after is not None and self._measure_after.match(m.string, m.end()):
            return None  # "Chrome 2.5 GB", "USB 3.2 W": a measure
        to = self.lang.to if self.lang is not None and self.lang.to else "-"
        said = re.sub(
            r"(\d+)\.(\d+)|[ \u00a0]*[–-][ \u00a0]*",
            lambda p: self._version(m, p.group(1), p.group(2)) or "" if p.group(1) else f" {to} ",
            m.group(2),
        )
        return m.group(1) + said

    def _dialled(self, m: re.Match[str]) -> str | None:
        """A number after "call", "dial", "Notruf", … digit by digit, unless it counts what follows ("call 20
        people", "ruf 20 Kunden an"), a measure follows, or it is a time or an amount; a service number always."""
        number, end = m.group(2), m.end()
        if not _SERVICE.fullmatch(number):
            if self._measure_after is not None and self._measure_after.match(m.string, end):
                return None
            word = re.match(r"[ \u00a0]+([^\W\d_]+)", m.string[end:])
            if word is not None:
                after = word.group(1)
                counted = after[0].isupper() if self.code == "de" else after.islower() and after not in _NO_NOUNS
                if counted or after.lower() in ("times", "hundred", "thousand", "million", "more", "mal"):
                    return None
        return m.group(1) + self.digits(number)

    def _local_number(self, m: re.Match[str], run: str, a: str, b: str) -> bool:
        """Two digit groups ("555-1234") are a telephone number, not a range: after a word that says so ("call",
        "Tel."), unless they are ascending years ("1990-1995"); else in the local number's shape, three digits, a
        hyphen and four, unless both end in 0 ("500-1000": a range's bounds are round) or a unit, sign or currency
        follows ("250-1999 W")."""
        before = m.string[max(0, m.start() - _PHONE_CONTEXT) : m.start()]
        if self._phone_word is not None and self._phone_word.search(before):
            return not (len(a) == len(b) == 4 and _YEAR.fullmatch(a) is not None and int(a) < int(b))
        if not (len(a) == 3 and len(b) == 4 and "-" in run) or a[-1] == b[-1] == "0":
            return False
        return self._measure_after is None or self._measure_after.match(m.string, m.end()) is None

    def _roman_words(self, m: re.Match[str]) -> str:
        """ "Henry VIII" → "Henry the eighth", "World War II" → "World War two", "Kapitel IV" → "Kapitel vier"; espeak
        said "Henry roman eight", "Heinrich römisch achte"."""
        section, name, numeral, dot = m.groups()
        word = section or name
        if not numeral or len(numeral) == 1 and not (section and section[0].isupper()):
            return m.group(0)  # "Then I went", "Malcolm X", "type I": a letter as often
        value = 0
        for i, letter in enumerate(numeral):
            n = _ROMAN_VALUES[letter]
            value += -n if i + 1 < len(numeral) and _ROMAN_VALUES[numeral[i + 1]] > n else n
        chain = _CHAIN_BEFORE.search(m.string, max(0, m.start() - 40), m.start()) if name is not None else None
        if chain is not None and 2 <= value <= 4 and chain.group(1).split()[0] in _GIVEN_NAMES:
            name = next(iter(_ROMAN_RULERS))  # "Martin Luther King III", "Henry Ford II": said as a ruler's
        if name is not None and name in _ROMAN_RULERS:
            if self.code == "de":
                return f"{word} der {self.words(value, to='ordinal').capitalize()}"
            return f"{word} the {self.words(value, to='ordinal')}"
        return f"{word} {self.words(value)}" + (dot or "")

    def _fraction_words(self, m: re.Match[str]) -> str | None:
        """ "1 1/2 hours" → "one and a half hours", "¾ cup" → "three quarters cup", "¼ Liter" → "ein Viertel Liter";
        a slash between numbers is a fraction only where the numerator is the smaller, the denominator at most 16
        and a word follows ("3/4 of the way"); else perhaps an English day ("due 12/25")."""
        whole, top, bottom, glyph, unit, inches, dash = m.groups()
        if inches == '"' and _quoted(m.string, m.start(6), inches):
            return None  # 'He said "1/2" to me': the quotation's end
        if glyph is not None:
            n, d = _VULGAR[glyph]
        else:
            rating = self._rating(m, top, int(bottom))
            if rating is not None or not top.isdigit():
                return rating
            n, d = int(top), int(bottom)
            alone = whole is None and unit is None and not dash and not inches
            if alone and self.code in _OF_WORD and 0 < n < d and (d > 31 or d <= 16 and self._counted_after(m)):
                # "went 28/41", "made 7/9 free throws": so many of so many tries (was left, "seven ninths free
                # throws"); "28/41" is no date, no fraction
                return f"{self.words(n)} {_OF_WORD[self.code]} {self.words(d)}"
            if not (0 < n < d <= 16 and (dash or inches or _WORD_NEXT.match(m.string, m.end(3)))):
                return None if whole is not None or unit is not None or dash else self._short_date(m, n, d)
        count = int(whole) if whole is not None else None
        if self.code == "de":
            half = self._half_de(m, unit) if d == 2 and count is None else None
            if half is not None:
                said = half  # "½ Tasse", "½ Liter", "mit ½ Glas" (was "ein halb Tasse", "ein halb Liter")
            elif d == 2:
                said = self.count(count) + "einhalb" if count is not None else "ein halb"
            else:
                part = f"{'ein' if n == 1 else self.words(n)} {_PARTS_DE[d]}"
                said = f"{self.count(count)} {part}" if count is not None else part
        else:
            name = "half" if d == 2 else "quarter" if d == 4 else self.words(d, to="ordinal")
            if n > 1:
                name = "halves" if d == 2 else name + "s"
            if n == 1 and d == 2 and count is None and _OF.match(m.string, m.end()):
                part = "half"  # "1/2 of the cake": "half of the cake"
            elif n == 1 and count is None and _ARTICLE_EN.search(m.string, max(0, m.start() - 4), m.start()):
                part = name  # "a 1/4 inch bit": "a quarter inch bit", not "a a quarter"
            else:
                part = f"a {name}" if n == 1 else f"{self.words(n)} {name}"
            said = f"{self.words(count)} and {part}" if count is not None else part
        if (unit is not None or inches is not None) and self.lang is not None:
            forms = (
                self.lang.inches
                if unit is None
                else self.lang.units[self.lang.aliases.get(unit, unit).replace("μ", "µ")]
            )
            said += " " + forms[-1 if count is not None and count > 0 and inches is None else 0]
        if dash and self.lang is not None and self.lang.to:
            said += f" {self._to(m)} "
        elif dash:
            said += dash
        return said

    def _half_de(self, m: re.Match[str], unit: str | None) -> str | None:
        """ "eine halbe" ("½ Tasse", "½ h"), "ein halber" / "einen halben" ("½ Liter"), "ein halbes" ("½ kg"), in the
        case the words before ask for; None where the gender of the unit or noun after ``m`` is unknown."""
        assert self.lang is not None
        if unit is not None:
            key = self.lang.aliases.get(unit, unit)
            gender = (
                "f"
                if key in self.lang.feminine
                else _gender_de(self.lang.units[key][0])
                if key in self.lang.units
                else None
            )
        else:
            noun = _NOUN_DE.match(m.string, m.end())
            gender = _gender_de(noun.group(1)) if noun is not None else None
        return _one_before_de(gender, _case_de(m.string, m.start()), half=True)

    def _rating(self, m: re.Match[str], top: str, d: int) -> str | None:
        """ "8/10", "4.5/5", "4,5/5 Sterne": a rating, "eight out of ten" ("vier Komma fünf von fünf"); not after a
        word of dates ("on 5/10") nor before "of" ("3/10 of a mile")."""
        if (
            m.group(1) is not None
            or m.group(5)
            or m.group(6)
            or m.group(7)
            or d not in (5, 10, 100)
            or _OF.match(m.string, m.end())
        ):
            return None
        num = parse_number(top, self.lang)
        if num.value > d or self.code == "en" and _DATE_BEFORE_EN.search(m.string, max(0, m.start() - 12), m.start()):
            return None
        return f"{self.number(num)} {'von' if self.code == 'de' else 'out of'} {self.words(d)}"

    def _short_date(self, m: re.Match[str], a: int, b: int) -> str | None:
        """An English month and day without a year after a word of dates ("due 12/25", "on 7/4"); elsewhere "7/10"
        is as often a rating or a score and stays as written."""
        if self.lang is None or self.code != "en":
            return None
        if not _DATE_BEFORE_EN.search(m.string, max(0, m.start() - 12), m.start()):
            return None
        mdy = self.lang.date_order == "MDY"
        if mdy and a > 12 or not mdy and b > 12:
            mdy = not mdy
        day, month = (b, a) if mdy else (a, b)
        return self._date(day, month, None)

    # -- structured rules (languages with a table) ----------------------------------------------------------

    def _structured_rules(self, lang: Lang) -> list[tuple[re.Pattern[str], Handler, str | None]]:
        months = "|".join(re.escape(m) for m in lang.months)
        spellings = [*lang.units, *lang.aliases, *(u.replace("µ", "μ") for u in lang.units if "µ" in u)]
        units = "|".join(re.escape(u) for u in sorted(spellings, key=len, reverse=True))
        # A magnitude of three letters or more is a word: written apart, perhaps with its dot ("2,5 Mio.").
        magnitudes = "|".join(
            r"[ \u00a0]?" + re.escape(k) + r"\.?" if len(k) > 2 else re.escape(k)
            for k in sorted(lang.magnitudes, key=len, reverse=True)
        )
        # What a price is per: a unit or a word of time or count ("0,32 €/kWh", "$19.99/mo", "9 €/Monat").
        per_units = "|".join(re.escape(u) for u in sorted([*spellings, *lang.per_words], key=len, reverse=True))
        # "15-20 l/m²": a measure per unit goes on a range too.
        unit = r"(?:" + units + r")(?:/(?:" + per_units + r"))?(?![\w/²³])"
        currency_after = r"€|\$|£|¥|₽|EUR|USD|GBP|RUB|CHF|JPY|руб\.?|euros?|Euro"
        time = r"(?:[01]?\d|2[0-3]):[0-5]\d"
        measure = r"\s?(?:%|°\s?[CF]?(?![\w])|" + unit + r"|(?:" + currency_after + r")(?![\w]))"
        self._measure_after = re.compile(measure)
        # "16GB/256GB", "12V/24V": two measures of one unit either side of a slash, each read (the unit before the
        # slash was taken for one of a unit per unit and left, "sixteen GB/256GB").
        self._unit_pair = re.compile(
            _LEFT + r"(" + _NUM + r"[ \u00a0]?(" + units + r"))/(?=" + _NUM + r"[ \u00a0]?\2(?![\w/²³]))"
        )
        if lang.code in ("en", "de"):
            vulgar = "".join(_VULGAR)
            self._fraction = re.compile(
                r"(?=[\d"
                + vulgar
                + r"])"
                + _LEFT
                + r"(?:(\d{1,3})(?:[ \u00a0]+(?=\d{1,2}[/⁄]\d)|[ \u00a0]?(?=["
                + vulgar
                + r"])))?"
                + r"(?:(\d{1,2}(?:[.,]\d)?)[/⁄](\d{1,3})(?![\d/⁄]|[.,]\d)|(["
                + vulgar
                + r"]))"
                + r"(?:[ \u00a0]?("
                + units
                + r")(?![\w/²³])"
                + (r"|([\"″])(?=[ \u00a0]+[a-z])" if lang.inches else r"|(?!)(x)")  # 'a 1/4" drill bit': inches
                + r")?"
                + r"([ \u00a0]?[–-][ \u00a0]?(?=\d))?"  # "1 1/2–2 hours": the first of a range
            )
        rules: list[tuple[str, Handler]] = [
            (self._month_abbreviation_pattern(lang), self._month_abbreviation),
            # "am 2026-12-24" as "am 24.12.2026": a German day takes its article's case.
            (
                (_ARTICLE if lang.code == "de" else "()") + _LEFT + r"(\d{4})-(\d{1,2})-(\d{1,2})" + _RIGHT,
                self._iso_date,
            ),
            (_ARTICLE + _LEFT + r"(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})?" + r"(?![\d])", self._dotted_date),
            (_LEFT + r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})" + _RIGHT, self._slashed_date),
            (_ARTICLE + _LEFT + r"(\d{1,2})\.?\s+(" + months + r")\b", self._day_month),
            (r"\b(" + months + r")\s+(\d{1,2})(?:st|nd|rd|th)?\b", self._month_day),
            # "2d 4h", "1d 2h 30m": days before hours (was "two d four hours").
            (
                _LEFT + r"(\d+)\s?d\s?(\d+)\s?h(?:\s?([0-5]?\d)\s?m(?:in)?)?(?![\w/²³])"
                if lang.code in _DAY_FORMS
                else r"(?!)",
                self._days_hours,
            ),
            # "1h 30m": hours and minutes, not "thirty meters"; "2m 30s": minutes next to seconds, not "two meters".
            (
                _LEFT + r"(\d+)\s?h\s?([0-5]?\d)\s?m(?:in)?(?:\s?([0-5]?\d)\s?s)?(?![\w/²³])",
                self._hours_minutes,
            ),
            (_LEFT + r"()(\d+)\s?m(?:in)?\s?([0-5]?\d)\s?s(?![\w/²³])", self._hours_minutes),
            # "4:30 min", "1:30 h", "5:30/km": a span, not a time of day ("Noch 4:30 Minuten" was "vier Uhr dreißig
            # Minuten", "Pace: 5:30/km" "five thirty or km").
            (
                _LEFT
                + r"(\d{1,3}):([0-5]\d)"
                + r"(?:[ \u00a0]?((?i:min(?:utes?|s)?|Min(?:uten)?)\.?|h|hrs?|hours?|Std\.?|Stunden?)"
                + r"|(?:[ \u00a0]?(?i:min))?/(km|mi)"  # "5:09 min/km" too (was "fünf Uhr neun min oder km")
                # "4:59 left", "noch 4:59 übrig": a timer's minutes and seconds (was "four fifty-nine left")
                + r"|(?=[ \u00a0]+(?:remaining|left|to go|übrig|verbleibend)\b)"
                # "in 42:17": past a day's hours, minutes and seconds (was left as written); elsewhere German writes
                # scores so ("98:54", below)
                + r"|()"
                + r")(?![\w/])"
                if lang.code in _SCORE_WORDS
                else r"(?!)",
                self._span,
            ),
            # "Scale 1:50", "Maßstab 1:100", "a ratio of 1:100": no time ("one fifty", "ein Uhr fünfzig").
            (
                r"(?i:\b(?:scale|ratio|mixed|mix|dilute|dilution|Maßstab|Verhältnis|mischen|"
                r"Mischverhältnis|verdünnen|Verdünnung)(?:[ \u00a0]+(?:is|ist|of|von|=))?[ \u00a0]*:?[ \u00a0]+)"
                + _LEFT
                + r"(\d{1,3}):(\d{1,4})(?![\d:]|[.,]\d)"
                if lang.code in _SCORE_WORDS
                else r"(?!)",
                self._ratio,
            ),
            # "10:15:30", "a timer for 1:30:00": the seconds were dropped ("ten fifteen", "one thirty").
            (
                _LEFT + r"(\d{1,2}):([0-5]\d):([0-5]\d)(?![\d:]|[.,]\d|\s*(?i:[ap]\.?m)\b)(?:\s*Uhr\b)?"
                if lang.code in _SCORE_WORDS
                else r"(?!)",
                self._hms,
            ),
            (
                r"(?i:\b(klo)\s+)?"
                + _LEFT
                + r"([01]?\d|2[0-3])(?::|(?<=klo \d)\.|(?<=klo \d\d)\.)([0-5]\d)"
                + r"(?::[0-5]\d)?(?!\d)(?:\s*(?i:"
                # "2:15p", "9:30a": a calendar's short am/pm, right after the minutes (was "two fifteenp")
                + _AMPM.replace("|am|pm)", r"|am|pm|(?<=\d)(?-i:[ap]))", 1)
                + r")(?![\w])|\s*(Uhr|h)\b)?",
                self._time,
            ),
            (_LEFT + r"([01]?\d|2[0-3])\.([0-5]\d)\s*(Uhr)\b", self._time_de),
            (_LEFT + r"([01]?\d|2[0-3])\s?h\s?([0-5]\d)?" + _RIGHT, self._time_fr),
            (_LEFT + r"([01]?\d|1[0-2])\s*(?i:" + _AMPM + r")(?![\w])", self._hour_ampm),
            # A price per unit ("0.25 €/kWh", "$0.15/kWh") is read "per kilowatt hour", not "or kWh".
            (
                r"(?:([€$£¥])\s?|\b(EUR|USD|GBP|RUB|CHF|JPY)\s)("
                + _NUM
                + r")(?:\s?/\s?("
                + per_units
                + r")(?![\w/²³])|("
                + (magnitudes or r"(?!)")
                # "£1.5m", "$2mn": a million after a currency only; "$63.5K" a thousand ("4K" alone is no number)
                + ("|mn|m|K" if lang.code == "en" else "")
                # "$27 trillion" was "twenty-seven dollars trillion"
                + ("|[ \u00a0](?:thousand|million|billion|trillion)" if lang.code == "en" else "")
                + r")(?!\w)|"
                + _RIGHT_NUM
                + ")",
                self._money_before,
            ),
            (
                _LEFT
                + r"("
                + _NUM
                + r")\s?("
                + currency_after
                + r")(?:\s?/\s?("
                + per_units
                + r")(?![\w/²³])|(?![\w]))",
                self._money_after,
            ),
            # "1000s of people" is "thousands of", not "one thousand seconds of" (a number + "s" is seconds).
            (_LEFT + r"(10|100|1000|1,000)s(?=\s+of\b)" if lang.code == "en" else r"(?!)", self._plural_number),
            # "1s and 0s" are ones and zeros.
            (
                _LEFT + r"([01])s(\s+(?:and|or)\s+)([01])s(?!\w)" if lang.code == "en" else r"(?!)",
                self._ones_and_zeros,
            ),
            (
                _LEFT + r"(" + _NUM + r")(" + magnitudes + r")(?!\w)(?:\s?([€$£¥]|EUR|USD|GBP|CHF|JPY)(?!\w))?"
                if magnitudes
                else r"(?!)",
                self._magnitude,
            ),
            # "30×20×10 cm", "a 2x4 board", "3 * 4 = 12", "10 / 2": before the units, which would read "10 cm"
            # first (the × was dropped: "thirty twenty ten centimeters", "three four equals twelve").
            (
                _LEFT + r"(" + _SIGNED + r")(?:[ \u00a0]?([×x*])[ \u00a0]?|[ \u00a0](/)[ \u00a0])(?=[-−]?\d)"
                if "by" in lang.extra
                else r"(?!)",
                self._operator,
            ),
            (_LEFT + r"(" + _SIGNED + r")\s?°\s?([CF])\b", self._temperature),
            (_LEFT + r"(" + _SIGNED + r")\s?°", self._degrees),
            # "90 %ige Lösung", "70%iger Alkohol": one adjective, "neunzigprozentige" (was "neunzig Prozentige").
            (_LEFT + r"(" + _SIGNED + r")\s?%(ig(?:e[nmrs]?)?)\b" if lang.code == "de" else r"(?!)", self._percent_ig),
            (_LEFT + r"(" + _SIGNED + r")\s?%", self._percent),
            # "32 ct/kWh", "15 l/m²": a measure per unit (the "/" was "or": "zweiunddreißig ct oder kWh").
            # "120/80 mmHg", "BP 120/80", "Blutdruck 120/80": a blood pressure, "one twenty over eighty" (was left).
            (
                r"(?i:\b(?:BP|blood pressure|Blutdruck|RR)\b[^\d\n]{0,12})?"
                + _LEFT
                + r"(\d{2,3})/(\d{2,3})(?![\d/])((?:[ \u00a0]?mmHg)?)"
                if "over" in lang.extra
                else r"(?!)",
                self._pressure,
            ),
            (_LEFT + r"(" + _SIGNED + r")\s?(" + units + r")/(" + per_units + r")(?![\w/²³])", self._unit_per),
            # "a 5-min walk", "a 30-yr loan": a measure made an adjective, "a five-minute walk" (was "five-min");
            # before a name too ("10-yr Treasury yield", was "ten-yr").
            (
                _LEFT + r"(\d+)-(" + units + r")(?=[ \u00a0]+[^\W\d_])" if lang.code == "en" else r"(?!)",
                self._unit_adjective,
            ),
            (_LEFT + r"(" + _SIGNED + r")\s?(" + units + r")(?![\w/²³])", self._unit),
            # "1 Tasse" is "eine Tasse" (espeak: "eins Tasse"), "1 Ei" "ein Ei"; after the units ("1 TL", "1 h").
            (_LEFT + r"1(?![\d.,:/])(?=" + _NOUN_DE.pattern + ")" if lang.code == "de" else r"(?!)", self._one_de),
            # "2700K", "6500 K": a light's color temperature, "Kelvin" (was "two thousand seven hundred K").
            (_LEFT + r"([1-9]\d{3})[ \u00a0]?K(?![\w])" if lang.code in _KELVIN else r"(?!)", self._kelvin),
            # "the 49ers", "the 76ers": "forty-niners" (espeak: "forty nine ers").
            (_LEFT + r"(\d{1,3})ers\b" if lang.code == "en" else r"(?!)", self._ers),
            # "1.5x faster", "2× the size": so many times, not "two ex"; "3 x avocados" a count.
            (_LEFT + r"(" + _NUM + r")[ \u00a0]?[x×](?!\w)" if "times" in lang.extra else r"(?!)", self._times),
            # "24/7" is "twenty-four seven" (espeak: "twenty four slash seven").
            (_LEFT + r"24/7" + _RIGHT if lang.code == "en" else r"(?!)", self._around_the_clock),
            (r"#(\d+)\b", self._hash_number),
        ]
        if lang.code == "de":
            # "von 5. bis 7. Dezember": before the single day, which would read the second one alone.
            months_first = (
                _ARTICLE + _LEFT + r"(\d{1,2})\.\s*(bis(?:\s+zum)?|und|[-–])\s*(\d{1,2})\.\s+(" + months + r")\b"
            )
            rules.insert(4, (months_first, self._day_range))
        if lang.feet:
            # 5'7" (5′7″, 5' 7'', 5'7) is five feet seven inches; 6' and 12" alone are measures where they close no
            # quotation ("a 12" pizza", not 'he said "I am 12"').
            feet_inches = _LEFT + r"(\d{1,2})\s?['’′]\s?(\d{1,2}(?:\.\d+)?)(?:\s?(?:[\"”″]|''))?(?![\w'’′\"”″])"
            rules.append((feet_inches, self._feet_inches))
            if "by" in lang.extra:
                # '12" x 8"', "5' x 8'": a size, "twelve by eight inches" (the "x" was read as a letter).
                size = r"(\d{1,3}(?:\.\d+)?)\s?(['’′]|[\"”″])"
                after = r"\s?[x×]\s?(\d{1,3}(?:\.\d+)?)\s?(['’′]|[\"”″])"
                rules.append((_LEFT + size + after + f"(?:{after})?" + r"(?![\w'’′\"”″])", self._size))
            rules.append((_LEFT + r"(\d{1,3}(?:\.\d+)?)\s?(['’′]|[\"”″])(?![\w'’′\"”″])", self._feet_or_inches))
        rules += self._ordinal_rules(lang)
        if lang.to:
            # A range of times or measures ("9:00-17:00", "5–10 cm", "20-25 °C", "$5-10"): the dash becomes the
            # language's "to" before the rules below read each side, which they would otherwise read apart
            # ("nine o'clock-17:00", "five–ten centimeters", "twenty to twenty-five °C").
            # "9am–5pm", "13:30-17 Uhr": hours with am/pm or "Uhr" on either side too.
            hour = r"(?:[01]?\d\s?(?i:a\.?m\.?|p\.?m\.?)|(?:[01]?\d|2[0-3])\s?Uhr\b)(?![\w])"
            # "Snow 6-10\"": inches after the second number too (was "six to ten\"").
            inch = r"|\d{1,3}[\"″](?![\w\"″])" if lang.inches else ""
            # "2–3x per week": so many times (the dash was kept: "two–three times").
            times = r"|\d{1,3}[x×](?![\w.,])" if "times" in lang.extra else ""
            after = r"\s?[-–]\s?(?=" + time + "|" + hour + r"|[€$£¥]\s?\d|" + _NUM + measure + inch + times + ")"
            ranged = _LEFT + r"(" + time + "|" + hour + r"|" + _SIGNED + r"(?:" + measure + r")?)" + after
            priced = _LEFT + r"([€$£¥])\s?(" + _NUM + r")\s?[-–]\s?(?=\d)"
            dates = _DATE_RULES + (lang.code == "de")
            # "8:30–5", "9:00-13": a time to a bare hour, as opening hours are written (the dash was kept: "eight
            # thirty–five", "acht Uhr dreißig–siebzehn").
            to_hour = _LEFT + r"(" + time + r")\s?[-–]\s?(?=(?:[01]?\d|2[0-4])(?![\w:]|[.,]\d))"
            # "pH 6.0–7.0", "6,0–7,0": a range of decimals (the dash was kept: "six point zero–seven point zero").
            decimals = _LEFT + r"(\d+[.,]\d+)\s?[-–]\s?(?=\d+[.,]\d+(?!\d|[.,]\d))"
            rules.insert(dates, (priced, self._price_range))
            rules.insert(dates, (decimals, self._range_before))
            rules.insert(dates, (to_hour, self._range_before))
            rules.insert(dates, (ranged, self._range_before))
            rules.append((_LEFT + r"(\d+)\s?[-–]\s?(\d+)" + _RIGHT, self._range))
        # Rules that look only at a sentence with one of these characters (the per-sentence cost stays small).
        needs: dict[Handler, str] = {
            self._feet_inches: _LENGTH_MARKS,
            self._feet_or_inches: _LENGTH_MARKS,
            self._size: "x×",
            self._hours_minutes: "hm",
            self._days_hours: "d",
            self._plural_number: "0",
            self._ones_and_zeros: "0",
            self._magnitude: "".join({k[0] for k in lang.magnitudes}),
            self._times: "x×",
            self._operator: "x×*/",
            self._around_the_clock: "/",
            self._span: ":",
            self._ratio: ":",
            self._hms: ":",
            self._unit_per: "/",
            self._pressure: "/",
            self._unit_adjective: "-",
            self._percent_ig: "%",
            self._kelvin: "K",
            self._range_before: "-–",
            self._price_range: "-–",
            self._range: "-–",
        }
        return [(re.compile(p), h, needs.get(h)) for p, h in rules if p != r"(?!)"]

    def _ordinal_rules(self, lang: Lang) -> list[tuple[str, Callable[[re.Match[str]], str | None]]]:
        code = lang.code
        if code == "en":
            return [(r"\b(\d+)(st|nd|rd|th)\b", lambda m: self.words(int(m.group(1)), to="ordinal"))]
        if code == "fr":
            return [(r"\b(\d+)(er|re|ère|e|ème|eme)\b", self._ordinal_fr)]
        if code == "es":
            return [(r"\b(\d+)\.?([ºª])", self._ordinal_es)]
        if code == "ru":
            return [(r"\b(\d+)-(й|я|е|го|му|м|х|ое|ая|ый|ий|ой)\b", self._ordinal_ru)]
        if code == "de":
            articles = r"am|vom|zum|im|beim|dem|den|der|die|das|des"
            return [
                (r"(?i:\b(" + articles + r")\s+)(\d{1,3})\.(?=\s)", self._ordinal_de),
                (_LEFT + r"(\d{1,3})\.(?=[ \u00a0]+([A-ZÄÖÜ][a-zäöüß]+)\b)", self._ordinal_de_bare),
            ]
        if code == "fi":
            return [(_LEFT + r"(\d{1,3})\.(?=\s+[a-zäöå])", lambda m: self.words(int(m.group(1)), to="ordinal"))]
        return []

    @staticmethod
    def _month_abbreviation_pattern(lang: Lang) -> str:
        """A month abbreviation next to a number: after a day ("5 Dec", "5. Dez.", "5 de dic."), or, where ``months``
        are the names' own form (not Russian or Finnish genitives), before a day or year ("Dec 5", "Dec. 5, 2026")."""
        names = sorted((a for alternatives in lang.month_abbreviations for a in alternatives.split("|") if a), key=len)
        if not names:
            return r"(?!)"
        month = r"(?i:(" + "|".join(re.escape(a) for a in reversed(names)) + r"))"
        link = r"(?:de[ \u00a0])?" if lang.code == "es" else ""  # "5 de dic. de 2026"
        after_day = r"(?<=\d)(\.?[ \u00a0]?" + link + ")" + month + r"(\.?)(?!\w)"
        if lang.code in ("ru", "fi"):
            return after_day
        return r"(?<![\w.])()" + month + r"(\.?)(?=[ \u00a0]?\d)|" + after_day

    # -- handlers ------------------------------------------------------------------------------------------

    def _month_abbreviation(self, m: re.Match[str]) -> str | None:
        """ "Dec" → "December" (read below as a date), in date context only."""
        lang = self.lang
        assert lang is not None
        before, name, dot = (m.group(1), m.group(2), m.group(3)) if m.group(2) else (m.group(4), m.group(5), m.group(6))
        month = next(i for i, a in enumerate(lang.month_abbreviations) if name.lower() in a.split("|"))
        # The dot of "Dec." goes ("Dec. 5", "5 Dez. 2026", "5 déc., à"), except where it may end the sentence.
        after = m.string[m.end() :].lstrip(" \u00a0")[:1]
        goes = after.isdigit() or after.islower() or after in (",", ";")
        words = lang.months[month]
        if lang.code == "es" and m.group(5):
            # Spanish says "cinco de diciembre de dos mil veintiséis" whether "de" is written or not ("5 dic. 2026").
            if "de" not in before:
                before = " de "
            if _YEAR_NEXT.match(m.string, m.end()):
                words += " de"
        return f"{before}{words}" + ("" if goes else dot)

    def _date(self, day: int, month: int, year: int | None, before: str | None = None) -> str | None:
        lang = self.lang
        assert lang is not None
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return None
        name = lang.months[month - 1]
        year_words = self.year(year) if year is not None else ""
        code = lang.code
        if code == "en":
            out = f"{name} {self.words(day, to='ordinal')}" + (f", {year_words}" if year_words else "")
        elif code == "de":
            out = f"{self._ordinal_de_word(day, before)} {name}" + (f" {year_words}" if year_words else "")
        elif code == "fr":
            out = f"{'premier' if day == 1 else self.words(day)} {name}" + (f" {year_words}" if year_words else "")
        elif code == "es":
            out = f"{'primero' if day == 1 else self.words(day)} de {name}" + (
                f" de {year_words}" if year_words else ""
            )
        elif code == "ru":
            out = f"{self.words(day, to='ordinal', gender='n')} {name}"
            if year is not None:
                out += f" {self.words(year, to='ordinal', case='g')} года"
        else:
            out = f"{self.words(day, to='ordinal')} {name}" + (f" {year_words}" if year_words else "")
        return out

    def _ordinal_de_word(self, day: int, before: str | None) -> str:
        word = self.words(day, to="ordinal")
        if not before:
            return word + "r"  # "5. Dezember" alone: "fünfter Dezember"
        said = _DATIVE_DE.get(before.lower())
        if said is not None:
            before = before[0] + said[1:]  # "Von" → "Vom", "bis" → "bis zum"
        return f"{before} {word}" + ("" if before.lower() in ("der", "die", "das") else "n")

    def _day_range(self, m: re.Match[str]) -> str | None:
        """ "von 5. bis 7. Dezember" → "vom fünften bis zum siebten Dezember": the second day takes the case the
        first one has ("der fünfte bis siebte", "am fünften und sechsten"); was "von fünf. bis siebten"."""
        before, first, link, second, month = m.group(1), int(m.group(2)), m.group(3), int(m.group(4)), m.group(5)
        if not (1 <= first <= 31 and 1 <= second <= 31):
            return None
        head = self._ordinal_de_word(first, before)
        word = self.words(second, to="ordinal")
        if link == "und":
            tail = "und " + word + head[len(head.rstrip("nr")) :]  # the first one's ending: "-n", "-r" or none
        elif before and before.lower() not in ("der", "die", "das") or link.endswith("zum"):
            tail = f"bis zum {word}n"
        else:
            tail = "bis " + word + ("" if before else "r")
        return f"{head} {tail} {month}"

    @staticmethod
    def _full_year(text: str | None) -> int | None:
        if not text:
            return None
        year = int(text)
        return year + 2000 if len(text) == 2 else year

    def _iso_date(self, m: re.Match[str]) -> str | None:
        """ "2024-03-15"; in German after an article or a weekday in its case ("am 2026-12-24" was "am
        vierundzwanzigster Dezember")."""
        before = m.group(1) or self._weekday_article(m)
        out = self._date(int(m.group(4)), int(m.group(3)), int(m.group(2)), before)
        return f"{before} {out}" if out is not None and before and not out.startswith(before) else out

    def _dotted_date(self, m: re.Match[str]) -> str | None:
        before = m.group(1)
        if m.group(4) is None and self.lang is not None and self.lang.code not in ("de", "fi", "ru"):
            return None  # "3.5." is no date outside the languages that write dates so
        if m.group(4) is None and not before and self._version_at_end(m):
            # "Python 3.11." was "Python dritter November": a version whose dot ends the sentence.
            return None if self.reads_numbers else f"{self._version(m, m.group(2), m.group(3))}."
        if m.group(4) is not None and len(m.group(4)) == 2 and not before and self._after_name(m):
            # "Kernel 6.8.12", "iOS 17.4.10": a version after a name (was "August sixth, twenty twelve").
            return self._version(m, m.group(2), m.group(3), m.group(4))
        article = None if before else self._weekday_article(m)
        if article is not None:
            # "am Montag, 14.10." is "am Montag, dem vierzehnten Oktober" (was "vierzehnter", the nominative),
            # "Heute ist Montag, 3.5." "…, der dritte Mai"
            out = self._date(int(m.group(2)), int(m.group(3)), self._full_year(m.group(4)), article)
            return out + "." if out is not None and m.group(4) is None and _AT_END.match(m.string, m.end()) else out
        out = self._date(int(m.group(2)), int(m.group(3)), self._full_year(m.group(4)), before)
        if out is not None and before and not out.startswith(before):
            out = f"{before} {out}"
        if out is not None and m.group(4) is None and _AT_END.match(m.string, m.end()):
            out += "."  # the day's dot ended the sentence too ("Heute ist der 3.11." had no final mark)
        return out

    def _weekday_article(self, m: re.Match[str]) -> str | None:
        """ "dem" where a German date follows "am" and a weekday ("am Montag, 14.10.", "am Fr., 5. Dez."), "der"
        where it follows a weekday that opens its clause or follows "ist" ("Heute ist Montag, 3. Mai"), else None."""
        if self.code != "de" or self.lang is None:
            return None
        start = max(0, m.start() - 32)
        for pattern, article in ((_WEEKDAY_BEFORE_DE, "dem"), (_WEEKDAY_ALONE_DE, "der")):
            weekday = pattern.search(m.string[start : m.start()])
            if weekday is not None and weekday.group(1).lower() in self.lang.day_words:
                return article
        return None

    def _slashed_date(self, m: re.Match[str]) -> str | None:
        a, b = int(m.group(1)), int(m.group(2))
        mdy = self.lang is not None and self.lang.date_order == "MDY"
        if mdy and a > 12 or not mdy and b > 12:
            mdy = not mdy  # only one reading is a date
        day, month = (b, a) if mdy else (a, b)
        return self._date(day, month, self._full_year(m.group(3)))

    def _day_month(self, m: re.Match[str]) -> str | None:
        lang = self.lang
        assert lang is not None
        before, day, month = m.group(1), int(m.group(2)), m.group(3)
        if not 1 <= day <= 31:
            return None
        code = lang.code
        dotted = "." in m.group(0)
        if code == "de":
            if not dotted:
                return None
            return f"{self._ordinal_de_word(day, before or self._weekday_article(m))} {month}"
        prefix = before + " " if before else ""
        if code == "en":
            return f"{prefix}the {self.words(day, to='ordinal')} of {month}"
        if code == "fi" and dotted:
            return f"{prefix}{self.words(day, to='ordinal')} {month}"
        if code == "ru":
            return f"{prefix}{self.words(day, to='ordinal', gender='n')} {month}"
        if code == "fr" and day == 1:
            return f"{prefix}premier {month}"
        return None

    def _month_day(self, m: re.Match[str]) -> str | None:
        if self.lang is None or self.lang.code != "en" or not 1 <= int(m.group(2)) <= 31:
            return None
        return f"{m.group(1)} {self.words(int(m.group(2)), to='ordinal')}"

    def _clock(self, hour: int, minute: int, ampm: str | None = None) -> str:
        lang = self.lang
        assert lang is not None
        code = lang.code
        if code == "en":
            hours = self.words(hour)
            if ampm:
                suffix = lang.extra["am" if ampm.lower().startswith("a") else "pm"]
                mins = "" if minute == 0 else " " + (f"oh {self.words(minute)}" if minute < 10 else self.words(minute))
                return f"{hours}{mins} {suffix}"
            if minute == 0:
                return f"{hours} o'clock" if hour <= 12 else f"{hours} hundred"
            return f"{hours} " + (f"oh {self.words(minute)}" if minute < 10 else self.words(minute))
        if code == "de":
            return f"{self.count(hour)} Uhr" + (f" {self.words(minute)}" if minute else "")
        if code == "fr":
            return f"{self.count(hour, feminine=True)} {lang.form(lang.hour, hour)}" + (
                f" {self.words(minute)}" if minute else ""
            )
        if code == "es":
            return self.count(hour, feminine=True) + (f" y {self.words(minute)}" if minute else "")
        if code == "ru":
            if minute == 0:
                return f"{self.words(hour)} {lang.form(lang.hour, hour)}"
            mins = f"{self.words(0)} {self.words(minute)}" if minute < 10 else self.words(minute)
            return f"{self.words(hour)} {mins}"
        return self.words(hour) + (f" {self.words(minute)}" if minute else "")

    def _time(self, m: re.Match[str]) -> str | None:
        klo, hour, minute, ampm, word = m.group(1), int(m.group(2)), int(m.group(3)), m.group(4), m.group(5)
        if ampm and hour > 12:
            ampm = None
        prefix = (self.lang.extra.get("klo", klo) + " ") if klo and self.lang else ""
        if word == "h" and self.lang and self.lang.code != "fr":
            return None
        return prefix + self._clock(hour, minute, ampm)

    def _time_de(self, m: re.Match[str]) -> str | None:
        if self.lang is None or self.lang.code != "de":
            return None
        return self._clock(int(m.group(1)), int(m.group(2)))

    def _time_fr(self, m: re.Match[str]) -> str | None:
        if self.lang is None or self.lang.code != "fr":
            return None
        return self._clock(int(m.group(1)), int(m.group(2) or 0))

    def _hour_ampm(self, m: re.Match[str]) -> str | None:
        if self.lang is None or self.lang.code != "en":
            return None
        return self._clock(int(m.group(1)), 0, m.group(2))

    def _money(self, raw: str, currency: str, before_noun: bool = False) -> str | None:
        lang = self.lang
        assert lang is not None
        code = _CURRENCY_SIGNS.get(currency, currency)
        code = "EUR" if code.lower() in ("euro", "euros") else code
        if code not in lang.currencies:
            return None
        major_forms, minor_forms = lang.currencies[code]
        num = parse_number(raw, lang)
        feminine = code in lang.feminine
        if len(num.decimals) > 2:
            # "1,759 €/l", "$3.459/gal": a fuel price's tenth of a cent, a decimal of the currency (the third digit
            # was dropped: "ein Euro fünfundsiebzig").
            return f"{self.number(num)} {lang.form(major_forms, 1 if before_noun else 2)}"
        cents = int((num.decimals + "0")[:2]) if num.decimals else 0
        if num.integer == 0 and cents and not raw.lstrip().startswith(("-", "−")):
            # "0,32 €/kWh", "$0.15": "thirty-two cents" (was "zero euros and thirty-two cents", "null Euro …").
            minor = self.count(cents, feminine=f"{code}.minor" in lang.feminine)
            return f"{minor} {lang.form(minor_forms, 1 if before_noun else cents)}"
        # Before a noun the currency is said in the singular ("a five dollar bill").
        out = (
            f"{self.count(num.integer, feminine=feminine)} {lang.form(major_forms, 1 if before_noun else num.integer)}"
        )
        if num.decimals:
            cents = int((num.decimals + "0")[:2])
            if cents:
                minor_fem = f"{code}.minor" in lang.feminine
                cent_words = self.count(cents, feminine=minor_fem)
                if lang.code == "en":
                    out += f" {lang.and_word} {cent_words} {lang.form(minor_forms, 1 if before_noun else cents)}"
                elif lang.code == "es":
                    out += f" con {cent_words}"
                elif lang.code in ("de", "fr", "fi"):
                    out += f" {cent_words}"
                else:
                    out += f" {cent_words} {lang.form(minor_forms, cents)}"
        return out

    def _money_before(self, m: re.Match[str]) -> str | None:
        if m.group(5):
            said = self._money_magnitude(m.group(3), m.group(1) or m.group(2), m.group(5), self._before_noun(m))
            return said + _end_dot(m, m.group(5)) if said is not None else None
        said = self._per(self._money(m.group(3), m.group(1) or m.group(2), self._before_noun(m)), m.group(4))
        return said + _end_dot(m, m.group(4)) if said is not None and m.group(4) else said

    def _money_magnitude(self, raw: str, currency: str, magnitude: str, before_noun: bool = False) -> str | None:
        """ "$5k" → "five thousand dollars", "€2.5M" → "two point five million euros" (was "five dollarsk"); before
        a noun in the singular ("a $5m deal": "a five million dollar deal")."""
        lang = self.lang
        assert lang is not None
        code = _CURRENCY_SIGNS.get(currency, currency)
        if code not in lang.currencies:
            return None
        return f"{self._magnitude_words(raw, magnitude)} {lang.form(lang.currencies[code][0], 1 if before_noun else 2)}"

    def _magnitude_words(self, raw: str, magnitude: str) -> str:
        """The number and its magnitude's word, which it counts as a noun ("eine Million", "zwei Komma fünf
        Millionen")."""
        assert self.lang is not None
        key = magnitude.strip(" \u00a0.")
        key = "M" if key in ("m", "mn") else "k" if key == "K" else key
        num = parse_number(raw, self.lang)
        if key not in self.lang.magnitudes:
            return f"{self.number(num)} {key}"  # spelled out: "$27 trillion"
        words = self.number(num, noun=True, feminine=key in self.lang.feminine)
        return f"{words} {self.lang.form(self.lang.magnitudes[key], num.value)}"

    def _magnitude(self, m: re.Match[str]) -> str | None:
        """ "10k users" → "ten thousand users", "1B" → "one billion", "2,5 Mio. €" → "zwei Komma fünf Millionen
        Euro" (espeak: "ten kay", "one bee", "eins Mio.")."""
        written = m.group(2)
        if written.isupper() and not _COUNTED.match(m.string, m.end()):
            return None  # "Gate 4B", "Apt. 2B", "3M": a name, unless a counted noun follows ("1B users")
        if written == "K" and not m.group(3) and not self._thousands(m):
            return None  # "4K video", "a 5K run": a resolution, a race
        if written == "T" and not m.group(3):
            return None  # "a 5T truck": tons, perhaps; a trillion only after a currency ("$3.5T")
        if written == "B" and not m.group(3) and self._model_size(m):
            return None  # "Llama 3.1 8B runs", "the 70B model": a model's size, said "eight B" as a name is
        if m.group(3):
            said = self._money_magnitude(m.group(1), m.group(3), written)
            if said is None:
                return None
        else:
            said = self._magnitude_words(m.group(1), written)
        return said + _end_dot(m, written)

    def _counted_after(self, m: re.Match[str]) -> bool:
        """Whether an English plural noun that is no unit follows "7/9" ("7/9 free throws", "3/4 shots"): what was
        tried, counted ("2/3 cups" stays a fraction)."""
        if self.code != "en" or self.lang is None:
            return False
        after = _COUNTED_PLURAL.match(m.string, m.end())
        return after is not None and after.group(1) not in _unit_words(self.lang)

    def _thousands(self, m: re.Match[str]) -> bool:
        """Whether "12K" counts thousands: before a plural noun ("12K users", "1234K rows"), not a resolution's "4K",
        "8K", nor after "a" ("a 5K run")."""
        if m.group(1) in ("4", "8") or _ARTICLE_EN.search(m.string, max(0, m.start() - 4), m.start()):
            return False
        return _PLURAL_AFTER.match(m.string, m.end()) is not None

    def _model_size(self, m: re.Match[str]) -> bool:
        """Whether "8B" is a language model's size, named so: after a name and its version ("Llama 3.1 8B", "Qwen 2.5
        7B") or before "model", "variant", "instruct", … ("the 70B model"); "8B parameters" is a count."""
        if _MODEL_WORD.match(m.string, m.end()):
            return True
        return _NAME_VERSION.search(m.string, max(0, m.start() - 40), m.start()) is not None

    def _plural_number(self, m: re.Match[str]) -> str | None:
        """ "100s of" → "hundreds of": the number's noun made plural, without its "one"."""
        return plural_en(self.words(int(m.group(1).replace(",", ""))).removeprefix("one "))

    def _ones_and_zeros(self, m: re.Match[str]) -> str | None:
        return f"{plural_en(self.words(int(m.group(1))))}{m.group(2)}{plural_en(self.words(int(m.group(3))))}"

    def _around_the_clock(self, m: re.Match[str]) -> str | None:
        return f"{self.words(24)} {self.words(7)}"

    def _operator(self, m: re.Match[str]) -> str | None:
        """A number before ×, x, * or / and another number: "by" (dimensions: "thirty by twenty"), or "times" and
        "divided by" where an equation follows ("3 * 4 = 12")."""
        assert self.lang is not None
        raw, sign = m.group(1), m.group(2) or m.group(3)
        if sign == "x" and raw == "0":
            return None  # "0x10": hexadecimal
        after = re.split(r"[,;:!?]|\.(?!\d)", m.string[m.end() : m.end() + 40], maxsplit=1)[0]  # this clause
        equals = self.lang.relations.get("=")
        equation = "=" in after or equals is not None and f" {equals} " in after  # "=" is said before the numbers
        if sign == "/":
            if not equation:
                return None  # "10 / 2" alone: a ratio or a score as often
            word = self.lang.extra["divided"]
        else:
            word = self.lang.extra["times" if equation or sign == "*" else "by"]
        said = raw if self.reads_numbers else self.number(parse_number(raw, self.lang))
        return f"{said} {word} "

    def _one_de(self, m: re.Match[str]) -> str | None:
        """ "1 Tasse" → "eine Tasse", "1 Ei" → "ein Ei": one before a noun, not after one ("Kapitel 1 Absatz")."""
        name = _NAME_BEFORE.search(m.string, max(0, m.start() - 40), m.start())
        if name is not None and name.group(1)[0].isupper():
            before = m.string[: name.start(1)].rstrip(" \u00a0\"'„“(")
            opens = not before or before.endswith((".", "!", "?", ":"))
            if not opens or _LABEL_DE.match(m.string, m.end()):
                # "Gleis 1 Richtung", "Kapitel 1 Absatz 2": a number after a noun names it; a capitalised word
                # that opens the sentence is as often a verb ("Gib 1 Tasse").
                return None
        noun = _NOUN_DE.match(m.string, m.end())
        gender = _gender_de(noun.group(1)) if noun is not None else None
        case = _case_de(m.string, m.start())
        # The accusative only after a preposition's dative is sure enough: "Nimm 1 Liter" stays "ein Liter" where
        # "Es dauert 1 Tag" and "Da liegt 1 Apfel" differ by the verb.
        return _one_before_de(gender, "nom" if case == "acc" else case) or "ein"

    def _ers(self, m: re.Match[str]) -> str | None:
        word = self.words(int(m.group(1)))
        return word + ("rs" if word.endswith("e") else "ers")

    def _times(self, m: re.Match[str]) -> str | None:
        assert self.lang is not None
        said = self.number(parse_number(m.group(1), self.lang))
        rest = m.string[m.end() : m.end() + 24].lstrip()
        algebra = _ALGEBRA.match(m.string, m.end()) or any(
            rest.startswith(w + " ") for w in self.lang.relations.values()
        )
        word = _WORD_AFTER.match(m.string, m.end())
        plural = word is not None and word.group(1).endswith("s") and _noun_after(m.string, m.end())
        if self.code == "en" and not algebra and plural:
            return said  # "3 x avocados", "2x eggs": a count in a list, "three avocados" (was "three x avocados")
        if m.group(0)[len(m.group(1))] not in "x×":
            return None  # "3 x" apart before anything else: a letter as often
        if algebra:
            return f"{said} x"  # "2x + 3 = 7": two x, not "two times"
        if self.code == "de" and m.group(1).isdigit():
            return self.count(int(m.group(1))) + "mal"  # "1x täglich": "einmal" (was "eins mal")
        return f"{said} {self.lang.extra['times']}"

    def _money_after(self, m: re.Match[str]) -> str | None:
        said = self._per(self._money(m.group(1), m.group(2), self._before_noun(m)), m.group(3))
        return said + _end_dot(m, m.group(3)) if said is not None and m.group(3) else said  # "3 €/Stk." at the end

    def _per(self, price: str | None, unit: str | None) -> str | None:
        if price is None or unit is None:
            return price
        assert self.lang is not None
        if unit in self.lang.per_words:
            return f"{price} {self.lang.per} {self.lang.per_words[unit]}"
        unit = self.lang.aliases.get(unit, unit).replace("μ", "µ")
        return f"{price} {self.lang.per} {self.lang.units[unit][0]}"

    def _measure(self, raw: str, forms: tuple[str, ...], feminine: bool = False, before_noun: bool = False) -> str:
        """A number and its unit in the form the number takes (the singular ``before_noun``: "a five megabyte
        file")."""
        assert self.lang is not None
        num = parse_number(raw, self.lang)
        words = self.number(num, noun=True, feminine=feminine)
        if before_noun:
            return f"{words} {forms[0]}"
        return f"{words} {self.lang.form(forms, abs(num.value) if num.decimals else abs(num.integer))}"

    def _temperature(self, m: re.Match[str]) -> str | None:
        assert self.lang is not None
        scale = self.lang.celsius if m.group(2) == "C" else self.lang.fahrenheit
        return f"{self._measure(m.group(1), self.lang.degree, before_noun=self._before_noun(m))} {scale}"

    def _degrees(self, m: re.Match[str]) -> str | None:
        assert self.lang is not None
        return self._measure(m.group(1), self.lang.degree, before_noun=self._before_noun(m))

    def _kelvin(self, m: re.Match[str]) -> str | None:
        assert self.lang is not None
        n = int(m.group(1))
        if n % 100:
            return None  # a color temperature is a round number: "1234K" may be a thousand-fold count
        return f"{n if self.reads_numbers else self.words(n)} {_KELVIN[self.lang.code]}"

    def _percent_ig(self, m: re.Match[str]) -> str | None:
        assert self.lang is not None
        said = self._measure(m.group(1), self.lang.percent).replace(" ", "").lower()
        return re.sub(r"^einhundert", "hundert", said) + m.group(2)  # "hundertprozentig"

    def _percent(self, m: re.Match[str]) -> str | None:
        assert self.lang is not None
        return self._measure(m.group(1), self.lang.percent)

    def _unit(self, m: re.Match[str]) -> str | None:
        assert self.lang is not None
        unit = self.lang.aliases.get(m.group(2), m.group(2)).replace("μ", "µ")
        before_noun = self._before_noun(m)
        if self.code == "en" and unit == "s" and m.end() - m.start() == len(m.group(1)) + 1:
            plural = self._number_plural(m)
            if plural is not None:
                return plural or None
            # "5s sprints", "a 30s timeout": seconds before a noun, an adjective ("five second sprints").
            before_noun = before_noun or _noun_after(m.string, m.end())
        if self.code == "en" and unit == "m" and self._minutes(m):
            unit = "min"
        said = self._measure(
            m.group(1), self.lang.units[unit], feminine=unit in self.lang.feminine, before_noun=before_noun
        )
        said = self._dative_one(m, m.group(1), unit, said)
        # The dot of "Std." goes where the sentence goes on ("3 Std. und", "5 Min., dann", "3 Std. Fahrt": the
        # splitter ended the sentence there only before a sentence opener), else it ends it.
        return said + _end_dot(m, m.group(2))

    def _unit_adjective(self, m: re.Match[str]) -> str | None:
        assert self.lang is not None
        unit = self.lang.aliases.get(m.group(2), m.group(2))
        if len(unit) < 2 and unit != "h":
            return None  # "a 3-D print", "a 5-m drop": a letter may be no unit, or more than one
        return f"{self.words(int(m.group(1)))}-{self.lang.units[unit][0]}"

    def _dative_one(self, m: re.Match[str], raw: str, unit: str, said: str) -> str:
        """``said`` for one ``unit`` in the dative where a German preposition asks for it ("mit 1 l Wasser", "in 1h
        30m": "mit einem Liter", "in einer Stunde", was "mit ein Liter", "in eine Stunde")."""
        assert self.lang is not None
        if self.code != "de" or raw != "1" or _case_de(m.string, m.start()) != "dat":
            return said
        gender = "f" if unit in self.lang.feminine else _gender_de(self.lang.units[unit][0])
        one = _one_before_de(gender, "dat")
        return re.sub(r"^eine?\b", one, said) if one is not None else said

    def _hyphened(self, m: re.Match[str]) -> str | None:
        n = int(m.group(1))
        return self.year(n) if self.code in ("en", "de") and _YEAR.fullmatch(m.group(1)) else self.words(n)

    def _pressure(self, m: re.Match[str]) -> str | None:
        assert self.lang is not None
        head = m.group(0)[: m.start(1) - m.start()]
        if not head and not m.group(3):
            return None  # "24/7", "3/15": no word of blood pressure and no unit
        said = f"{self.words(int(m.group(1)))} {self.lang.extra['over']} {self.words(int(m.group(2)))}"
        return head + said + (" " + self.lang.units["mmHg"][1] if m.group(3) else "")

    def _unit_per(self, m: re.Match[str]) -> str | None:
        """ "32 ct/kWh" → "zweiunddreißig Cent pro Kilowattstunde"; a unit of its own ("km/h") is left to ``_unit``."""
        assert self.lang is not None
        if f"{m.group(2)}/{m.group(3)}" in self.lang.units or f"{m.group(2)}/{m.group(3)}" in self.lang.aliases:
            return None
        unit = self.lang.aliases.get(m.group(2), m.group(2)).replace("μ", "µ")
        said = self._measure(m.group(1), self.lang.units[unit], feminine=unit in self.lang.feminine)
        return self._per(said, m.group(3))

    def _number_plural(self, m: re.Match[str]) -> str | None:
        """A number + "s" that is the number made plural, not seconds: any number as a name after "the", "those",
        "these" ("the 747s"), or after a count where no noun follows ("two 6s", "all 7s", "two 45s": "sixes", "forty-
        fives"; "three 5s sprints" are seconds before a noun); "" where the engine reads it (a number of several
        digits); None: seconds."""
        raw, start = m.group(1), m.start()
        if not raw.isdigit():
            return None
        before = m.string[max(0, start - 12) : start]
        counted = _COUNTED_DIGIT.search(before) is not None and not _noun_after(m.string, m.end())
        if counted or _NAMED.search(before):
            # espeak reads "6s" "six s" (a pause between); a number of several digits it reads as the others.
            if self.reads_numbers and len(raw) > 1:
                return ""
            n = int(raw)
            if 100 < n < 1000 and n % 100:
                # A model's number is said in pairs: "the 747s" "seven forty-sevens", "Porsche 911s" "nine elevens"
                # (was "seven hundred and forty-sevens").
                tail = self.words(n % 100) if n % 100 > 9 else f"oh {self.words(n % 100)}"
                return f"{self.words(n // 100)} {plural_en(tail)}"
            return plural_en(self.words(n))
        return None

    @staticmethod
    def _minutes(m: re.Match[str]) -> bool:
        """Whether an English "5m" is minutes (see ``_MINUTES_BEFORE``), not meters."""
        text, start, end = m.string, m.start(), m.end()
        before = text[max(0, start - 12) : start]
        if _MINUTES_AFTER.match(text, end):
            return True
        if _MINUTES_BEFORE.search(before):
            return _OF.match(text, end) is None
        return _MINUTES_IN.search(before) is not None and _CLAUSE_END.match(text, end) is not None

    def _hash_number(self, m: re.Match[str]) -> str | None:
        assert self.lang is not None
        return f"{self.lang.number} {self.words(int(m.group(1)))}"

    def _range_before(self, m: re.Match[str]) -> str | None:
        return f"{m.group(1)} {self._to(m)} "

    def _price_range(self, m: re.Match[str]) -> str | None:
        """ "$5-10": "5 to $10", read below as "five to ten dollars"."""
        currency = m.group(1)
        return f"{m.group(2)} {self._to(m)} {currency}"

    def _hms(self, m: re.Match[str]) -> str | None:
        """Hours, minutes and seconds: a span after a word of lasting or timing ("a timer for 1:30:00": "one hour
        thirty minutes"), else a time of day with its seconds ("ten fifteen and thirty seconds")."""
        assert self.lang is not None
        hours, minutes, seconds = (int(g) for g in m.groups())
        units, feminine = self.lang.units, self.lang.feminine
        if (
            hours == 0
            or _SPAN_BEFORE.search(m.string, max(0, m.start() - 24), m.start())
            or _SPAN_AFTER.match(m.string, m.end())
        ):
            parts = [(hours, "h"), (minutes, "min"), (seconds, "s")]
            said = [self._measure(str(n), units[key], feminine=key in feminine) for n, key in parts if n]
            return " ".join(said) or self._measure("0", units["s"])
        if hours > 23:
            return None
        clock = self._clock(hours, minutes)
        if seconds == 0:
            return clock
        return f"{clock} {_SCORE_WORDS[self.lang.code][1]} {self._measure(str(seconds), units['s'], feminine=True)}"

    def _span(self, m: re.Match[str]) -> str | None:
        """ "4:30 min" → "four minutes thirty seconds", "1:30 h" → "one hour thirty minutes", "5:30/km" → "five
        minutes thirty seconds per kilometer"."""
        assert self.lang is not None
        big, small, word, per = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
        if m.re.groups > 4 and m.group(5) is not None:
            if big <= 24:
                return None  # "at 9:30": a time of day
            if self.code == "de" and not _IN_BEFORE.search(m.string, max(0, m.start() - 4), m.start()):
                # "Alba gewinnt 98:54": a basketball's or a handball's score (was left as written); "in 42:17" a time
                return f" {_SCORE_WORDS[self.code][0]} ".join(self._score_side(m, i) for i in (1, 2))
        if word is None and per is None and _AT_TIME.search(m.string[max(0, m.start() - 6) : m.start()]):
            return None  # "the 5:30 left at six": a time of day, its train or bus
        units, feminine = self.lang.units, self.lang.feminine
        keys = ("h", "min") if word is not None and word.lower()[0] in "hs" else ("min", "s")
        parts = [(big, keys[0]), (small, keys[1])]
        said = " ".join(self._measure(str(n), units[k], feminine=k in feminine) for n, k in parts if n)
        said = said or self._measure("0", units[keys[1]])
        if per is not None:
            said += f" {self.lang.per} {units[per][0]}"
        return said + _end_dot(m, word or "")

    def _ratio(self, m: re.Match[str]) -> str | None:
        """ "Scale 1:50" → "Scale one to fifty" (the words before stay as written)."""
        assert self.lang is not None
        said = f" {_SCORE_WORDS[self.lang.code][0]} ".join(self.words(int(m.group(i))) for i in (1, 2))
        return m.group(0)[: m.start(1) - m.start()] + said

    def _score(self, m: re.Match[str]) -> str | None:
        """ "3:1", "16:9": a score or a ratio, "three to one" ("drei zu eins"); was left to the engine ("three one")."""
        assert self.lang is not None
        name = _NAME_BEFORE.search(m.string, max(0, m.start() - 40), m.start())
        said = [self._score_side(m, i) for i in (1, 2)]
        if self.code == "en" and name is not None and name.group(1)[0].isupper() and name.start(1) > 0:
            # "John 3:1", "Genesis 1:1": a chapter and verse, "three one" as "John 3:16" is "three sixteen"; a
            # score after a team is said so too ("Arsenal three one"). espeak said "three colon one".
            return " ".join(said)
        return f" {_SCORE_WORDS[self.lang.code][0]} ".join(said)

    def _score_side(self, m: re.Match[str], group: int) -> str:
        """One side of a score: its digits for an engine that reads numbers, except a German 1 before a noun, which
        a later rule would take for a count of it ("1:1 Kane" was "1 zu einer Kane", "3:1 Bayern" "3 zu ein
        Bayern")."""
        raw = m.group(group)
        counted = raw == "1" and self.code == "de" and _CAPITAL_NEXT.match(m.string, m.end(group)) is not None
        return raw if self.reads_numbers and not counted else self.words(int(raw))

    def _hours_minutes(self, m: re.Match[str]) -> str | None:
        """ "1h 30m", "1h 30m 20s", "2m 30s" (no hours): each part with its unit's word."""
        assert self.lang is not None
        units, feminine = self.lang.units, self.lang.feminine
        parts = [(m.group(1), "h"), (m.group(2), "min"), (m.group(3), "s")]
        if m.group(3) and "s" not in units:
            return None
        said = [self._measure(raw, units[key], feminine=key in feminine) for raw, key in parts if raw]
        lead = next((raw, key) for raw, key in parts if raw)
        return " ".join([self._dative_one(m, *lead, said[0]), *said[1:]])

    def _days_hours(self, m: re.Match[str]) -> str | None:
        """ "2d 4h" → "two days four hours", "1d 2h 30m" → "one day two hours thirty minutes"."""
        assert self.lang is not None
        units, feminine = self.lang.units, self.lang.feminine
        days = self._measure(m.group(1), _DAY_FORMS[self.lang.code])
        parts = [(m.group(2), "h"), (m.group(3), "min")]
        return " ".join(
            [days, *(self._measure(raw, units[key], feminine=key in feminine) for raw, key in parts if raw)]
        )

    def _range(self, m: re.Match[str]) -> str | None:
        a, b = int(m.group(1)), int(m.group(2))
        to = self._to(m)
        if self.reads_numbers:
            return f"{a} {to} {b}"  # the year rule below reads "1990 to 1995" as a lone year is read
        if _YEAR.fullmatch(m.group(1)) and (len(m.group(2)) == 4 and a < b or len(m.group(2)) == 2 and b > a % 100):
            # Years, as a lone year is read: "1990-1995" was "one thousand nine hundred and ninety to …".
            return f"{self.year(a)} {to} {self.year(b) if b > 99 else self.words(b)}"
        return f"{self.words(a)} {to} {self.words(b)}"

    def _feet_inches(self, m: re.Match[str]) -> str | None:
        assert self.lang is not None
        before = self._before_noun(m)
        feet = self._measure(m.group(1), self.lang.feet, before_noun=before)
        inches = self._measure(m.group(2), self.lang.inches, feminine="in" in self.lang.feminine, before_noun=before)
        return f"{feet} {inches}"

    def _feet_or_inches(self, m: re.Match[str]) -> str | None:
        assert self.lang is not None
        mark = m.group(2)
        if mark in "'’\"”" and _quoted(m.string, m.start(), mark) and not _MEASURE_WORD.match(m.string, m.end()):
            return None  # the number ends a quotation ("I am 12"), its mark closes it; '"I am 5" tall"' is inches
        before = self._before_noun(m)
        if (
            mark in "'’′"
            and self.code == "en"
            and m.group(1).isdigit()
            and 0 < int(m.group(1)) <= 130
            and _MATCH_MINUTE.search(m.string, max(0, m.start() - 4), m.start())
            and not _noun_after(m.string, m.end())
        ):
            # "scored in the 67'": a match's minute, "the sixty-seventh minute" (was "sixty-seven feet")
            return f"{self.words(int(m.group(1)), to='ordinal')} minute"
        if mark in "'’′":
            return self._measure(m.group(1), self.lang.feet, before_noun=before)
        return self._measure(m.group(1), self.lang.inches, feminine="in" in self.lang.feminine, before_noun=before)

    def _size(self, m: re.Match[str]) -> str | None:
        """A size: '12" x 8" x 2"' → "twelve by eight by two inches": the marks all of one kind, the unit said once."""
        assert self.lang is not None
        marks = [mk for mk in m.group(2, 4, 6) if mk]
        raws = [r for r in m.group(1, 3, 5) if r]
        units = [self.lang.feet if mk in "'’′" else self.lang.inches for mk in marks]
        by = f" {self.lang.extra['by']} "
        before = self._before_noun(m)
        if len(set(units)) > 1:  # "3' x 6\"": each its unit, "three feet by six inches"
            return by.join(self._measure(r, u, before_noun=before) for r, u in zip(raws, units, strict=True))
        last = self._measure(raws[-1], units[0], before_noun=before)
        return by.join([*(self.number(parse_number(r, self.lang), noun=True) for r in raws[:-1]), last])

    def _before_noun(self, m: re.Match[str]) -> bool:
        """English "a 6' fence", "a 5 MB file", "the $5 bill": a measure after "a" stands before a noun ("a six foot
        fence"); after "the", "each", "two", … only where a noun follows ("the five megabyte file", not "the 5 MB
        are used")."""
        if self.code != "en":
            return False
        text, start = m.string, m.start()
        if _ARTICLE_EN.search(text, max(0, start - 4), start) is not None:
            return True
        if _ARTICLE_BY_EN.search(text, max(0, start - 40), start) is not None:
            return True  # "a 9x5" loaf pan": "a nine by five inch loaf pan" (was "five inches loaf pan")
        return _DETERMINER_EN.search(text, max(0, start - 12), start) is not None and _noun_after(text, m.end())

    def _ordinal_fr(self, m: re.Match[str]) -> str | None:
        n, suffix = int(m.group(1)), m.group(2)
        if n == 1:
            return "première" if suffix in ("re", "ère") else "premier"
        return self.words(n, to="ordinal")

    def _ordinal_es(self, m: re.Match[str]) -> str | None:
        word = self.words(int(m.group(1)), to="ordinal")
        return re.sub(r"o\b", "a", word) if m.group(2) == "ª" else word

    def _ordinal_ru(self, m: re.Match[str]) -> str | None:
        n, suffix = int(m.group(1)), m.group(2)
        forms = {
            "й": ("m", None), "ый": ("m", None), "ий": ("m", None), "ой": ("m", None),
            "я": ("f", None), "ая": ("f", None),
            "е": ("n", None), "ое": ("n", None),
            "го": ("m", "g"), "му": ("m", "d"), "м": ("m", "p"), "х": ("m", "p"),
        }  # fmt: skip
        gender, case = forms[suffix]
        return self.words(n, to="ordinal", gender=gender, case=case)

    def _ordinal_de_bare(self, m: re.Match[str]) -> str | None:
        """ "14. Spieltag" → "vierzehnter Spieltag", "sein 3. Tor" → "sein drittes Tor": an ordinal before a noun
        with no article, its ending the noun's gender's (was "vierzehn.", a sentence's end to the engine)."""
        noun = m.group(2)
        before = _WORD_BEFORE_DE.search(m.string, max(0, m.start() - 24), m.start())
        word = before.group(1) if before else ""
        if (
            noun in SENTENCE_OPENERS
            or word in _PLACE_WORDS_DE
            or self.lang is not None
            and word in self.lang.section_words
        ):
            return None  # "Er wurde 3. Dann …", "Platz 3. Bayern …": a number that ends its sentence
        ordinal = self.words(int(m.group(1)), to="ordinal")
        if _INFLECTED_DETERMINER_DE.fullmatch(word):
            return ordinal + "n"  # "seinen dritten Titel", "mit ihrem zweiten Tor"
        gender = "f" if noun.endswith(("erin", "liga")) else _gender_de(noun)  # "zweite Siegerin", "3. Liga"
        gender = gender or ("n" if noun.lower().endswith(_NEUTER_ORDINAL_DE) else "m")
        return ordinal + {"m": "r", "f": "", "n": "s"}[gender]

    def _ordinal_de(self, m: re.Match[str]) -> str | None:
        article = m.group(1)
        if article.lower() == "der" and _PREPOSITION_DE.search(m.string[max(0, m.start() - 16) : m.start()]):
            return f"{article} {self.words(int(m.group(2)), to='ordinal')}n"  # "in der dritten Runde"
        return self._ordinal_de_word(int(m.group(2)), article)


_OPENING = {
    "'": re.compile(r"(?<![\w'’])['‘](?=\w)"),
    "’": re.compile(r"‘"),
    '"': re.compile(r'(?<!\d)"'),
    "”": re.compile("“"),
}
_CLOSING = {
    "'": re.compile(r"(?<=\w)['’](?![\w'’])(?!" + _MEASURE_WORD.pattern + ")"),
    "’": re.compile(r"’(?!\w)(?!" + _MEASURE_WORD.pattern + ")"),
    '"': None,
    "”": re.compile("”"),
}
"""Closing marks; a foot's mark before a measure word ("6' wide") closes nothing."""


def _quoted(text: str, at: int, mark: str) -> bool:
    """Whether a quotation with ``mark``'s kind of quote is open at ``at`` (so that ``mark`` closes it)."""
    before = text[:at]
    opened = len(_OPENING[mark].findall(before))
    closing = _CLOSING[mark]
    if closing is None:
        return opened % 2 == 1  # straight double quotes open and close alike (inch marks, after a digit, aside)
    return opened > len(closing.findall(before))


_WORD_BEFORE_DE = re.compile(r"([^\W\d_]+)[ \u00a0]+$")
_PLACE_WORDS_DE = frozenset({"Platz", "Rang", "Nummer", "Nr", "Gleis", "Seite", "Tabellenplatz", "Position"})
"""Nouns a number after names (a place in a table, a page): "Platz 3. Bayern …" ends a sentence, no ordinal."""
_INFLECTED_DETERMINER_DE = re.compile(r"(?i:(?:ein|kein|mein|dein|sein|ihr|unser|eur|jed|dies)(?:en|em|er|es))")
"""An ein-word or "jeder", "dieser" with its ending: the ordinal after it takes "-en" ("seinen dritten Titel")."""
_NEUTER_ORDINAL_DE = ("spiel", "tor", "rennen", "mal", "semester", "quartal", "level", "album", "finale", "turnier")
"""Neuter nouns an ordinal stands before ("3. Spiel", "2. Tor", "1. Rennen") that ``_gender_de`` does not know."""


_UNIT_WORDS: dict[str, frozenset[str]] = {}
_MEASURE_NOUNS = frozenset({
    "cups", "sticks", "cans", "slices", "pints", "quarts", "gallons", "liters", "teaspoons", "tablespoons", "hours",
    "minutes", "days", "weeks", "months", "years", "miles", "pounds", "ounces",
})  # fmt: skip
"""Measures a fraction stands before in the plural ("2/3 cups"), not counted tries."""


def _unit_words(lang: Lang) -> frozenset[str]:
    """The words a language's units are said with ("cups", "inches", "Tassen")."""
    words = _UNIT_WORDS.get(lang.code)
    if words is None:
        spelled = (form for forms in (*lang.units.values(), lang.inches, lang.feet) for form in forms)
        words = _UNIT_WORDS[lang.code] = frozenset(spelled) | _MEASURE_NOUNS
    return words


def _feminine_de(noun: str) -> bool:
    """Whether a German noun is feminine, as its ending or ``_FEMININE_WORDS_DE`` says (see ``_FEMININE_DE``)."""
    word = noun.lower()
    if word.endswith(_FEMININE_WORDS_DE) and not word.endswith("genuss"):
        return True
    return word.endswith(_FEMININE_DE) and not word.endswith(_NOT_FEMININE_DE)


def _gender_de(noun: str) -> str | None:
    """ "f", "m" or "n" for a German noun known by its ending or the lists above; None where unknown."""
    if _feminine_de(noun):
        return "f"
    word = noun.lower()
    if word.endswith(_MASCULINE_DE):
        return "m"
    if word.endswith(_NEUTER_DE) or word in ("ei", "mal", "ende"):
        return "n"
    return None


def _case_de(text: str, start: int) -> str:
    """The case of a count at ``start``: "dat" after a preposition that takes it ("mit ½ Liter"), "nom" where its
    clause starts there or holds a copula or "es" ("Zutaten: ½ Liter", "Es fehlt ½ Liter"), else "acc" ("Nimm ½
    Liter": what a recipe or an instruction asks for)."""
    head = text[max(0, start - 80) : start]
    if _DATIVE_BEFORE_DE.search(head):
        return "dat"
    # A list's later items take the case of its first ("Zutaten: ½ Liter Milch, ½ l Sahne"): the words before the
    # clause's first number.
    clause = _CLAUSE_START_DE.split(head)[-1]
    first = next((i for i, c in enumerate(clause) if c.isdigit() or c in _VULGAR), len(clause))
    words = re.findall(r"[^\W\d_]+", clause[:first])
    if _DATIVE_BEFORE_DE.search(clause[:first]):
        # "mit 1 l Wasser und ½ Glas Öl": the list goes on with nouns, units, "und", "oder" (a verb ends it).
        between = re.findall(r"[^\W\d_]+", clause[first:])
        if all(w[0].isupper() or w in ("und", "oder", "sowie") or _UNIT_DE.fullmatch(w) for w in between):
            return "dat"
    return "nom" if not words or any(w.lower() in _COPULA_DE for w in words) else "acc"


def _one_before_de(gender: str | None, case: str, *, half: bool = False) -> str | None:
    """ "ein", "eine", "einen", "einem", "einer" (with "halbe…" after it where ``half``) for a count of one of a
    noun of ``gender`` in ``case``; None where the gender is unknown (the caller keeps its word)."""
    if gender is None:
        return None
    if case == "dat":
        return ("einer" if gender == "f" else "einem") + (" halben" if half else "")
    if gender == "f":
        return "eine halbe" if half else "eine"
    if gender == "m" and case == "acc":
        return "einen halben" if half else "einen"
    if not half:
        return "ein"
    return "ein halber" if gender == "m" else "ein halbes"


def _noun_after(text: str, at: int) -> bool:
    """Whether a lower-case word that may be a noun follows at ``at`` ("5s sprints", "the 5 MB file"), not a verb, a
    preposition or an adverb ("the 5 MB are used", "45s ago")."""
    word = _WORD_AFTER.match(text, at)
    if word is None:
        return False
    w = word.group(1)
    return w not in _NO_NOUNS and not w.endswith("ly") and not (w.endswith("ed") and len(w) > 5)


def _end_dot(m: re.Match[str], written: str) -> str:
    """The dot of an abbreviation that ``m`` ends in ("2,5 Mio."): kept at the sentence's end, where it may end it;
    where more follows ("2,5 Mio. Euro"), it ends no sentence and goes."""
    return "." if written.endswith(".") and m.group(0).endswith(".") and _AT_END.match(m.string, m.end()) else ""


def _keep(m: re.Match[str], handler: Callable[[re.Match[str]], str | None]) -> str:
    try:
        out = handler(m)
    except (ValueError, KeyError, IndexError, NotImplementedError, OverflowError):
        _LOGGER.debug("Cannot read %r as a number", m.group(0), exc_info=True)
        out = None
    return m.group(0) if out is None else out


@functools.lru_cache(maxsize=64)
def reader(language: str | None, reads_numbers: bool) -> Reader:
    """The (cached) reader of a language."""
    return Reader(language, reads_numbers=reads_numbers)
