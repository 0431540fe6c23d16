"""F5-TTS through the core, in its worker process, on tiny random models in the published file layouts."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest

from voxhost.errors import ModelMissingError, UnknownVoiceError, WorkerCrashedError
from voxhost.operations import SpeechRequest

from ..conftest import running_daemon
from .f5_fixtures import (
    add_voice,
    build_tiny_models,
    expected_seconds,
    f5_settings,
    f5_status,
    samples,
    speak,
)

pytestmark = pytest.mark.heavy

ENGLISH = "Hello world, this is a test of the tiny model."
FRENCH = "Bonjour tout le monde, ceci est un essai du petit modèle."


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    models_dir = tmp_path_factory.mktemp("models")
    return models_dir, build_tiny_models(models_dir)


@pytest.fixture(scope="module")
def daemon(tiny, tmp_path_factory):
    models_dir, overrides = tiny
    state = tmp_path_factory.mktemp("state")
    # "it" is offered but not installed: the missing-model path
    settings = f5_settings(state, models_dir, overrides, languages=["en", "fr", "it"], max_loaded_models=1)
    with running_daemon(settings) as d:
        yield d


@pytest.fixture(scope="module")
def voice(daemon):
    return add_voice(daemon, "tone")  # no language: routing detects it


def process_gone(pid: int, timeout: float) -> bool:
    """Wait for a process to exit and be reaped."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_voices_one_default_per_offered_language(daemon):
    ids = {v.id: v for v in daemon.core.voices() if v.engine == "f5"}
    assert {"f5:default", "f5:default-en", "f5:default-fr"} <= set(ids)
    # Italian is offered, but has no reference in Italian: no built-in Italian voice, and the engine says why
    assert "f5:default-it" not in ids and "it_IT" not in ids["f5:default"].languages
    withheld = {voice.id: voice for voice in daemon.core.engine("f5").withheld}
    assert "reference_text" in withheld["default-it"].reason
    assert ids["f5:default-fr"].languages == ("fr_FR",)
    assert ids["f5:default-fr"].sample_rate == 24000


@pytest.mark.parametrize("speed", [1.0, 2.0])
def test_cloned_voice_24k_of_expected_length(daemon, voice, speed):
    pcm, rate = speak(daemon, ENGLISH, voice=f"f5:{voice}", language="en", speed=speed, seed=1)
    assert rate == 24000
    audio = samples(pcm)
    assert np.isfinite(audio).all() and np.abs(audio).max() > 0.001
    seconds = audio.size / rate
    want = expected_seconds(ENGLISH, speed)
    assert abs(seconds - want) / want < 0.1, f"{seconds:.2f} s, expected about {want:.2f} s"


def test_builtin_voice_without_a_native_reference_is_refused(daemon):
    with pytest.raises(UnknownVoiceError, match="reference_text"):
        speak(daemon, "Ciao a tutti.", voice="f5:default-it")


def test_default_reference_made_with_piper(daemon):
    pcm, rate = speak(daemon, ENGLISH, voice="f5:default-en", seed=2)
    assert rate == 24000 and samples(pcm).size / rate > 1.0
    made = daemon.settings.state_path / "cache" / "f5" / "f5-default-reference.wav"
    assert made.is_file()


def test_routing_two_languages_to_two_models(daemon, voice):
    en, _ = speak(daemon, ENGLISH, voice=f"f5:{voice}", language="en", seed=3)
    assert f5_status(daemon)["last_language"] == "en"
    fr, _ = speak(daemon, ENGLISH, voice=f"f5:{voice}", language="fr_FR", seed=3)
    status = f5_status(daemon)
    assert status["last_language"] == "fr"
    # same text, voice and seed: only the model differs
    assert en != fr


def test_language_detected_among_installed(daemon, voice):
    speak(daemon, FRENCH, voice=f"f5:{voice}", seed=4)
    assert f5_status(daemon)["last_language"] == "fr"
    speak(daemon, ENGLISH, voice="f5:default", seed=4)
    assert f5_status(daemon)["last_language"] == "en"


def test_lru_eviction_at_the_limit(daemon, voice):
    speak(daemon, ENGLISH, voice=f"f5:{voice}", language="en", seed=5)
    before = f5_status(daemon)
    assert before["resident"] == ["en"]
    speak(daemon, FRENCH, voice=f"f5:{voice}", language="fr", seed=5)
    after = f5_status(daemon)
    assert after["resident"] == ["fr"]  # max_loaded_models = 1
    assert after["evictions"] == before["evictions"] + 1


def test_prompt_cache_hit_on_second_request(daemon):
    fresh = add_voice(daemon, "fresh", language="en_US")
    speak(daemon, ENGLISH, voice=f"f5:{fresh}", seed=6)
    first = f5_status(daemon)["reference_cache"]
    # On disk too, beside the voice: its text and its audio, each written whole and renamed in, nothing else left.
    cached = daemon.core.library.root / fresh / "cache"
    assert sorted(p.suffix for p in cached.iterdir()) == [".npy", ".txt"], list(cached.iterdir())
    speak(daemon, ENGLISH, voice=f"f5:{fresh}", seed=7)
    second = f5_status(daemon)["reference_cache"]
    assert second["misses"] == first["misses"]
    assert second["hits"] > first["hits"]


def test_same_seed_same_audio(daemon, voice):
    a, _ = speak(daemon, ENGLISH, voice=f"f5:{voice}", language="en", seed=42)
    b, _ = speak(daemon, ENGLISH, voice=f"f5:{voice}", language="en", seed=42)
    c, _ = speak(daemon, ENGLISH, voice=f"f5:{voice}", language="en", seed=43)
    assert a == b
    assert a != c


def test_options_reach_the_model(daemon, voice):
    base, _ = speak(daemon, ENGLISH, voice=f"f5:{voice}", language="en", seed=8)
    fewer, _ = speak(
        daemon, ENGLISH, voice=f"f5:{voice}", language="en", seed=8, options={"nfe_steps": 4, "cfg_strength": 1.0}
    )
    assert base != fewer


def test_missing_model_names_the_pull_command(daemon, voice):
    started = time.monotonic()
    with pytest.raises(ModelMissingError) as err:
        speak(daemon, "Ciao a tutti.", voice=f"f5:{voice}", language="it_IT")
    assert "voxhost models pull f5 it" in str(err.value)
    assert time.monotonic() - started < 30
    # the engine still works afterwards
    pcm, rate = speak(daemon, ENGLISH, voice="f5:default-en", seed=9)
    assert rate == 24000 and pcm


def test_worker_killed_mid_job(daemon):
    """Killed mid-job: that job fails cleanly, the next one works (on a fresh worker)."""

    async def killed_mid_job() -> BaseException | None:
        job = daemon.core.submit(SpeechRequest(text=" ".join([ENGLISH] * 6), voice="f5:default-en"))
        try:
            async for _ in job.pcm():
                pid = daemon.core.registry.get("f5").runner.pid
                if pid is not None:
                    os.kill(pid, signal.SIGKILL)
        except WorkerCrashedError as err:
            return err
        return None

    err = daemon.call(killed_mid_job(), timeout=180)
    assert isinstance(err, WorkerCrashedError), err
    pcm, rate = speak(daemon, ENGLISH, voice="f5:default-en", seed=1)
    assert rate == 24000 and pcm


def test_idle_unload_frees_models_then_the_worker(tiny, tmp_path):
    models_dir, overrides = tiny
    settings = f5_settings(tmp_path / "state", models_dir, overrides, model_idle_unload=0.5)
    settings.engines["f5"]["idle_unload"] = 8.0
    with running_daemon(settings) as d:
        speak(d, ENGLISH, voice="f5:default-en", seed=1)
        pid = f5_status(d)["pid"]
        # the language model (and the vocoder) go after their own idle time, while the worker stays
        deadline = time.monotonic() + 20
        status = f5_status(d)
        while status.get("resident") != [] and time.monotonic() < deadline:
            time.sleep(0.2)
            status = f5_status(d)
        assert status.get("resident") == [] and status["vocoder_loaded"] is False and status["pid"] == pid
        # then the whole worker exits after the engine's idle time: its memory goes back to the system
        deadline = time.monotonic() + 30
        while d.core.registry.get("f5").runner.loaded and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not d.core.registry.get("f5").runner.loaded
        assert process_gone(pid, timeout=15)
