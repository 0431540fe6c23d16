"""Sentence splitting: whole texts, token streams, and the hard fallback for long unpunctuated text."""

from __future__ import annotations

from voxhost.text import SentenceSplitter, split_long, split_sentences


def test_whole_text():
    assert split_sentences("Hello there, Dr. Smith. How are you? I am fine!") == [
        "Hello there, Dr. Smith.",
        "How are you?",
        "I am fine!",
    ]


def test_token_stream_mid_word():
    splitter = SentenceSplitter()
    out = []
    for token in ["Hel", "lo wor", "ld.", " Ne", "xt one", " here! And", " the", " end"]:
        out += splitter.feed(token)
    assert out == ["Hello world.", "Next one here!"]
    assert splitter.finish() == ["And the end"]


def test_long_unpunctuated_text_is_cut_at_spaces():
    text = " ".join(f"word{i}" for i in range(300))
    pieces = split_sentences(text, max_sentence_chars=100)
    assert all(len(p) <= 100 for p in pieces)
    assert " ".join(pieces) == text


def test_clause_marks_are_preferred():
    pieces = list(split_long("alpha beta gamma, delta epsilon zeta eta theta iota kappa lambda", 40))
    assert pieces[0] == "alpha beta gamma,"


def test_unpunctuated_stream_is_flushed_before_it_grows_unbounded():
    splitter = SentenceSplitter(max_sentence_chars=50)
    out = []
    for i in range(100):
        out += splitter.feed(f"token{i} ")
    assert out and all(len(p) <= 50 for p in out)
    rest = splitter.finish()
    assert " ".join(out + rest).split() == [f"token{i}" for i in range(100)]


def test_a_word_longer_than_the_limit_is_cut():
    assert [len(p) for p in split_long("x" * 250, 100)] == [100, 100, 50]


def test_a_long_text_given_at_once_splits_as_when_streamed():
    """A whole text is handed to the boundary detector in slices (a long one at once took seconds): the sentences
    are those of the same text streamed in small pieces, abbreviations and sentences across slice edges included."""
    text = "".join(
        f"Dr. Lee paid {i} dollars at St. Mary's on the {i}th. Was it late? Yes!\n\nA new paragraph {i}. "
        for i in range(300)
    )
    streamed = split_sentences(text[i : i + 7] for i in range(0, len(text), 7))
    assert split_sentences(text) == streamed
    assert len(streamed) == 1200
    assert streamed[:2] == ["Dr. Lee paid 0 dollars at St. Mary's on the 0th.", "Was it late?"]
