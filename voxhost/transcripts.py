"""Comparing and cutting transcripts: normalised word error rate, and a reference cut at a word boundary.

Shared by the core (checking generated speech, refusing a transcript that does not match its audio) and by cloning
engines that use only the first seconds of a reference (cut audio and transcript together). Pure Python; the
optional ``whisper-normalizer`` package (the ``asr`` extra) gives Whisper's own English normalisation, so that
"21" and "twenty one" or "Dr." and "Doctor" agree.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .langid import primary_language

if TYPE_CHECKING:
    from .engine import Segment

WordTiming = tuple[float, float, str]
"""(start, end, word) in seconds, as a recognizer heard it."""

_LANGUAGES = (
    "en:english zh:chinese de:german es:spanish ru:russian ko:korean fr:french ja:japanese pt:portuguese "
    "tr:turkish pl:polish ca:catalan nl:dutch ar:arabic sv:swedish it:italian id:indonesian hi:hindi "
    "fi:finnish vi:vietnamese he:hebrew uk:ukrainian el:greek ms:malay cs:czech ro:romanian da:danish "
    "hu:hungarian ta:tamil no:norwegian th:thai ur:urdu hr:croatian bg:bulgarian lt:lithuanian la:latin "
    "mi:maori ml:malayalam cy:welsh sk:slovak te:telugu fa:persian lv:latvian bn:bengali sr:serbian "
    "az:azerbaijani sl:slovenian kn:kannada et:estonian mk:macedonian br:breton eu:basque is:icelandic "
    "hy:armenian ne:nepali mn:mongolian bs:bosnian kk:kazakh sq:albanian sw:swahili gl:galician "
    "mr:marathi pa:punjabi si:sinhala km:khmer sn:shona yo:yoruba so:somali af:afrikaans oc:occitan "
    "ka:georgian be:belarusian tg:tajik sd:sindhi gu:gujarati am:amharic yi:yiddish lo:lao uz:uzbek "
    "fo:faroese ht:haitian_creole ps:pashto tk:turkmen nn:nynorsk mt:maltese sa:sanskrit "
    "lb:luxembourgish my:myanmar bo:tibetan tl:tagalog mg:malagasy as:assamese tt:tatar haw:hawaiian "
    "ln:lingala ha:hausa ba:bashkir jw:javanese su:sundanese yue:cantonese"
)
LANGUAGE_NAMES: dict[str, str] = {
    code: name.replace("_", " ") for code, name in (pair.split(":") for pair in _LANGUAGES.split(" "))
}
"""Whisper's languages: code → English name (OpenAI's ``verbose_json`` names the language)."""

_SENTENCE_END = re.compile(r"[.!?。！？]['\"”’)\]]*$")


def _basic(text: str) -> str:
    """Lower case, no punctuation or symbols, single spaces (any script)."""
    text = unicodedata.normalize("NFKC", text).lower()
    kept = [c if unicodedata.category(c)[0] in "LNM" or c.isspace() else " " for c in text]
    return " ".join("".join(kept).split())


@functools.cache
def _normalizer(english: bool) -> Callable[[str], Any] | None:
    try:
        if english:
            from whisper_normalizer.english import EnglishTextNormalizer

            return EnglishTextNormalizer()  # type: ignore[no-any-return]
        from whisper_normalizer.basic import BasicTextNormalizer

        return BasicTextNormalizer()  # type: ignore[no-any-return]
    except ImportError:
        return None


def normalize(text: str, language: str | None = None) -> str:
    """Text as Whisper's evaluation normalises it (English: numbers, spellings and titles unified)."""
    english = primary_language(language or "en") == "en"
    normalizer = _normalizer(english)
    out = str(normalizer(text)) if normalizer is not None else text
    return _basic(out)


def word_errors(expected: Sequence[str], heard: Sequence[str]) -> int:
    """Word-level edit distance (substitutions, deletions and insertions)."""
    previous = list(range(len(heard) + 1))
    for i, word in enumerate(expected, 1):
        current = [i] + [0] * len(heard)
        for j, other in enumerate(heard, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != other))
        previous = current
    return previous[-1]


def wer(expected: str, heard: str, language: str | None = None) -> float:
    """Word error rate of ``heard`` against ``expected``, both normalised; 0 when both are empty."""
    reference = normalize(expected, language).split()
    hypothesis = normalize(heard, language).split()
    if not reference:
        return 0.0 if not hypothesis else 1.0
    return word_errors(reference, hypothesis) / len(reference)


# -- cutting a reference at a word boundary --------------------------------------------------------------


@dataclass(frozen=True)
class Clip:
    """Where to cut a reference, and the transcript of what is kept."""

    seconds: float
    """Keep the audio up to here."""
    transcript: str
    """The words of the kept audio."""


def _token(word: str) -> str:
    return _basic(word).replace(" ", "")


def _last_word(words: Sequence[WordTiming], limit: float) -> int:
    """Index of the last word to keep: prefer a sentence end, else the longest pause, in the second half."""
    fits = [i for i, (_, end, _) in enumerate(words) if end <= limit - 0.05]
    if not fits:
        return -1
    late = [i for i in fits if words[i][1] >= limit / 2] or fits
    stops = [i for i in late if _SENTENCE_END.search(words[i][2].strip())]
    if stops:
        return stops[-1]

    def pause(i: int) -> float:
        return (words[i + 1][0] - words[i][1]) if i + 1 < len(words) else float("inf")

    return max(late, key=lambda i: (round(pause(i), 2), i))


def _aligned_prefix(transcript: str, heard: Sequence[str], keep: int) -> str | None:
    """The part of ``transcript`` that matches the first ``keep`` heard words; None if the two hardly agree."""
    tokens = transcript.split()
    mine = [_token(t) for t in tokens]
    theirs = [_token(w) for w in heard]
    matcher = difflib.SequenceMatcher(a=theirs, b=mine, autojunk=False)
    if matcher.ratio() < 0.5:
        return None
    # Map each heard word to a transcript position; heard words between matches (e.g. "21" for "twenty one")
    # take the position after the last match before them.
    position = -1
    mapped: list[int] = []
    blocks = matcher.get_matching_blocks()
    for i in range(len(theirs)):
        for block in blocks:
            if block.a <= i < block.a + block.size:
                position = block.b + (i - block.a)
                break
            if block.a > i:
                # between matches: the transcript words up to (not including) the next match belong to them
                if i == block.a - 1:
                    position = block.b - 1
                break
        mapped.append(position)
    end = mapped[keep - 1] if keep else -1
    return " ".join(tokens[: end + 1])


def clip(
    words: Sequence[WordTiming], limit: float, transcript: str | None = None, audio_seconds: float | None = None
) -> Clip | None:
    """Where to cut a reference to at most ``limit`` seconds so that audio and transcript still match.

    ``words`` are the recognizer's word timings of the whole reference; ``transcript`` the stored transcript (the
    user's, when given: the kept part of it is found by aligning it with the heard words), else the heard words
    are the transcript. None when the reference already fits or no word ends inside the limit.
    """
    if not words:
        return None
    total = audio_seconds if audio_seconds is not None else words[-1][1]
    if total <= limit:
        return None
    last = _last_word(words, limit)
    if last < 0:
        return None
    end = words[last][1]
    after = words[last + 1][0] if last + 1 < len(words) else total
    seconds = min(limit, end + min(0.25, max(0.0, (after - end) / 2)))
    heard = [w for _, _, w in words]
    text = None
    if transcript and transcript.strip():
        text = transcript.strip() if last == len(words) - 1 else _aligned_prefix(transcript, heard, last + 1)
    if not text:
        text = " ".join(w.strip() for w in heard[: last + 1])
    return Clip(round(seconds, 3), text)


# -- subtitles ---------------------------------------------------------------------------------------------


def _timestamp(seconds: float, separator: str) -> str:
    millis = round(max(0.0, seconds) * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def subtitles(segments: Iterable[Segment], *, vtt: bool) -> str:
    """SubRip (``vtt=False``) or WebVTT cues, one per segment with text."""
    separator = "." if vtt else ","
    cues = []
    for number, segment in enumerate((s for s in segments if s.text.strip()), 1):
        timing = f"{_timestamp(segment.start, separator)} --> {_timestamp(segment.end, separator)}"
        cues.append(f"{timing}\n{segment.text.strip()}\n" if vtt else f"{number}\n{timing}\n{segment.text.strip()}\n")
    return ("WEBVTT\n\n" if vtt else "") + "\n".join(cues)
