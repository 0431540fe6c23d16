"""The Chatterbox plugin's light half, as the daemon sees it without torch: voices, models, validation."""

from __future__ import annotations

import sys

import pytest

from voxhost.engine import EngineContext, Reference, SynthesisRequest
from voxhost.errors import InvalidRequestError, ModelMissingError, UnknownVoiceError
from voxhost.plugins.chatterbox import ChatterboxEngine, ChatterboxSettings
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
    en, mtl = _engine(tmp_path).models()
    assert en.repo == mtl.repo == "ResembleAI/chatterbox"
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
