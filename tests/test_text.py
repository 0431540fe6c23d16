"""Sentence splitting: whole texts, token streams, and the hard fallback for long unpunctuated text."""

from __future__ import annotations

import pytest

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


def assert_split_whole_and_streamed(text: str, sentences: list[str]) -> None:
    """``text`` splits into ``sentences`` whole and streamed in pieces of 1, 2, 3 and 5 characters (so cut anywhere
    inside an abbreviation)."""
    assert split_sentences(text) == sentences
    for size in (1, 2, 3, 5):
        assert split_sentences(text[i : i + size] for i in range(0, len(text), size)) == sentences


ABBREVIATED = [
    # German "z. B." was split as "… z." / "B. Äpfel …", "u. a. Berlin" as "… u. a." / "Berlin …".
    ("Obst, z. B. Äpfel, ist gesund. Gut.", ["Obst, z. B. Äpfel, ist gesund.", "Gut."]),
    ("Er kam u. a. mit Anna, d. h. Berlin war voll. Ja.", ["Er kam u. a. mit Anna, d. h. Berlin war voll.", "Ja."]),
    ("Es regnet z. T. Heute nicht. Morgen u. U. Schnee.", ["Es regnet z. T. Heute nicht.", "Morgen u. U. Schnee."]),
    ("Z. B. Birnen, z.B. Äpfel, z.\u00a0B. Kiwis. Ende.", ["Z. B. Birnen, z.B. Äpfel, z.\u00a0B. Kiwis.", "Ende."]),
    ("Um 500 v. Chr. Rom war groß. Dann.", ["Um 500 v. Chr. Rom war groß.", "Dann."]),
    ("Des fruits, p. ex. Paris, c.-à-d. Lyon. Oui.", ["Des fruits, p. ex. Paris, c.-à-d. Lyon.", "Oui."]),
    ("Frutas, p. ej. Madrid. En 100 a. C. Roma. Sí.", ["Frutas, p. ej. Madrid.", "En 100 a. C. Roma.", "Sí."]),
    ("Then e.g. Tom arrives, i.e. Robert. Done.", ["Then e.g. Tom arrives, i.e. Robert.", "Done."]),
    # A word that only looks like the start of one is no abbreviation.
    ("Ich heiße Franz. B. Meier kommt. Gut.", ["Ich heiße Franz.", "B. Meier kommt.", "Gut."]),
]


@pytest.mark.parametrize(("text", "sentences"), ABBREVIATED, ids=[t[:12] for t, _ in ABBREVIATED])
def test_abbreviations_of_several_parts_end_no_sentence(text, sentences):
    assert_split_whole_and_streamed(text, sentences)


def test_a_sentence_before_a_possible_abbreviation_is_not_held_back():
    splitter = SentenceSplitter()
    assert splitter.feed("Das ist gut. Es gibt z.") == ["Das ist gut."]
    assert splitter.feed(" B") == []  # "z. B" may still become "z. B.": held, not yet a sentence end
    assert splitter.feed(". Äpfel. Noch") == ["Es gibt z. B. Äpfel."]
    assert splitter.finish() == ["Noch"]


def test_long_chinese_is_cut_at_its_clause_marks():
    text = "今天天气很好，我们去公园散步吧、然后去吃饭，" * 20
    pieces = split_sentences(text, max_sentence_chars=100)
    assert len(pieces) > 4 and "".join(pieces) == text
    assert all(len(p) <= 100 and p[-1] in "，、" for p in pieces)


MONTH_BEFORE_NUMBER = [
    # The detector took "2026." after a sentence mark for a numbered list's item: "El 5 dic." / "2026." / "Luego".
    ("El 5 dic. 2026. Luego vamos.", ["El 5 dic. 2026.", "Luego vamos."]),
    ("Это было 5 дек. 2026. Потом.", ["Это было 5 дек. 2026.", "Потом."]),
    ("It ends Sept. 2026. Then we rest.", ["It ends Sept. 2026.", "Then we rest."]),
    ("Le 5 déc. 2026. Puis on part.", ["Le 5 déc. 2026.", "Puis on part."]),
    # Before a word the month's dot may end the sentence; other words' dots before a list number still do.
    ("Nos vemos el 5 dic. Luego vamos.", ["Nos vemos el 5 dic.", "Luego vamos."]),
    ("Steps follow. 1. Open it.", ["Steps follow.", "1.", "Open it."]),
]


@pytest.mark.parametrize(("text", "sentences"), MONTH_BEFORE_NUMBER, ids=[t[:14] for t, _ in MONTH_BEFORE_NUMBER])
def test_a_month_abbreviation_before_a_number_ends_no_sentence(text, sentences):
    assert_split_whole_and_streamed(text, sentences)


def test_a_sentence_before_a_month_abbreviation_is_not_held_back():
    splitter = SentenceSplitter()
    assert splitter.feed("Hola. El 5 dic.") == ["Hola."]
    assert splitter.feed(" 2026.") == []  # the dot of "dic." is decided by what follows it: a number
    assert splitter.feed(" Luego") == ["El 5 dic. 2026."]
    assert splitter.finish() == ["Luego"]


LEADING = [
    # "Team A vs." / "Team B won.", "inkl." / "Steuer …": a dot before a capital letter ended the sentence.
    ("Team A vs. Team B won. Yes.", ["Team A vs. Team B won.", "Yes."]),
    (
        "Es kostet 5 € inkl. Steuer, ca. Mitte Mai, vgl. Kapitel 3. Gut.",
        ["Es kostet 5 € inkl. Steuer, ca. Mitte Mai, vgl. Kapitel 3.", "Gut."],
    ),
    ("Frutas, aprox. Madrid. Sí.", ["Frutas, aprox. Madrid.", "Sí."]),
    # "etc." and "usw." may end a sentence: before a capital letter they still do, before a lower-case word not.
    ("Apples, pears, etc. Then we go.", ["Apples, pears, etc.", "Then we go."]),
    ("Äpfel usw. und Birnen usw. Dann gehen wir.", ["Äpfel usw. und Birnen usw.", "Dann gehen wir."]),
    # Words that end in one are no abbreviation.
    ("We flew to Africa. Then home.", ["We flew to Africa.", "Then home."]),
]


@pytest.mark.parametrize(("text", "sentences"), LEADING, ids=[t[:14] for t, _ in LEADING])
def test_leading_abbreviations_end_no_sentence(text, sentences):
    assert_split_whole_and_streamed(text, sentences)


SHORT_WORDS = [
    # The detector takes any capitalised word of one to three letters before a dot for an abbreviation and joined the
    # next sentence to it: "Es ist am 5. Dez. Dann gehen wir." was one sentence, as were "Uhr. Dann", "Bob. He".
    ("Es ist am 5. Dez. Dann gehen wir.", ["Es ist am 5.", "Dez.", "Dann gehen wir."]),
    (
        "Ich kam um 5 Uhr. Dann ging ich. Ich sah Bob. Er lachte.",
        ["Ich kam um 5 Uhr.", "Dann ging ich.", "Ich sah Bob.", "Er lachte."],
    ),
    ("I met Bob. He left. See the U.S. The end.", ["I met Bob.", "He left.", "See the U.S.", "The end."]),
    # The opener is read as a word whatever follows it (as after a title): a one-word sentence ("Danke.") or a
    # contraction ("It's") after it was joined to the sentence before.
    ("Ich kam um 5 Uhr. Danke. I met Bob. It's late.", ["Ich kam um 5 Uhr.", "Danke.", "I met Bob.", "It's late."]),
    # Before a name or a noun it is still held: an abbreviation's dot, or a German noun after a date.
    ("Ich war bei Dr. Müller. Gut.", ["Ich war bei Dr. Müller.", "Gut."]),
    ("Er hat am 5. Dez. Geburtstag. Gut.", ["Er hat am 5.", "Dez. Geburtstag.", "Gut."]),
    ("Mr. And Mrs. Smith, J. A. Smith. Ok.", ["Mr. And Mrs. Smith, J. A. Smith.", "Ok."]),
    ("Ask Mr. Le, Dr. Da Silva, Ms. Du. Then go.", ["Ask Mr. Le, Dr. Da Silva, Ms. Du.", "Then go."]),
    ("Obst, z. B. Dann gehen wir. Gut.", ["Obst, z. B. Dann gehen wir.", "Gut."]),
    # A German unit or count after a number: before a noun its dot ends no sentence, before an opener it does
    # ("Es waren 2,5 Mio. Viele kamen." was one sentence: "Viele" was no opener).
    (
        "Nach 3 Std. Fahrt und 5 Min. Pause. Es waren 2,5 Mio. Viele kamen. Es dauert 3 Std. Alle warten.",
        [
            "Nach 3 Std. Fahrt und 5 Min. Pause.",
            "Es waren 2,5 Mio.",
            "Viele kamen.",
            "Es dauert 3 Std.",
            "Alle warten.",
        ],
    ),
    # A unit after a number ends a sentence before any capitalised word ("Free up 5 GB. Two files remain." was one).
    (
        "It is 21 °C. Tomorrow it rains. Free up 5 GB. Two remain. Meet at 5 PM. Dinner. Um 5 Uhr. Morgen mehr.",
        [
            "It is 21 °C.",
            "Tomorrow it rains.",
            "Free up 5 GB.",
            "Two remain.",
            "Meet at 5 PM.",
            "Dinner.",
            "Um 5 Uhr.",
            "Morgen mehr.",
        ],
    ),  # fmt: skip
]


@pytest.mark.parametrize(("text", "sentences"), SHORT_WORDS, ids=[t[:14] for t, _ in SHORT_WORDS])
def test_a_short_capitalised_word_ends_a_sentence_before_a_sentence_opener(text, sentences):
    assert_split_whole_and_streamed(text, sentences)


TITLED = [
    # The detector takes only words of one to three letters for abbreviations: "Prof. Müller kommt heute." was
    # "Prof." / "Müller kommt heute.", "Acme Corp. Labs" "Acme Corp." / "Labs".
    ("Prof. Müller kommt heute. Gut.", ["Prof. Müller kommt heute.", "Gut."]),
    ("Ask Prof. Smith and Gen. Lee. Then go.", ["Ask Prof. Smith and Gen. Lee.", "Then go."]),
    (
        "Capt. Kirk met Sgt. Pepper at Univ. Hall, Dept. Physics of Acme Corp. Labs. Ok.",
        ["Capt. Kirk met Sgt. Pepper at Univ. Hall, Dept. Physics of Acme Corp. Labs.", "Ok."],
    ),
    (
        "Die Abt. Einkauf der Gebr. Weber, Inst. Mathematik, ab Febr. Montag. Gut.",
        ["Die Abt. Einkauf der Gebr. Weber, Inst. Mathematik, ab Febr. Montag.", "Gut."],
    ),
    ("Gov. Brown and Sept. Rains. La Srta. García. Ok.", ["Gov. Brown and Sept. Rains.", "La Srta. García.", "Ok."]),
    # Before a sentence opener the dot ends the sentence (even one of a single word); other words are no titles.
    ("He works at Acme Corp. Then he goes home.", ["He works at Acme Corp.", "Then he goes home."]),
    # A company's suffix before a capitalised word that is no opener stays one sentence: nothing in the words after it
    # tells "Acme Corp. Software is his life." from "Acme Corp. Software Division" (docs/text.md, Limits).
    (
        "He works at Acme Inc. Then he left. Ask Acme Ltd. The end. Acme Co. Software Division is big.",
        ["He works at Acme Inc.", "Then he left.", "Ask Acme Ltd.", "The end.", "Acme Co. Software Division is big."],
    ),
    (
        "It ends in Sept. Thanks. We met the Prof. Das ist gut.",
        ["It ends in Sept.", "Thanks.", "We met the Prof.", "Das ist gut."],
    ),
    ("I saw Profs. Smith. We like Corps. Then.", ["I saw Profs.", "Smith.", "We like Corps.", "Then."]),
]


@pytest.mark.parametrize(("text", "sentences"), TITLED, ids=[t[:14] for t, _ in TITLED])
def test_a_title_before_a_name_ends_no_sentence(text, sentences):
    assert_split_whole_and_streamed(text, sentences)


def test_a_sentence_before_a_title_is_not_held_back():
    splitter = SentenceSplitter()
    assert splitter.feed("Hello. Ask Prof.") == ["Hello."]
    assert splitter.feed(" The") == []  # "The" or "Theodor": the next piece decides
    assert splitter.feed("odor Heuss. Then") == ["Ask Prof. Theodor Heuss."]
    assert splitter.finish() == ["Then"]


QUOTED = [
    # The detector ends a sentence only before a letter: before an opening quotation mark, or after a closing one it
    # does not know (German „…“, »…«), it ended none ('He said. “Go now.”' was one sentence).
    ("He said. “Go now.” She went.", ["He said.", "“Go now.”", "She went."]),
    ('"Done." "Next?" Ok.', ['"Done."', '"Next?"', "Ok."]),
    ("Wait! 'Stop,' he said… “Fine.”", ["Wait!", "'Stop,' he said…", "“Fine.”"]),
    ("Er sagte: „Gut.“ „Ja.“ Dann ging er.", ["Er sagte: „Gut.“", "„Ja.“", "Dann ging er."]),
    ("Sie rief: »Warum?« Egal. Er ging.", ["Sie rief: »Warum?«", "Egal.", "Er ging."]),
    ("Il dit. « Oui. » Puis il part.", ["Il dit.", "« Oui. »", "Puis il part."]),
    # A title's or an initial's dot before a quoted name ends none, nor a mark before a quoted lower-case word.
    (
        'Dr. "Bones" McCoy and J. "Bud" Smith came. He said. "yes" was all. Ok.',
        ['Dr. "Bones" McCoy and J. "Bud" Smith came.', 'He said. "yes" was all.', "Ok."],
    ),
    ("Done.\n\n“Next.”", ["Done.", "“Next.”"]),
    # Nor before emoji after a mark (an assistant's "Done. ✅ The lights are on." was one sentence, its first audio
    # later); emoji with no mark before them end none here (the front-end puts a mark there).
    (
        "Erledigt. 💡 Die Lampe ist an! ✅👍🏽 Noch etwas? Great job 🎉 See you.",
        ["Erledigt.", "💡 Die Lampe ist an!", "✅👍🏽 Noch etwas?", "Great job 🎉 See you."],
    ),
    # Nor before markdown, or after it ("It works. **Solar** is big." was one sentence; the detector drops
    # emphasis' asterisks itself).
    (
        "It works. **Solar** is big. *Wind* too. [Docs](https://x.y) here. It is **done.** Then go. Dr. **Who** came.",
        [
            "It works.",
            "Solar is big.",
            "Wind too.",
            "[Docs](https://x.y) here.",
            "It is done.",
            "Then go.",
            "Dr. Who came.",
        ],
    ),
]


@pytest.mark.parametrize(("text", "sentences"), QUOTED, ids=[t[:14] for t, _ in QUOTED])
def test_a_sentence_ends_before_an_opening_quotation_mark(text, sentences):
    assert_split_whole_and_streamed(text, sentences)


def test_a_sentence_before_a_quotation_is_given_when_its_first_letter_comes():
    splitter = SentenceSplitter()
    assert splitter.feed("Ok. He said.") == ["Ok."]
    assert splitter.feed(" “") == []  # a quotation or not: the next letter decides
    assert splitter.feed("Go") == ["He said."]
    assert splitter.finish() == ["“Go"]
