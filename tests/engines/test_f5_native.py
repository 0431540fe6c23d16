"""F5's built-in voices clone a reference in their own language: f5-tts's own Chinese clip, and a reference a Piper
voice of the language speaks (pulled into the models directory); tiny models in the published layouts."""

from __future__ import annotations

import json

import pytest

from voxhost.plugins.piper_catalog import voices_dir

from ..conftest import running_daemon
from ..piper_fixture import build_multispeaker_voice
from .f5_fixtures import build_tiny_models, f5_settings, samples, speak

pytestmark = pytest.mark.heavy


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    models = tmp_path_factory.mktemp("models")
    tiny = build_tiny_models(models)
    french = {k: v for k, v in tiny["fr"].items() if not k.startswith("reference")}  # no reference configured
    chinese = {**tiny["en"], "locale": "zh_CN"}  # the multilingual base model speaks Chinese too
    folder = voices_dir(models) / "fr" / "fr_FR" / "twins" / "medium"
    model = build_multispeaker_voice(folder, "fr_FR-twins-medium")
    config = json.loads(model.with_name(model.name + ".json").read_text())
    config.update(language={"code": "fr_FR"}, espeak={"voice": "fr"})
    model.with_name(model.name + ".json").write_text(json.dumps(config))
    settings = f5_settings(
        tmp_path_factory.mktemp("state"), models, {**tiny, "fr": french, "zh": chinese}, languages=["en", "fr", "zh"]
    )
    with running_daemon(settings) as d:
        yield d


def test_every_language_with_a_native_reference_has_its_voice(daemon):
    ids = {voice.id for voice in daemon.core.voices() if voice.engine == "f5"}
    assert {"f5:default-en", "f5:default-fr", "f5:default-zh"} <= ids
    assert not daemon.core.engine("f5").withheld


def test_french_reference_derived_from_a_piper_voice(daemon):
    pcm, rate = speak(daemon, "Bonjour à tous.", voice="f5:default-fr", seed=1)
    assert rate == 24000 and samples(pcm).size > 0
    cache = daemon.settings.state_path / "cache" / "f5"
    assert list(cache.glob("f5-default-reference-fr-fr_FR-twins-medium.wav"))


def test_chinese_speaks_with_f5s_own_chinese_clip(daemon):
    pcm, rate = speak(daemon, "你好。", voice="f5:default-zh", seed=1)
    assert rate == 24000 and samples(pcm).size > 0
