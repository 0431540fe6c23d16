"""Comparing and cutting transcripts: normalised word error rate, and cutting a reference at a word boundary."""

from __future__ import annotations

import pytest

from voxhost.transcripts import LANGUAGE_NAMES, clip, normalize, wer, word_errors

# What a recognizer heard in a 14 s reference (times in seconds), two sentences and a half.
WORDS = (
    (0.10, 0.50, "Yesterday,"),
    (0.55, 0.90, "Doctor"),
    (0.95, 1.40, "Smith"),
    (1.45, 1.80, "paid"),
    (1.85, 2.90, "$342"),
    (2.95, 3.10, "for"),
    (3.15, 3.20, "a"),
    (3.25, 3.50, "new"),
    (3.55, 4.20, "bicycle."),
    (5.00, 5.40, "The"),
    (5.45, 5.80, "quick"),
    (5.85, 6.20, "brown"),
    (6.25, 6.60, "fox"),
    (6.65, 7.10, "jumps"),
    (7.15, 7.40, "over"),
    (7.45, 7.60, "the"),
    (7.65, 7.90, "lazy"),
    (7.95, 8.50, "dog."),
    (9.40, 9.70, "Please"),
    (9.75, 10.00, "turn"),
    (10.05, 10.20, "on"),
    (10.25, 10.40, "the"),
    (10.45, 10.90, "kitchen"),
    (10.95, 11.50, "lights,"),
    (11.70, 11.95, "and"),
    (12.00, 12.30, "set"),
    (12.35, 12.50, "the"),
    (12.55, 13.40, "thermostat."),
)


def test_normalised_wer_forgives_numbers_titles_and_punctuation():
    assert wer("Doctor Smith paid three hundred and forty two dollars.", "Dr. Smith paid $342.") == 0.0
    assert wer("Set the thermostat to twenty one degrees", "set the thermostat to 21 degrees!") == 0.0
    assert wer("Voice cloning engines", "Voice-cloning engines") == 0.0
    assert wer("Home Assistant sends audio", "Home assistance and audio") == pytest.approx(0.5)
    assert wer("", "") == 0.0 and wer("", "you") == 1.0 and wer("hello there", "") == 1.0


def test_other_languages_keep_their_letters():
    assert normalize("Grüß Gott, Straße!", "de") == "grüß gott straße"
    assert wer("Das Essen ist fertig.", "das essen ist fertig", "de") == 0.0
    assert word_errors(["a", "b", "c"], ["a", "x", "c", "d"]) == 2


def test_language_names_are_whispers():
    assert len(LANGUAGE_NAMES) == 100
    assert LANGUAGE_NAMES["en"] == "english" and LANGUAGE_NAMES["ht"] == "haitian creole"


def test_a_reference_that_fits_is_not_cut():
    assert clip(WORDS, 20.0, None, 13.5) is None
    assert clip((), 12.0, "anything", 30.0) is None


def test_the_cut_ends_a_sentence_inside_the_limit_with_the_heard_words():
    cut = clip(WORDS, 12.0, None, 14.0)
    assert cut is not None
    # The last sentence end before 12 s is "dog." (8.5 s): the cut lies in the pause after it.
    assert 8.5 < cut.seconds <= 9.4
    assert cut.transcript.endswith("lazy dog.") and "Please" not in cut.transcript


def test_the_users_transcript_is_cut_where_the_heard_words_are():
    # The user wrote the numbers out; the recognizer wrote digits. The kept part is the user's own words.
    mine = (
        "Yesterday, Doctor Smith paid three hundred and forty two dollars for a new bicycle. The quick brown fox "
        "jumps over the lazy dog. Please turn on the kitchen lights, and set the thermostat."
    )
    cut = clip(WORDS, 12.0, mine, 14.0)
    assert cut is not None
    assert cut.transcript == (
        "Yesterday, Doctor Smith paid three hundred and forty two dollars for a new bicycle. "
        "The quick brown fox jumps over the lazy dog."
    )


def test_without_a_sentence_end_the_longest_pause_wins():
    words = tuple((s, e, w.rstrip(".")) for s, e, w in WORDS)  # no punctuation at all
    cut = clip(words, 12.0, None, 14.0)
    assert cut is not None
    # The longest pause in the second half of the limit is between "dog" (8.5) and "Please" (9.4).
    assert cut.transcript.endswith("lazy dog")


def test_a_transcript_that_does_not_agree_falls_back_to_the_heard_words():
    cut = clip(WORDS, 12.0, "something else entirely, nothing like the audio at all", 14.0)
    assert cut is not None and cut.transcript.endswith("lazy dog.")
