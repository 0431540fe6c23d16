"""The Chatterbox plugin's light half, as the daemon sees it without torch: voices, models, validation."""

from __future__ import annotations

import sys

import pytest

from voxhost.engine import EngineContext, Reference, SynthesisRequest
from voxhost.errors import InvalidRequestError, ModelMissingError, UnknownVoiceError
from voxhost.plugins.chatterbox import ChatterboxEngine, ChatterboxSettings
from voxhost.plugins.chatterbox.engine import segments
from voxhost.plugins.chatterbox.languages import LANGUAGES, language_id
from voxhost.plugins.chatterbox.text import split_long


def _engine(tmp_path, **settings) -> ChatterboxEngine:
    context = EngineContext(str(tmp_path), str(tmp_path / "models"), str(tmp_path / "cache"))
    return ChatterboxEngine(ChatterboxSettings(**settings), context)


def test_metadata_needs_no_torch(tmp_path):
    engine = _engine(tmp_path)
    assert len(engine.voices()) == len(LANGUAGES) == 23
    assert "torch" not in sys.modules and "chatterbox" not in sys.modules


def test_model_specs_name_the_resemble_files(tmp_path):
    en, mtl, turbo = _engine(tmp_path).models()
    assert en.repo == mtl.repo == "ResembleAI/chatterbox"
    assert turbo.repo == "ResembleAI/chatterbox-turbo" and "t3_turbo_v1.safetensors" in turbo.files
    assert set(en.files) == {"ve.safetensors", "t3_cfg.safetensors", "s3gen.safetensors", "tokenizer.json", "conds.pt"}
    assert "t3_mtl23ls_v2.safetensors" in mtl.files and "grapheme_mtl_merged_expanded_v1.json" in mtl.files


def test_load_without_models_names_the_pull_command(tmp_path):
    with pytest.raises(ModelMissingError, match="voxhost models pull chatterbox en"):
        _engine(tmp_path).load()


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en_US", "en"), ("de-DE", "de"), ("nb_NO", "no"), ("pt_BR", "pt"), ("zh", "zh"), (None, "en")],
)
def test_language_ids(language, expected):
    assert language_id(language) == expected


def test_english_only_setting_limits_voices_and_languages(tmp_path):
    engine = _engine(tmp_path, models=["en"])
    assert [v.id for v in engine.voices()] == ["en_US-default"]
    request = SynthesisRequest(text="Hallo.", voice="en_US-default", language="de_DE")
    with pytest.raises(InvalidRequestError, match="multilingual"):
        engine.validate_request(request)


@pytest.mark.parametrize(
    ("models", "spoken", "unspoken"),
    [
        (["en"], ["en_US", "en-GB", "en"], ["ja_JP", "de_DE", "uk_UA"]),
        (["turbo"], ["en_AU"], ["fr_FR", "uk_UA"]),
        (["multilingual"], ["ja_JP", "en_US", "nb_NO", "iw"], ["uk_UA", "cy_GB"]),
        (["turbo", "multilingual"], ["en_US", "sw_KE"], ["uk_UA"]),
    ],
)
def test_library_voices_are_offered_in_what_the_configured_models_speak(tmp_path, models, spoken, unspoken):
    # The catalog lists <engine>:<voice> only where speaks_cloned says yes: each one it says no to is refused.
    engine = _engine(tmp_path, models=models)
    for language in spoken + unspoken:
        reference = Reference("voice_x", str(tmp_path / "ref.wav"), None, language, str(tmp_path / "c"), "f")
        request = SynthesisRequest(text="Hi.", voice="voice_x", language=language, reference=reference)
        if language in spoken:
            assert engine.speaks_cloned(language), language
            engine.validate_request(request)
        else:
            assert not engine.speaks_cloned(language), language
            with pytest.raises(InvalidRequestError, match="is stored in") as caught:
                engine.validate_request(request)
            assert caught.value.param == "language"


def test_a_refused_language_names_what_is_spoken_here(tmp_path):
    engine = _engine(tmp_path, models=["en"])
    reference = Reference("voice_x", str(tmp_path / "ref.wav"), None, "ja_JP", str(tmp_path / "c"), "f")
    with pytest.raises(InvalidRequestError) as caught:
        engine.validate_request(SynthesisRequest(text="Hi.", voice="voice_x", language="ja_JP", reference=reference))
    assert caught.value.message == (
        "Chatterbox does not speak Japanese here (voice 'voice_x' is stored in 'ja_JP'): its models here (en) speak "
        'English only; add "multilingual" to [engines.chatterbox] models to speak Japanese'
    )
    with pytest.raises(InvalidRequestError) as caught:  # no model of Chatterbox's speaks Ukrainian
        engine.validate_request(SynthesisRequest(text="Hi.", voice="en_US-default", language="uk_UA"))
    assert (
        caught.value.message
        == "Chatterbox does not speak 'uk_UA' (language 'uk_UA' was asked for); its languages here are en"
    )


def test_validation_errors(tmp_path):
    engine = _engine(tmp_path)
    with pytest.raises(UnknownVoiceError):
        engine.validate_request(SynthesisRequest(text="Hi.", voice="xx_XX-default"))
    with pytest.raises(InvalidRequestError, match="does not speak"):
        engine.validate_request(SynthesisRequest(text="Hi.", voice="en_US-default", language="tlh"))
    reference = Reference("voice_x", str(tmp_path / "ref.wav"), None, "fi_FI", str(tmp_path / "c"), "f")
    engine.validate_request(SynthesisRequest(text="Hei.", voice="voice_x", reference=reference))


def test_split_long_keeps_short_text_whole():
    assert split_long("  Short sentence.  ", 50) == ["Short sentence."]


def test_split_long_cuts_at_clauses_then_words():
    text = "one two three, four five six, " + "x" * 30 + " seven eight nine ten eleven twelve"
    pieces = split_long(text, 25)
    assert all(len(p) <= 25 for p in pieces)
    assert pieces[0] == "one two three,"
    assert " ".join(pieces).split() == text.replace("x" * 30, "x" * 25 + " " + "x" * 5).split()


def test_turbo_speaks_english_when_configured(tmp_path):
    engine = _engine(tmp_path, models=["turbo", "multilingual"])
    assert engine._plan(SynthesisRequest(text="Hi.", voice="en_US-default")) == ("en", "turbo")
    assert engine._plan(SynthesisRequest(text="Hei.", voice="fi_FI-default")) == ("fi", "multilingual")
    assert [v.id for v in _engine(tmp_path, models=["turbo"]).voices()] == ["en_US-default"]


def test_sampling_options_are_validated(tmp_path):
    engine = _engine(tmp_path)
    options = {"repetition_penalty": 1.5, "min_p": 0.1, "top_p": 0.9}
    engine.validate_request(SynthesisRequest(text="Hi.", voice="en_US-default", options=options))
    with pytest.raises(ValueError, match="top_p"):  # the core turns it into an InvalidRequestError
        engine.validate_request(SynthesisRequest(text="Hi.", voice="en_US-default", options={"top_p": 0}))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Guten Morgen, der Kaffee ist fertig und die Sonne scheint.", ("de", "multilingual")),
        ("The coffee is ready and the sun is shining.", ("en", "en")),
        ("Hyvää huomenta, kahvi on valmis ja aurinko paistaa.", ("fi", "multilingual")),
    ],
)
def test_cloned_voice_without_language_is_detected(tmp_path, text, expected):
    pytest.importorskip("lingua", reason="lingua-language-detector (test extra and worker environments)")
    engine = _engine(tmp_path)
    reference = Reference("voice_x", str(tmp_path / "ref.wav"), None, None, str(tmp_path / "c"), "f")
    assert engine._plan(SynthesisRequest(text=text, voice="voice_x", reference=reference)) == expected


def test_conversion_segments_overlap_and_absorb_a_short_remainder():
    rate = 16000
    pieces = segments(int(45.5 * rate), rate, 20.0, rate)
    assert pieces == [(0, 0, 20 * rate), (19 * rate, 20 * rate, 40 * rate), (39 * rate, 40 * rate, int(45.5 * rate))]
    # a remainder under a second joins the piece before it
    assert segments(int(40.5 * rate), rate, 20.0, rate)[-1] == (19 * rate, 20 * rate, int(40.5 * rate))
    assert segments(rate // 2, rate, 20.0, rate) == [(0, 0, rate // 2)]
