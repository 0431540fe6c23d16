"""The words a language needs to read numbers, units, times and symbols aloud, and its plural rules.

num2words writes the numbers themselves; this table holds everything around them. A language with no entry here
still gets its cardinals from num2words (where num2words knows it); its units, times and dates are left as written.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass, field

Forms = tuple[str, ...]
"""A noun's forms by plural category: (one, other), or (one, few, many) for Slavic languages."""


def _plural_one_other(n: float) -> int:
    return 0 if n == 1 else 1


def _plural_french(n: float) -> int:
    return 0 if abs(n) < 2 else 1


def _plural_slavic(n: float) -> int:
    if n != int(n):
        return 1  # a fraction takes the genitive singular ("3,5 градуса")
    n = abs(int(n))
    if n % 10 == 1 and n % 100 != 11:
        return 0
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return 1
    return 2


@dataclass(frozen=True)
class Lang:
    """What one language says around numbers."""

    code: str
    decimal_word: str
    """How the decimal separator is read ("point", "Komma")."""
    digit_decimals: bool
    """Decimals read digit by digit (en, de, fi) rather than as a number (fr, es: "trois virgule quatorze")."""
    minus: str
    plus: str
    percent: Forms
    degree: Forms
    celsius: str
    fahrenheit: str
    and_word: str
    or_word: str
    dot: str
    at: str
    number: str
    """"#3" → "number three"."""
    per: str
    """A price per unit ("0,32 €/kWh" → "… pro Kilowattstunde")."""
    to: str | None
    """A range "10-20" → "ten to twenty"; None leaves ranges alone."""
    months: tuple[str, ...]
    """Month names as read after a day ("15. März", "15 марта"), January first."""
    units: dict[str, Forms]
    currencies: dict[str, tuple[Forms, Forms]]
    """ISO code → (major unit forms, minor unit forms)."""
    hour: Forms = ()
    """The word after the hours of a time ("Uhr", "heures"); empty: none."""
    plural: Callable[[float], int] = _plural_one_other
    feminine: frozenset[str] = frozenset()
    """Unit keys whose nouns are feminine (ru, fr, es: "одна минута", "une heure")."""
    date_order: str = "DMY"
    """How a slashed date is read (``3/15/2024``): "DMY" or "MDY"."""
    aliases: dict[str, str] = field(default_factory=dict)
    """Unit abbreviations of the language's own script → the unit key ("км" → "km")."""
    relations: dict[str, str] = field(default_factory=dict)
    """≥ ≤ ≠ > < = as said before a number, in words that need no case or agreement ("at least", "не меньше чем")."""
    month_abbreviations: tuple[str, ...] = ()
    """Abbreviations of ``months`` (lower case, without their dot; alternatives separated by "|", "" for none),
    January first: read as the month next to a number ("5 Dec 2026", "Dec. 5")."""
    abbreviations: dict[str, str] = field(default_factory=dict)
    """Abbreviations that engines misread (lower case, without their last dot; one of several parts with its other
    dots and no spaces, "z.b") → the words said ("approx" was "approks", "bzw" spelled out "b z w", "z.b" "zett.
    bee"); only written with their dot are they read so."""
    phone_words: tuple[str, ...] = ()
    """Words that say a number nearby is a telephone number ("call", "Tel"): "call 555-1234" is read digit by digit
    where "1990-1995" alone stays a range (lower case; matched as whole words in the few words before it)."""
    section_words: tuple[str, ...] = ()
    """Words before a number of a part of a text ("Kapitel 3.2", "Abschnitt 4.1"): its dot is the part's, said as
    ``dot`` ("drei Punkt zwei"), not a decimal ("drei Komma zwei"); as written, a dot may follow ("Abs.")."""
    dial_words: tuple[str, ...] = ()
    """Words right before a short number that is dialled ("Call 911", "Notruf 110"): read digit by digit, not "nine
    hundred and eleven" (lower case, whole words; a colon may follow)."""
    feet: Forms = ()
    """``6'`` and ``5'7"``: the foot and the inch, said after the number ("five feet seven inches"); empty: left."""
    inches: Forms = ()
    magnitudes: dict[str, Forms] = field(default_factory=dict)
    """Short forms of a power of a thousand written after a number ("10k", "$2.5M", "1B") → its word's forms; one of
    three letters or more is written apart too and with a dot ("2,5 Mio.", "3 Mrd"). Feminine ones are named in
    ``feminine`` ("eine Million")."""
    day_words: tuple[str, ...] = ()
    """Words (lower case) after which a day without its year is a date at a sentence's end ("Montag 3.11.", "Termin
    3.11."): after another capitalised word, a name, it is a version there ("Python 3.11.", "Kernel 6.8.")."""
    per_words: dict[str, str] = field(default_factory=dict)
    """What a price is per besides units, as written after its "/" → said ("$19.99/mo" → "… per month")."""
    formula_words: dict[str, str] = field(default_factory=dict)
    """Words of formulas (``formulas``): "over" for a fraction, "sqrt", "2" and "3" (squared, cubed), "power", and
    LaTeX commands by name ("infty", "div", "sum")."""
    weekdays: dict[str, str] = field(default_factory=dict)
    """Short forms of the days of the week → their names, read in a range ("Mo.–Fr.", "Mon-Fri": "Montag bis
    Freitag") or before a number or comma ("Sa. 10–14 Uhr"); one of two letters only with its dot there."""
    date_endings: tuple[str, ...] = ()
    """Endings (lower case) of nouns that name an event or a deadline, after which a day without its year at a
    sentence's end is a date too ("Lieferung 3.11.", "Abgabetermin 3.11."), where a product's name is a version
    ("Python 3.11.", "Version 3.11.")."""
    numbered_nouns: tuple[str, ...] = ()
    """Endings of nouns with ``date_endings``' endings that number a part of a text ("Abbildung 3.11.", "Übung 3.11.":
    a section's number, read as a version)."""
    arrows: tuple[str, str] | None = None
    """What ``a → b`` and ``a ← b`` (``->``, ``=>``, ``<-``) are said as between two words ("to", "from"); None: a
    pause (a comma), where no one word reads well for every use (a route, a menu path, a change of state)."""
    extra: dict[str, str] = field(default_factory=dict)

    def form(self, forms: Forms, n: float) -> str:
        """The noun form that goes with ``n``."""
        if not forms:
            return ""
        return forms[min(self.plural(n), len(forms) - 1)]


TIME_ZONES = (
    *("UTC", "GMT", "CET", "CEST", "MEZ", "MESZ", "WET", "WEST", "WEZ", "WESZ", "EET", "EEST", "OEZ", "OESZ", "BST"),
    *("IST", "EST", "EDT", "CST", "CDT", "MST", "MDT", "PST", "PDT", "AKST", "AKDT", "HST", "AEST", "AEDT", "ACST"),
    *("AWST", "JST", "KST", "ET", "CT", "MT", "PT"),
)
"""Time zones' short forms, as written after a time ("3 PM EST", "20:45 Uhr MESZ")."""

PRODUCT_NAMES: tuple[str, ...] = (
    "Python", "Node", "Node.js", "iOS", "iPadOS", "watchOS", "Android", "macOS", "Ubuntu", "Debian", "Fedora",
    "Firefox", "Chrome", "Safari", "Java", "PHP", "Kotlin", "Rust", "Swift", "Ruby", "Perl", "Linux", "Kernel",
    "Windows", "Django", "React", "Angular", "Docker", "PostgreSQL", "MySQL", "Home Assistant", "ESPHome",
    "Zigbee2MQTT", "Bluetooth", "Matter", "Thread", "HTTP", "TLS", "USB", "HDMI", "Raspbian", "Alpine",
)  # fmt: skip
"""Software and standards after whose name "N.NN" is a version in every language ("Python 3.12": "three dot
twelve", was "three point one two"); not "Go" (a verb: "Go 2.5 miles"); a unit after the number keeps it a measure."""

_MONTHS_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

LANGS: dict[str, Lang] = {
    "en": Lang(
        code="en",
        decimal_word="point",
        digit_decimals=True,
        minus="minus",
        plus="plus",
        percent=("percent", "percent"),
        degree=("degree", "degrees"),
        celsius="Celsius",
        fahrenheit="Fahrenheit",
        and_word="and",
        or_word="or",
        dot="dot",
        section_words=("Version", "version", "Versions", "Release", "release", "Update", "Firmware", "v"),
        at="at",
        number="number",
        per="per",
        to="to",
        per_words={
            "mo": "month",
            "month": "month",
            "yr": "year",
            "year": "year",
            "day": "day",
            "wk": "week",
            "week": "week",
            "hr": "hour",
            "hour": "hour",
            "night": "night",
            "person": "person",
            "user": "user",
            "seat": "seat",
            "piece": "piece",
            "dozen": "dozen",  # "$3.99/dozen" (was left as written)
            "pack": "pack",
            # A market's and a shop's prices ("$73.40/barrel", "$12/share", "$5/ticket"): were left as written.
            "barrel": "barrel",
            "share": "share",
            "ticket": "ticket",
            "bottle": "bottle",
            "box": "box",
            "bag": "bag",
        },  # fmt: skip
        relations={
            "≥": "at least",
            "≤": "at most",
            "≠": "not equal to",
            ">": "more than",
            "<": "less than",
            "=": "equals",
            "≈": "about",
            "±": "plus or minus",
        },
        month_abbreviations=("jan", "feb", "mar", "apr", "", "jun", "jul", "aug", "sep|sept", "oct", "nov", "dec"),
        months=tuple(_MONTHS_EN),
        units={
            "km/h": ("kilometer per hour", "kilometers per hour"),
            "mph": ("mile per hour", "miles per hour"),
            "m/s²": ("meter per second squared", "meters per second squared"),
            "m/s": ("meter per second", "meters per second"),
            "kWh": ("kilowatt hour", "kilowatt hours"),
            "Wh": ("watt hour", "watt hours"),
            "MW": ("megawatt", "megawatts"),
            "kW": ("kilowatt", "kilowatts"),
            "W": ("watt", "watts"),
            "V": ("volt", "volts"),
            "mA": ("milliamp", "milliamps"),
            "km": ("kilometer", "kilometers"),
            "cm": ("centimeter", "centimeters"),
            "mm": ("millimeter", "millimeters"),
            "km²": ("square kilometer", "square kilometers"),
            "cm²": ("square centimeter", "square centimeters"),
            "mm²": ("square millimeter", "square millimeters"),
            "cm³": ("cubic centimeter", "cubic centimeters"),
            "m²": ("square meter", "square meters"),
            "m³": ("cubic meter", "cubic meters"),
            "m": ("meter", "meters"),
            "kg": ("kilogram", "kilograms"),
            "mg": ("milligram", "milligrams"),
            "g": ("gram", "grams"),
            "ml": ("milliliter", "milliliters"),
            "h": ("hour", "hours"),
            "min": ("minute", "minutes"),
            "ms": ("millisecond", "milliseconds"),
            "s": ("second", "seconds"),
            "wk": ("week", "weeks"),
            "GB": ("gigabyte", "gigabytes"),
            "MB": ("megabyte", "megabytes"),
            "TB": ("terabyte", "terabytes"),
            "kB": ("kilobyte", "kilobytes"),
            "Mbps": ("megabit per second", "megabits per second"),
            "Gbps": ("gigabit per second", "gigabits per second"),
            "GHz": ("gigahertz", "gigahertz"),
            "MHz": ("megahertz", "megahertz"),
            "hPa": ("hectopascal", "hectopascals"),
            "dB": ("decibel", "decibels"),
            "lx": ("lux", "lux"),
            "µg/m³": ("microgram per cubic meter", "micrograms per cubic meter"),
            "µg": ("microgram", "micrograms"),
            "ppm": ("part per million", "parts per million"),
            "mmHg": ("millimeter of mercury", "millimeters of mercury"),
            # What assistants write of data rates, batteries, food, and US measures (espeak: "M B slash s", "m a h",
            # "k cal", "five ell", "ell bees", "oh zed", "f t", "mee").
            "MB/s": ("megabyte per second", "megabytes per second"),
            "GB/s": ("gigabyte per second", "gigabytes per second"),
            "kB/s": ("kilobyte per second", "kilobytes per second"),
            "kHz": ("kilohertz", "kilohertz"),
            "Hz": ("hertz", "hertz"),
            "mAh": ("milliamp hour", "milliamp hours"),
            "kcal": ("kilocalorie", "kilocalories"),
            "l": ("liter", "liters"),
            "ct": ("cent", "cents"),
            "lb": ("pound", "pounds"),
            "oz": ("ounce", "ounces"),
            "ft": ("foot", "feet"),
            "mi": ("mile", "miles"),
            "tsp": ("teaspoon", "teaspoons"),
            "gal": ("gallon", "gallons"),
            "qt": ("quart", "quarts"),
            "tbsp": ("tablespoon", "tablespoons"),
            # A loan's years and a box score's counts ("30 yrs", "28 pts, 10 reb, 7 ast"): espeak said "yur", "p t
            # s", "reb", "ast".
            "yr": ("year", "years"),
            # A forecast's, a game's and a disk's ("30.12 inHg", "112 yds", "1.2 GiB", "VOC 150 ppb"): left as written.
            "inHg": ("inch of mercury", "inches of mercury"),
            "yd": ("yard", "yards"),
            "ppb": ("part per billion", "parts per billion"),
            "bps": ("basis point", "basis points"),
            "pkg": ("package", "packages"),
            "cal": ("calorie", "calories"),  # "320 cal", "32 mpg" (espeak: "cal", "m p g")
            "mpg": ("mile per gallon", "miles per gallon"),  # a rate's change: "cut by 25 bps" (espeak: "b p s")
            "GiB": ("gibibyte", "gibibytes"),
            "MiB": ("mebibyte", "mebibytes"),
            "TiB": ("tebibyte", "tebibytes"),
            "pts": ("point", "points"),
            "reb": ("rebound", "rebounds"),
            "ast": ("assist", "assists"),
        },
        currencies={
            "EUR": (("euro", "euros"), ("cent", "cents")),
            "USD": (("dollar", "dollars"), ("cent", "cents")),
            "GBP": (("pound", "pounds"), ("penny", "pence")),
            "CHF": (("Swiss franc", "Swiss francs"), ("centime", "centimes")),
            "JPY": (("yen", "yen"), ("sen", "sen")),
        },
        date_order="MDY",
        # Short forms espeak spells out ("hrs" "h r s", "wks" "w k s") or reads as a word ("sec"); with their dot,
        # which goes where the sentence goes on ("a 5 min. drive" kept "five minute. drive").
        aliases={
            "sec": "s",
            "secs": "s",
            "hr": "h",
            "hrs": "h",
            "mins": "min",
            "wks": "wk",
            "sec.": "s",
            "secs.": "s",
            "min.": "min",
            "mins.": "min",
            "hr.": "h",
            "hrs.": "h",
            "L": "l",
            "mL": "ml",
            "lbs": "lb",
            "yrs": "yr",
            "yds": "yd",
            "pkgs": "pkg",
            "Mb/s": "Mbps",
        },
        magnitudes={
            "k": ("thousand", "thousand"),
            "K": ("thousand", "thousand"),  # "1234K rows" (was "twelve thirty-fourK"); "4K video" stays
            "M": ("million", "million"),
            "B": ("billion", "billion"),
            "bn": ("billion", "billion"),
            "T": ("trillion", "trillion"),  # "$3.5T" (was "three dollars and fifty centsT")
            "tn": ("trillion", "trillion"),
        },
        # "est." before a year is "established" (symbols.abbreviations), else "estimated" ("EPS est. $0.75").
        # "d." between two names is a result's "defeated" ("Sinner d. Alcaraz"), before a year "died".
        abbreviations={
            "approx": "approximately",
            "vs": "versus",
            "etc": "et cetera",
            "est": "estimated",
            "d": "defeated",
        },
        formula_words={
            "over": "over",
            "sqrt": "the square root of",
            "2": "squared",
            "3": "cubed",
            "power": "to the power of",
            "infty": "infinity",
            "div": "divided by",
            "sum": "the sum of",
            "int": "the integral of",
        },  # fmt: skip
        weekdays={
            "Mon": "Monday",
            "Tue": "Tuesday",
            "Tues": "Tuesday",
            "Wed": "Wednesday",
            "Thu": "Thursday",
            "Thur": "Thursday",
            "Thurs": "Thursday",
            "Fri": "Friday",
            "Sat": "Saturday",
            "Sun": "Sunday",
        },  # fmt: skip
        extra={
            "oclock": "o'clock",
            "oh": "oh",
            "am": "a m",
            "pm": "p m",
            "times": "times",
            "by": "by",
            "divided": "divided by",
            "over": "over",
        },
        # A PIN or a passcode is said digit by digit too ("PIN 4821" was "four thousand eight hundred and twenty-one").
        dial_words=(
            "call",
            "dial",
            "text",
            "phone",
            "ring",
            "tel",
            "hotline",
            "emergency",
            "police",
            "ambulance",
            "PIN",
            "passcode",
        ),  # fmt: skip
        phone_words=(
            "call",
            "calls",
            "called",
            "calling",
            "phone",
            "phoned",
            "telephone",
            "tel",
            "dial",
            "fax",
            "mobile",
            "cell",
            "text",
            "hotline",
            "number",
        ),
        feet=("foot", "feet"),
        inches=("inch", "inches"),
        arrows=("to", "from"),
    ),
    "de": Lang(
        code="de",
        decimal_word="Komma",
        digit_decimals=True,
        minus="minus",
        plus="plus",
        percent=("Prozent", "Prozent"),
        degree=("Grad", "Grad"),
        celsius="Celsius",
        fahrenheit="Fahrenheit",
        and_word="und",
        or_word="oder",
        dot="Punkt",
        at="at",
        number="Nummer",
        per="pro",
        to="bis",
        per_words={
            "Monat": "Monat",
            "Mon.": "Monat",
            "Mo.": "Monat",
            "Jahr": "Jahr",
            "Tag": "Tag",
            "Woche": "Woche",
            "Stunde": "Stunde",
            "Nacht": "Nacht",
            "Person": "Person",
            "Stück": "Stück",
            "Stk.": "Stück",
            "Packung": "Packung",
            "Pck.": "Packung",
            "Dutzend": "Dutzend",
            # "73,40 $/Barrel", "2,20 €/Aktie" (were "Dollar vierzig oder Barrel").
            "Barrel": "Barrel",
            "Aktie": "Aktie",
            "Ticket": "Ticket",
            "Flasche": "Flasche",
            "Kiste": "Kiste",
        },  # fmt: skip
        relations={
            "≥": "mindestens",
            "≤": "höchstens",
            "≠": "ungleich",
            ">": "mehr als",
            "<": "weniger als",
            "=": "gleich",
            "≈": "etwa",
            "±": "plus minus",
        },
        month_abbreviations=("jan", "feb|febr", "mär", "apr", "", "jun", "jul", "aug", "sep|sept", "okt", "nov", "dez"),
        months=tuple(
            [
                "Januar",
                "Februar",
                "März",
                "April",
                "Mai",
                "Juni",
                "Juli",
                "August",
                "September",
                "Oktober",
                "November",
                "Dezember",
            ]
        ),
        units={
            "km/h": ("Kilometer pro Stunde", "Kilometer pro Stunde"),
            "m/s²": ("Meter pro Sekunde zum Quadrat", "Meter pro Sekunde zum Quadrat"),
            "m/s": ("Meter pro Sekunde", "Meter pro Sekunde"),
            "kWh": ("Kilowattstunde", "Kilowattstunden"),
            "Wh": ("Wattstunde", "Wattstunden"),
            "MW": ("Megawatt", "Megawatt"),
            "kW": ("Kilowatt", "Kilowatt"),
            "W": ("Watt", "Watt"),
            "V": ("Volt", "Volt"),
            "mA": ("Milliampere", "Milliampere"),
            "km": ("Kilometer", "Kilometer"),
            "cm": ("Zentimeter", "Zentimeter"),
            "mm": ("Millimeter", "Millimeter"),
            "km²": ("Quadratkilometer", "Quadratkilometer"),
            "cm²": ("Quadratzentimeter", "Quadratzentimeter"),
            "mm²": ("Quadratmillimeter", "Quadratmillimeter"),
            "cm³": ("Kubikzentimeter", "Kubikzentimeter"),
            "m²": ("Quadratmeter", "Quadratmeter"),
            "m³": ("Kubikmeter", "Kubikmeter"),
            "m": ("Meter", "Meter"),
            "kg": ("Kilogramm", "Kilogramm"),
            "mg": ("Milligramm", "Milligramm"),
            "g": ("Gramm", "Gramm"),
            "ml": ("Milliliter", "Milliliter"),
            "h": ("Stunde", "Stunden"),
            "min": ("Minute", "Minuten"),
            "ms": ("Millisekunde", "Millisekunden"),
            "s": ("Sekunde", "Sekunden"),
            "GB": ("Gigabyte", "Gigabyte"),
            "MB": ("Megabyte", "Megabyte"),
            "TB": ("Terabyte", "Terabyte"),
            "kB": ("Kilobyte", "Kilobyte"),
            "Mbit/s": ("Megabit pro Sekunde", "Megabit pro Sekunde"),
            "Gbit/s": ("Gigabit pro Sekunde", "Gigabit pro Sekunde"),
            "GHz": ("Gigahertz", "Gigahertz"),
            "MHz": ("Megahertz", "Megahertz"),
            "hPa": ("Hektopascal", "Hektopascal"),
            "dB": ("Dezibel", "Dezibel"),
            "lx": ("Lux", "Lux"),
            "µg/m³": ("Mikrogramm pro Kubikmeter", "Mikrogramm pro Kubikmeter"),
            "µg": ("Mikrogramm", "Mikrogramm"),
            "ppm": ("ppm", "ppm"),
            "mmHg": ("Millimeter Quecksilbersäule", "Millimeter Quecksilbersäule"),
            "GiB": ("Gibibyte", "Gibibyte"),
            "U/min": ("Umdrehung pro Minute", "Umdrehungen pro Minute"),  # a washer's "1.400 U/min" (was "U oder min")
            "MB/s": ("Megabyte pro Sekunde", "Megabyte pro Sekunde"),
            "GB/s": ("Gigabyte pro Sekunde", "Gigabyte pro Sekunde"),
            "kB/s": ("Kilobyte pro Sekunde", "Kilobyte pro Sekunde"),
            "kHz": ("Kilohertz", "Kilohertz"),
            "Hz": ("Hertz", "Hertz"),
            "mAh": ("Milliamperestunde", "Milliamperestunden"),
            "kcal": ("Kilokalorie", "Kilokalorien"),
            "l": ("Liter", "Liter"),
            "TL": ("Teelöffel", "Teelöffel"),
            "EL": ("Esslöffel", "Esslöffel"),
            "Stk": ("Stück", "Stück"),
            # A recipe's or a score's short forms with their dot ("2 Pck. Vanillezucker", "1 Gl. Honig", "3 Pkt."):
            # espeak spelled "P K T" and read "Gl." "gell".
            "Pck": ("Packung", "Packungen"),
            "Gl": ("Glas", "Gläser"),
            "Pkt": ("Punkt", "Punkte"),
            "Pers": ("Person", "Personen"),  # a recipe's "Für 4 Pers.:" (espeak: "pers")
            "Msp": ("Messerspitze", "Messerspitzen"),  # "3 Msp. Muskat", "12 Wdh." (espeak spelled them)
            "Wdh": ("Wiederholung", "Wiederholungen"),
            "ct": ("Cent", "Cent"),
        },
        currencies={
            "EUR": (("Euro", "Euro"), ("Cent", "Cent")),
            "USD": (("Dollar", "Dollar"), ("Cent", "Cent")),
            "GBP": (("Pfund", "Pfund"), ("Penny", "Pence")),
            "CHF": (("Franken", "Franken"), ("Rappen", "Rappen")),
            "JPY": (("Yen", "Yen"), ("Sen", "Sen")),
        },
        hour=("Uhr", "Uhr"),
        extra={"times": "mal", "by": "mal", "divided": "geteilt durch", "over": "zu"},
        # "Mio.", "Mrd.", "Tsd." were left as written: espeak said "eins Mio." and spelled "M R D", "T S D".
        magnitudes={
            "k": ("tausend", "tausend"),
            "Tsd": ("Tausend", "Tausend"),
            "Mio": ("Million", "Millionen"),
            "Mrd": ("Milliarde", "Milliarden"),
        },
        feminine=frozenset(
            {"h", "min", "kWh", "Wh", "ms", "s", "Mio", "Mrd", "mAh", "kcal", "Pck", "Pers", "Msp", "Wdh"}
        ),
        # "Std." was spelled out "S T D"; "Sek." and "Min." were read as words ("Seek", "Mien").
        aliases={
            "Sek.": "s",
            "Std.": "h",
            "Min.": "min",
            "Sek": "s",
            "Std": "h",
            "Min": "min",
            "Stk.": "Stk",
            "Pck.": "Pck",
            "Gl.": "Gl",
            "Pkt.": "Pkt",
            "Pers.": "Pers",
            "Pkg.": "Pck",
            "Msp.": "Msp",
            "Wdh.": "Wdh",
            "Mbps": "Mbit/s",
            "Mb/s": "Mbit/s",
            "Gbps": "Gbit/s",
            "L": "l",
            "mL": "ml",
        },
        formula_words={
            "over": "durch",
            "sqrt": "die Wurzel aus",
            "2": "hoch zwei",
            "3": "hoch drei",
            "power": "hoch",
            "infty": "unendlich",
            "div": "geteilt durch",
            "sum": "die Summe",
            "int": "das Integral",
        },  # fmt: skip
        weekdays={
            "Mo": "Montag",
            "Di": "Dienstag",
            "Mi": "Mittwoch",
            "Do": "Donnerstag",
            "Fr": "Freitag",
            "Sa": "Samstag",
            "So": "Sonntag",
        },  # fmt: skip
        abbreviations={
            "bzw": "beziehungsweise",
            "zzgl": "zuzüglich",
            "mwst": "Mehrwertsteuer",
            "usw": "und so weiter",
            "ca": "zirka",
            "ggf": "gegebenenfalls",
            "inkl": "inklusive",
            "evtl": "eventuell",
            "vgl": "vergleiche",
            "bspw": "beispielsweise",
            # Travel, schedules and finance ("Ri. München", "voraussichtl. am Do.", "3,5 % p. a."): espeak said "ri",
            # "foraus-zichtl", "pe a".
            "ri": "Richtung",
            "voraussichtl": "voraussichtlich",
            "tägl": "täglich",
            "mind": "mindestens",
            "ggü": "gegenüber",
            "gg": "gegen",  # a fixture's: "der FC gg. Union"
            # Of several parts (their dots as written, spaces or none: "z. B.", "z.B."); espeak spelled them.
            "z.b": "zum Beispiel",
            "d.h": "das heißt",
            "u.a": "unter anderem",
            "z.t": "zum Teil",
            "u.u": "unter Umständen",
            "v.a": "vor allem",
            "o.ä": "oder Ähnliches",
            "u.ä": "und Ähnliches",
            "i.d.r": "in der Regel",
            "s.o": "siehe oben",
            "s.u": "siehe unten",
            "z.zt": "zurzeit",
            "u.v.m": "und vieles mehr",
            "v.chr": "vor Christus",
            "n.chr": "nach Christus",
            "n.v": "nach Verlängerung",  # a score's: "1:0 n. V."
            "n.e": "nach Elfmeterschießen",
            "p.p": "pro Person",  # a price's: "25 € p. P."
            "p.a": "pro Jahr",  # an interest rate's: "3,5 % p. a."
            "zw": "zwischen",
            "u": "und",  # "Kaffee u. Kuchen" (was "Kaffee u." / "Kuchen")
        },
        dial_words=(
            "ruf",
            "rufe",
            "rufen",
            "wähle",
            "wählen",
            "wählt",
            "tel",
            "telefon",
            "hotline",
            "notruf",
            "notrufnummer",
            "polizei",
            "feuerwehr",
            "rettungsdienst",
            "PIN",
        ),  # fmt: skip
        phone_words=(
            "ruf",
            "rufen",
            "anrufen",
            "tel",
            "telefon",
            "telefonnummer",
            "handy",
            "mobil",
            "fax",
            "nummer",
            "hotline",
            "wählen",
            "wähle",
        ),
        feet=("Fuß", "Fuß"),
        inches=("Zoll", "Zoll"),
        day_words=(
            "montag",
            "dienstag",
            "mittwoch",
            "donnerstag",
            "freitag",
            "samstag",
            "sonnabend",
            "sonntag",
            "mo",
            "di",
            "mi",
            "do",
            "fr",
            "sa",
            "so",
            "heute",
            "morgen",
            "gestern",
            "datum",
            "termin",
            "stichtag",
            "frist",
        ),  # fmt: skip
        date_endings=(
            "ung",
            "ungen",
            "tag",
            "tage",
            "termin",
            "termine",
            "datum",
            "frist",
            "fristen",
            "schluss",
            "beginn",
            "ende",
            "start",
            "abgabe",
            "abfahrt",
            "ankunft",
            "treffen",
            "feier",
            "fest",
            "urlaub",
            "ferien",
            "versand",
            "eingang",
            "stand",
            "deadline",
            "markt",
            "messe",
            "party",
            "konzert",
        ),  # fmt: skip
        numbered_nouns=("bildung", "übung", "gleichung", "lösung", "zeichnung", "ordnung", "darstellung"),
        section_words=(
            "Version",
            "Versionen",
            "Update",
            "Firmware",
            "Kapitel",
            "Abschnitt",
            "Abschnitte",
            "Absätze",
            "Tabellen",
            "Abbildungen",
            "Abschn.",
            "Paragraph",
            "Paragraf",
            "§",
            "§§",
            "Absatz",
            "Abs.",
            "Anhang",
            "Anlage",
            "Tabelle",
            "Tab.",
            "Abbildung",
            "Abb.",
            "Schritt",
            "Ziffer",
            "Punkt",
            "Teil",
            "Gleichung",
            "Formel",
            "Aufgabe",
            "Übung",
            "Folie",
            "Kap.",
        ),  # fmt: skip
    ),
    "fr": Lang(
        code="fr",
        decimal_word="virgule",
        digit_decimals=False,
        minus="moins",
        plus="plus",
        percent=("pour cent", "pour cent"),
        degree=("degré", "degrés"),
        celsius="Celsius",
        fahrenheit="Fahrenheit",
        and_word="et",
        or_word="ou",
        dot="point",
        at="arobase",
        number="numéro",
        per="par",
        per_words={
            "mois": "mois",
            "an": "an",
            "jour": "jour",
            "semaine": "semaine",
            "heure": "heure",
            "nuit": "nuit",
            "personne": "personne",
            "pers.": "personne",
        },  # fmt: skip
        to="à",
        relations={
            "≥": "au moins",
            "≤": "au plus",
            "≠": "différent de",
            ">": "plus de",
            "<": "moins de",
            "=": "égal à",
            "≈": "environ",
            "±": "plus ou moins",
        },
        month_abbreviations=("janv", "févr|fév", "", "avr", "", "", "juil", "", "sept", "oct", "nov", "déc"),
        months=tuple(
            [
                "janvier",
                "février",
                "mars",
                "avril",
                "mai",
                "juin",
                "juillet",
                "août",
                "septembre",
                "octobre",
                "novembre",
                "décembre",
            ]
        ),
        units={
            "km/h": ("kilomètre par heure", "kilomètres par heure"),
            "m/s": ("mètre par seconde", "mètres par seconde"),
            "kWh": ("kilowattheure", "kilowattheures"),
            "Wh": ("wattheure", "wattheures"),
            "MW": ("mégawatt", "mégawatts"),
            "kW": ("kilowatt", "kilowatts"),
            "W": ("watt", "watts"),
            "V": ("volt", "volts"),
            "mA": ("milliampère", "milliampères"),
            "km": ("kilomètre", "kilomètres"),
            "cm": ("centimètre", "centimètres"),
            "mm": ("millimètre", "millimètres"),
            "m²": ("mètre carré", "mètres carrés"),
            "m³": ("mètre cube", "mètres cubes"),
            "m": ("mètre", "mètres"),
            "kg": ("kilogramme", "kilogrammes"),
            "mg": ("milligramme", "milligrammes"),
            "g": ("gramme", "grammes"),
            "ml": ("millilitre", "millilitres"),
            "h": ("heure", "heures"),
            "min": ("minute", "minutes"),
            "ms": ("milliseconde", "millisecondes"),
            "s": ("seconde", "secondes"),
            "GB": ("gigaoctet", "gigaoctets"),
            "MB": ("mégaoctet", "mégaoctets"),
            "TB": ("téraoctet", "téraoctets"),
            "hPa": ("hectopascal", "hectopascals"),
            "dB": ("décibel", "décibels"),
            "lx": ("lux", "lux"),
            "µg/m³": ("microgramme par mètre cube", "microgrammes par mètre cube"),
            "µg": ("microgramme", "microgrammes"),
            "ppm": ("ppm", "ppm"),
        },
        currencies={
            "EUR": (("euro", "euros"), ("centime", "centimes")),
            "USD": (("dollar", "dollars"), ("cent", "cents")),
            "GBP": (("livre", "livres"), ("penny", "pence")),
            "CHF": (("franc suisse", "francs suisses"), ("centime", "centimes")),
            "JPY": (("yen", "yens"), ("sen", "sen")),
        },
        hour=("heure", "heures"),
        plural=_plural_french,
        feminine=frozenset({"h", "min", "ms", "s", "hour", "GBP"}),
        # "et cetera" is "é sétéra" to espeak; "etcétéra" is the spelling (1990) said as "etc." is.
        abbreviations={"env": "environ", "etc": "etcétéra"},
        phone_words=("appelez", "appeler", "appelle", "tél", "tel", "téléphone", "numéro", "portable", "fax"),
        feet=("pied", "pieds"),
        inches=("pouce", "pouces"),
    ),
    "es": Lang(
        code="es",
        decimal_word="coma",
        digit_decimals=False,
        minus="menos",
        plus="más",
        percent=("por ciento", "por ciento"),
        degree=("grado", "grados"),
        celsius="Celsius",
        fahrenheit="Fahrenheit",
        and_word="y",
        or_word="o",
        dot="punto",
        at="arroba",
        number="número",
        per="por",
        per_words={
            "mes": "mes",
            "año": "año",
            "día": "día",
            "semana": "semana",
            "hora": "hora",
            "noche": "noche",
            "persona": "persona",
        },  # fmt: skip
        to="a",
        relations={
            "≥": "al menos",
            "≤": "como máximo",
            "≠": "distinto de",
            ">": "más de",
            "<": "menos de",
            "=": "igual a",
            "≈": "aproximadamente",
            "±": "más o menos",
        },
        month_abbreviations=("ene", "feb", "", "abr", "", "jun", "jul", "ago", "sep|sept", "oct", "nov", "dic"),
        months=tuple(
            [
                "enero",
                "febrero",
                "marzo",
                "abril",
                "mayo",
                "junio",
                "julio",
                "agosto",
                "septiembre",
                "octubre",
                "noviembre",
                "diciembre",
            ]
        ),
        units={
            "km/h": ("kilómetro por hora", "kilómetros por hora"),
            "m/s": ("metro por segundo", "metros por segundo"),
            "kWh": ("kilovatio hora", "kilovatios hora"),
            "Wh": ("vatio hora", "vatios hora"),
            "MW": ("megavatio", "megavatios"),
            "kW": ("kilovatio", "kilovatios"),
            "W": ("vatio", "vatios"),
            "V": ("voltio", "voltios"),
            "mA": ("miliamperio", "miliamperios"),
            "km": ("kilómetro", "kilómetros"),
            "cm": ("centímetro", "centímetros"),
            "mm": ("milímetro", "milímetros"),
            "m²": ("metro cuadrado", "metros cuadrados"),
            "m³": ("metro cúbico", "metros cúbicos"),
            "m": ("metro", "metros"),
            "kg": ("kilogramo", "kilogramos"),
            "mg": ("miligramo", "miligramos"),
            "g": ("gramo", "gramos"),
            "ml": ("mililitro", "mililitros"),
            "h": ("hora", "horas"),
            "min": ("minuto", "minutos"),
            "ms": ("milisegundo", "milisegundos"),
            "s": ("segundo", "segundos"),
            "GB": ("gigabyte", "gigabytes"),
            "MB": ("megabyte", "megabytes"),
            "TB": ("terabyte", "terabytes"),
            "hPa": ("hectopascal", "hectopascales"),
            "dB": ("decibelio", "decibelios"),
            "lx": ("lux", "lux"),
            "µg/m³": ("microgramo por metro cúbico", "microgramos por metro cúbico"),
            "µg": ("microgramo", "microgramos"),
            "ppm": ("ppm", "ppm"),
        },
        currencies={
            "EUR": (("euro", "euros"), ("céntimo", "céntimos")),
            "USD": (("dólar", "dólares"), ("centavo", "centavos")),
            "GBP": (("libra", "libras"), ("penique", "peniques")),
            "CHF": (("franco suizo", "francos suizos"), ("céntimo", "céntimos")),
            "JPY": (("yen", "yenes"), ("sen", "sen")),
        },
        feminine=frozenset({"h", "hour", "GBP", "in"}),
        abbreviations={"aprox": "aproximadamente", "etc": "etcétera"},
        phone_words=("llame", "llama", "llamar", "tel", "teléfono", "número", "móvil", "celular", "fax"),
        feet=("pie", "pies"),
        inches=("pulgada", "pulgadas"),
    ),
    "fi": Lang(
        code="fi",
        decimal_word="pilkku",
        digit_decimals=True,
        minus="miinus",
        plus="plus",
        percent=("prosentti", "prosenttia"),
        degree=("aste", "astetta"),
        celsius="celsiusta",
        fahrenheit="fahrenheitia",
        and_word="ja",
        or_word="tai",
        dot="piste",
        at="ät",
        number="numero",
        per="per",
        to=None,
        relations={
            "≥": "vähintään",
            "≤": "enintään",
            "≠": "erisuuri kuin",
            ">": "yli",
            "<": "alle",
            "=": "yhtä kuin",
            "≈": "noin",
            "±": "plus miinus",
        },
        month_abbreviations=(
            "tammik",
            "helmik",
            "maalisk",
            "huhtik",
            "toukok",
            "kesäk",
            "heinäk",
            "elok",
            "syysk",
            "lokak",
            "marrask",
            "jouluk",
        ),
        months=tuple(
            [
                "tammikuuta",
                "helmikuuta",
                "maaliskuuta",
                "huhtikuuta",
                "toukokuuta",
                "kesäkuuta",
                "heinäkuuta",
                "elokuuta",
                "syyskuuta",
                "lokakuuta",
                "marraskuuta",
                "joulukuuta",
            ]
        ),
        units={
            "km/h": ("kilometri tunnissa", "kilometriä tunnissa"),
            "m/s": ("metri sekunnissa", "metriä sekunnissa"),
            "kWh": ("kilowattitunti", "kilowattituntia"),
            "Wh": ("wattitunti", "wattituntia"),
            "MW": ("megawatti", "megawattia"),
            "kW": ("kilowatti", "kilowattia"),
            "W": ("watti", "wattia"),
            "V": ("voltti", "volttia"),
            "mA": ("milliampeeri", "milliampeeria"),
            "km": ("kilometri", "kilometriä"),
            "cm": ("senttimetri", "senttimetriä"),
            "mm": ("millimetri", "millimetriä"),
            "m²": ("neliömetri", "neliömetriä"),
            "m³": ("kuutiometri", "kuutiometriä"),
            "m": ("metri", "metriä"),
            "kg": ("kilogramma", "kilogrammaa"),
            "mg": ("milligramma", "milligrammaa"),
            "g": ("gramma", "grammaa"),
            "ml": ("millilitra", "millilitraa"),
            "h": ("tunti", "tuntia"),
            "min": ("minuutti", "minuuttia"),
            "ms": ("millisekunti", "millisekuntia"),
            "s": ("sekunti", "sekuntia"),
            "GB": ("gigatavu", "gigatavua"),
            "MB": ("megatavu", "megatavua"),
            "TB": ("teratavu", "teratavua"),
            "hPa": ("hehtopascal", "hehtopascalia"),
            "dB": ("desibeli", "desibeliä"),
            "lx": ("luksi", "luksia"),
            "µg/m³": ("mikrogramma kuutiometrissä", "mikrogrammaa kuutiometrissä"),
            "µg": ("mikrogramma", "mikrogrammaa"),
            "ppm": ("ppm", "ppm"),
        },
        currencies={
            "EUR": (("euro", "euroa"), ("sentti", "senttiä")),
            "USD": (("dollari", "dollaria"), ("sentti", "senttiä")),
            "GBP": (("punta", "puntaa"), ("penny", "pennyä")),
        },
        extra={"klo": "kello"},
        phone_words=("soita", "soittakaa", "puh", "puhelin", "puhelinnumero", "numero", "gsm"),
        feet=("jalka", "jalkaa"),
        inches=("tuuma", "tuumaa"),
        day_words=(
            "maanantai",
            "tiistai",
            "keskiviikko",
            "torstai",
            "perjantai",
            "lauantai",
            "sunnuntai",
            "ma",
            "ti",
            "ke",
            "to",
            "pe",
            "la",
            "su",
            "tänään",
            "huomenna",
            "eilen",
        ),  # fmt: skip
    ),
    "ru": Lang(
        code="ru",
        decimal_word="запятая",
        digit_decimals=False,
        minus="минус",
        plus="плюс",
        percent=("процент", "процента", "процентов"),
        degree=("градус", "градуса", "градусов"),
        celsius="по Цельсию",
        fahrenheit="по Фаренгейту",
        and_word="и",
        or_word="или",
        dot="точка",
        at="собака",
        number="номер",
        per="за",
        to=None,
        relations={
            "≥": "не меньше чем",
            "≤": "не больше чем",
            "≠": "не равно",
            ">": "больше чем",
            "<": "меньше чем",
            "=": "равно",
            "≈": "примерно",
            "±": "плюс-минус",
        },
        month_abbreviations=(
            "янв",
            "фев|февр",
            "мар",
            "апр",
            "",
            "июн",
            "июл",
            "авг",
            "сен|сент",
            "окт",
            "ноя|нояб",
            "дек",
        ),
        months=tuple(
            [
                "января",
                "февраля",
                "марта",
                "апреля",
                "мая",
                "июня",
                "июля",
                "августа",
                "сентября",
                "октября",
                "ноября",
                "декабря",
            ]
        ),
        units={
            "km/h": ("километр в час", "километра в час", "километров в час"),
            "m/s": ("метр в секунду", "метра в секунду", "метров в секунду"),
            "kWh": ("киловатт-час", "киловатт-часа", "киловатт-часов"),
            "Wh": ("ватт-час", "ватт-часа", "ватт-часов"),
            "MW": ("мегаватт", "мегаватта", "мегаватт"),
            "kW": ("киловатт", "киловатта", "киловатт"),
            "W": ("ватт", "ватта", "ватт"),
            "V": ("вольт", "вольта", "вольт"),
            "mA": ("миллиампер", "миллиампера", "миллиампер"),
            "km": ("километр", "километра", "километров"),
            "cm": ("сантиметр", "сантиметра", "сантиметров"),
            "mm": ("миллиметр", "миллиметра", "миллиметров"),
            "m²": ("квадратный метр", "квадратных метра", "квадратных метров"),
            "m³": ("кубический метр", "кубических метра", "кубических метров"),
            "m": ("метр", "метра", "метров"),
            "kg": ("килограмм", "килограмма", "килограммов"),
            "mg": ("миллиграмм", "миллиграмма", "миллиграммов"),
            "g": ("грамм", "грамма", "граммов"),
            "ml": ("миллилитр", "миллилитра", "миллилитров"),
            "h": ("час", "часа", "часов"),
            "min": ("минута", "минуты", "минут"),
            "ms": ("миллисекунда", "миллисекунды", "миллисекунд"),
            "s": ("секунда", "секунды", "секунд"),
            "GB": ("гигабайт", "гигабайта", "гигабайт"),
            "MB": ("мегабайт", "мегабайта", "мегабайт"),
            "TB": ("терабайт", "терабайта", "терабайт"),
            "hPa": ("гектопаскаль", "гектопаскаля", "гектопаскалей"),
            "dB": ("децибел", "децибела", "децибел"),
            "lx": ("люкс", "люкса", "люксов"),
            "µg/m³": (
                "микрограмм на кубический метр",
                "микрограмма на кубический метр",
                "микрограммов на кубический метр",
            ),
            "µg": ("микрограмм", "микрограмма", "микрограммов"),
            "ppm": ("ppm", "ppm", "ppm"),
        },
        currencies={
            "EUR": (("евро", "евро", "евро"), ("цент", "цента", "центов")),
            "USD": (("доллар", "доллара", "долларов"), ("цент", "цента", "центов")),
            "GBP": (("фунт", "фунта", "фунтов"), ("пенни", "пенни", "пенни")),
            "RUB": (("рубль", "рубля", "рублей"), ("копейка", "копейки", "копеек")),
        },
        hour=("час", "часа", "часов"),
        aliases={
            "км/ч": "km/h",
            "кВт·ч": "kWh",
            "кВтч": "kWh",
            "кВт": "kW",
            "МВт": "MW",
            "Вт·ч": "Wh",
            "Вт": "W",
            "В": "V",
            "мА": "mA",
            "м/с": "m/s",
            "м³": "m³",
            "км": "km",
            "мкг/м³": "µg/m³",
            "мкг": "µg",
            "см": "cm",
            "мм": "mm",
            "м²": "m²",
            "м": "m",
            "кг": "kg",
            "мг": "mg",
            "г": "g",
            "мл": "ml",
            "ч": "h",
            "мин": "min",
            "мс": "ms",
            "ГБ": "GB",
            "МБ": "MB",
            "ТБ": "TB",
            "гПа": "hPa",
            "дБ": "dB",
        },
        plural=_plural_slavic,
        feminine=frozenset({"min", "ms", "s", "RUB.minor"}),
        phone_words=("звоните", "позвоните", "звонить", "тел", "телефон", "номер"),
        feet=("фут", "фута", "футов"),
        inches=("дюйм", "дюйма", "дюймов"),
        day_words=(
            "понедельник",
            "вторник",
            "среда",
            "четверг",
            "пятница",
            "суббота",
            "воскресенье",
            "пн",
            "вт",
            "ср",
            "чт",
            "пт",
            "сб",
            "вс",
            "сегодня",
            "завтра",
            "вчера",
        ),  # fmt: skip
    ),
}


@functools.lru_cache(maxsize=64)
def lang_for(language: str | None) -> Lang | None:
    """The table of a language (``de_AT`` → ``de``), or None where voxhost has none."""
    if not language:
        return None
    base, _, region = language.replace("-", "_").partition("_")
    lang = LANGS.get(base.lower())
    if lang is not None and lang.date_order == "MDY" and region and region.upper() != "US":
        # Only American English writes the month first in slashed dates (en_GB, en_AU: day first).
        return dataclasses.replace(lang, date_order="DMY")
    return lang
