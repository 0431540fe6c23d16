"""Formulas as a listener hears them: LaTeX spans (``$E = mc^2$``, ``$$\\frac{a}{b}$$``, ``\\(x\\)``) and powers.

Open WebUI renders LaTeX, so chat models write their formulas in it; read as written it was "E mc two dollars" and
"dollar dollar frac a b". A span's delimiters go, its commands become the language's words where it has them
(``Lang.formula_words``: "over", "squared", "the square root of"), else their names, and its braces go. An equals
sign in a formula is marked to be said wherever it stands (``symbols.relations`` says "=" only before a number).
"""

from __future__ import annotations

import re

from .langs import Lang

EQUALS = "\uff1d"
"""A formula's equals sign (a full-width one): said by ``symbols.relations`` wherever it stands."""
_SPAN = re.compile(
    r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|\\\((.+?)\\\)|(?<![\w$\\])\$(?=[^\s$\d])([^$\n]{0,400}?[^\s$\\])\$(?![\w$])"
)
"""A LaTeX span: ``$$…$$``, ``\\[…\\]``, ``\\(…\\)``, or ``$…$`` that begins with no digit and ends before no word or
digit (so "$5 and $10" is money, not a formula)."""
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_HINT = re.compile(r"\$|\\[(\[]|\^|\d[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]|\d[eE][-+]?\d|[×·]\s?10\b")
_SCIENTIFIC = re.compile(
    r"(?<![\w.,])(\d+(?:[.,]\d+)?)"
    r"(?:[eE]([-+−]?\d{1,3})|[ \u00a0]?[×x·*][ \u00a0]?10(?:\^\{?([-+−]?\d{1,3})\}?|([⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]{1,3})))"
    r"(?![\w^])"
)
"""A number in scientific notation: "1.5e6", "3×10^8", "6.02·10²³" ("one point five times ten to the power of six";
"1.5e6" was "one point five e6", "×" between numbers "by")."""
_SUPERSCRIPT = re.compile(r"(?<=[\d)])([⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]{1,3})(?![\w⁰¹²³⁴⁵⁶⁷⁸⁹])")
"""A power written in superscript after a number ("10⁸", "2¹⁰"): read as "10^8"; after a letter it is a unit's
("cm²", "m³"), which the units read."""
_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_SQRT = re.compile(r"\\sqrt\s*\{([^{}]*)\}")
_TEXT = re.compile(r"\\(?:text|mathrm|mathbf|mathit|operatorname|textbf)\s*\{([^{}]*)\}")
_POWER = re.compile(r"\^\s*(?:\{([^{}]*)\}|(\w))")
_CARET = re.compile(r"(?<=[\w)])\^(\d{1,3}|[a-z])\b")
"""A power written outside LaTeX ("x^2", "2^10"): read as one too."""
_SUBSCRIPT = re.compile(r"_\s*(?:\{([^{}]*)\}|(\w))")
_COMMAND = re.compile(r"\\([A-Za-z]+)")
_SPACING = re.compile(r"\\[,;:! ]|\\quad|\\qquad|\\left|\\right|\\displaystyle|&")
_SYMBOLS = {
    "times": "×", "cdot": "×", "pm": "±", "approx": "≈", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥",
    "ne": "≠", "neq": "≠", "to": "→", "rightarrow": "→", "Rightarrow": "⇒", "degree": "°",
}  # fmt: skip
"""Commands said as the symbol later steps read ("≈" is "about", "≥" "at least", "×" between numbers "times")."""


def present(text: str) -> bool:
    """Whether ``text`` may hold a formula or a power."""
    return _HINT.search(text) is not None


def read(text: str, lang: Lang | None) -> str:
    """``text`` with its formulas in words (and "x^2" outside them)."""
    if not present(text):
        return text
    words = lang.formula_words if lang is not None else {}
    times = lang.extra.get("times", "×") if lang is not None else "×"
    text = _SCIENTIFIC.sub(lambda m: _scientific(m, times, words), text)
    text = _SUPERSCRIPT.sub(lambda m: "^" + m.group(1).translate(_SUPERSCRIPTS), text)
    text = _SPAN.sub(lambda m: " " + _formula(next(g for g in m.groups() if g is not None), words) + " ", text)
    if "^" in text:
        text = _CARET.sub(lambda m: " " + _power(m.group(1), words), text)
    return text


def _formula(body: str, words: dict[str, str]) -> str:
    """One formula's body in words."""
    body = _SPACING.sub(" ", body)
    body = _TEXT.sub(r" \1 ", body)
    for _ in range(4):  # nested fractions and roots, innermost first
        body = _FRAC.sub(lambda m: f" {m.group(1)} {words.get('over', '/')} {m.group(2)} ", body)
        body = _SQRT.sub(lambda m: f" {words.get('sqrt', '√')} {m.group(1)} ", body)
    body = _POWER.sub(lambda m: " " + _power(m.group(1) if m.group(1) is not None else m.group(2), words), body)
    body = _SUBSCRIPT.sub(lambda m: " " + (m.group(1) if m.group(1) is not None else m.group(2)), body)
    body = _COMMAND.sub(lambda m: " " + _SYMBOLS.get(m.group(1), words.get(m.group(1), m.group(1))) + " ", body)
    body = body.replace("=", f" {EQUALS} ").replace("{", " ").replace("}", " ")
    return re.sub(r"\s+", " ", body).strip()


def _power(exponent: str, words: dict[str, str]) -> str:
    """ "^2" → "squared", "^3" → "cubed", else "to the power of n"."""
    exponent = exponent.strip()
    if exponent in ("2", "3") and exponent in words:
        return words[exponent] + " "
    return f"{words.get('power', '^')} {exponent} "


def _scientific(m: re.Match[str], times: str, words: dict[str, str]) -> str:
    """ "1.5e6" → "1.5 times 10 to the power of 6" (the numbers are read later)."""
    exponent = next(g for g in m.groups()[1:] if g is not None).translate(_SUPERSCRIPTS).replace("−", "-")
    exponent = exponent.lstrip("+")
    return f"{m.group(1)} {times} 10 " + _power(exponent, words).rstrip()
