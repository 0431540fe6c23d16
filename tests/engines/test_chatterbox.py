"""Chatterbox through the core in worker mode, on tiny random models in the ResembleAI file layout.

The worker runs in the Chatterbox environment (``envs/chatterbox/setup.sh``), found at
``$VOXHOST_CHATTERBOX_PYTHON`` or ``<repo>/.venvs/chatterbox/bin/python``. Chatterbox keeps its sizes in code,
so the worker's PYTHONPATH gets ``tests/engines/tiny/site``, whose ``sitecustomize`` shrinks the architecture.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import openai
import pytest

from voxhost.audio import decode_audio
from voxhost.engine import PCM
from voxhost.errors import (
    InvalidAudioError,
    InvalidRequestError,
    UnknownVoiceError,
    VoxhostError,
)
from voxhost.library import VoiceLibrary
from voxhost.operations import ConvertParams, SpeechRequest, VoiceCreate
from voxhost.pipelines import PipelineSettings, convert_stream

from ..conftest import REPO, free_port, make_settings, running_daemon
from ..protocols.http_helpers import base_url, decode, wav_bytes
from ..protocols.http_helpers import client as openai_client
from .sampling import refuses_an_unusable_temperature
from .tiny.tiny_chatterbox import reference_tone

pytestmark = pytest.mark.heavy

TINY = Path(__file__).resolve().parent / "tiny"
RATE = 24000
PIPELINE = "grandma-joe"


def worker_python() -> str:
    """The Chatterbox environment's interpreter; a missing one fails the tests with the fix."""
    python = os.environ.get("VOXHOST_CHATTERBOX_PYTHON") or str(REPO / ".venvs" / "chatterbox" / "bin" / "python")
    if not Path(python).is_file():
        pytest.fail(
            f"the Chatterbox worker environment is missing ({python}); create it with "
            "`envs/chatterbox/setup.sh .venvs/chatterbox` or set VOXHOST_CHATTERBOX_PYTHON",
            pytrace=False,
        )
    return python


def _cuda_available(python: str) -> bool:
    probe = subprocess.run(
        [python, "-c", "import torch; print(torch.cuda.is_available())"], capture_output=True, text=True, timeout=120
    )
    return probe.stdout.strip() == "True"


_BUILT: dict[str, Path] = {}
"""The tiny models' folder once built: one build a test run (a worker interpreter importing torch each time)."""


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny English + multilingual models, built once by the project's own builder in the worker env; this
    module's tests and test_chatterbox_fidelity's share them (none writes there)."""
    if "models" not in _BUILT:
        models = tmp_path_factory.mktemp("models")
        subprocess.run(
            [worker_python(), str(TINY / "tiny_chatterbox.py"), str(models)],
            check=True,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
            timeout=600,
        )
        _BUILT["models"] = models
    return _BUILT["models"]


@pytest.fixture(scope="module", params=["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def device(request: pytest.FixtureRequest) -> str:
    """CPU everywhere; CUDA as well wherever the worker environment sees a GPU."""
    if request.param == "cuda" and not _cuda_available(worker_python()):
        pytest.skip("no CUDA GPU in the Chatterbox environment")
    return str(request.param)


def _worker_env(**extra: str) -> pytest.MonkeyPatch:
    patch = pytest.MonkeyPatch()
    site = str(TINY / "site")
    patch.setenv("PYTHONPATH", os.pathsep.join(p for p in (site, os.environ.get("PYTHONPATH")) if p))
    patch.setenv("VOXHOST_TINY_CHATTERBOX", "1")
    patch.setenv("HF_HUB_OFFLINE", "1")
    for key, value in extra.items():
        patch.setenv(key, value)
    return patch


def _settings(
    state: Path,
    models_dir: Path,
    device: str,
    http: bool = False,
    pipelines: list[dict[str, Any]] | None = None,
    **engine: Any,
) -> Any:
    table = {
        "enabled": True,
        "mode": "worker",
        "python": worker_python(),
        "device": device,
        "max_speech_tokens": 30,  # random weights rarely stop by themselves
        "max_convert_seconds": 8,
        **engine,
    }
    doors: dict[str, Any] = {}
    if http:
        doors = {
            "http": {"enabled": True, "port": 0},
            "wyoming": {"enabled": True, "zeroconf": False, "uri": [f"tcp://127.0.0.1:{free_port()}"]},
        }
    return make_settings(
        state, models_dir=str(models_dir), engines={"chatterbox": table}, pipelines=pipelines or [], **doors
    )


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory, tiny_models: Path, device: str) -> Iterator[Any]:
    """A daemon with Piper in-process and Chatterbox in a worker, one cloned voice in the library (there before
    the daemon starts, as a configured pipeline voice needs) and Piper's voice converted into it as a pipeline."""
    state = tmp_path_factory.mktemp("state")
    library = VoiceLibrary(state / "voices")
    voice = library.add(VoiceCreate(name="Grandma"), reference_tone(3.0, 210.0), RATE)
    # Ukrainian is none of the multilingual model's 23 languages
    unspoken = library.add(VoiceCreate(name="Oksana", language="uk_UA"), reference_tone(3.0, 190.0), RATE)
    pipeline = {
        "id": PIPELINE,
        "source": "piper:en_US-joe-medium",
        "convert_to": voice.id,
        "engine": "chatterbox",
        "name": "Joe as Grandma",
    }
    patch = _worker_env()
    try:
        with running_daemon(_settings(state, tiny_models, device, http=True, pipelines=[pipeline])) as d:
            d.voice = d.core.library.get(voice.id)
            d.unspoken = unspoken.id
            yield d
    finally:
        patch.undo()


async def _collect(chunks: Any) -> tuple[bytes, int]:
    parts, rate = [], 0
    async for pcm in chunks:
        parts.append(pcm.data)
        rate = pcm.rate
    return b"".join(parts), rate


def _samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def _assert_audio(pcm: bytes, rate: int, min_seconds: float = 0.2) -> None:
    assert rate == RATE
    samples = _samples(pcm)
    assert samples.size / rate >= min_seconds
    assert np.abs(samples).max() > 0.001, "output is silent"


def _status(d: Any) -> dict[str, Any]:
    return next(s for s in d.call(d.core.engine_status()) if s["id"] == "chatterbox")


def test_engine_loads_in_worker_with_watermark(daemon):
    status = _status(daemon)
    assert status["mode"] == "worker" and status["loaded"], status
    assert status["models"] == ["en", "multilingual"]
    assert status["watermark"] == "perth"
    assert status["device"] == daemon.settings.engines["chatterbox"]["device"]


def test_catalog_has_a_builtin_voice_per_language(daemon):
    ids = {v.id for v in daemon.core.voices() if v.engine == "chatterbox"}
    assert {"chatterbox:en_US-default", "chatterbox:de_DE-default", "chatterbox:fi_FI-default"} <= ids
    assert len([i for i in ids if i.endswith("-default")]) == 23
    assert f"chatterbox:{daemon.voice.id}" in ids


def test_english_multi_sentence_text(daemon):
    job = daemon.core.submit(
        SpeechRequest(text="Hello there. This is the second sentence.", voice="chatterbox:en_US-default", seed=1)
    )
    pcm, rate = daemon.call(_collect(job.pcm()))
    _assert_audio(pcm, rate, min_seconds=0.5)
    assert job.sentences_total == 2


def test_german_by_language(daemon):
    # The multilingual path: T3's tokens go to S3Gen only below 6561 (random weights do sample above it).
    pcm, rate = daemon.call(
        daemon.core.speak(SpeechRequest(text="Guten Tag, schöne Grüße.", language="de_DE", engine="chatterbox", seed=2))
    )
    _assert_audio(pcm, rate)


def test_unsupported_language_is_a_clear_error(daemon):
    with pytest.raises(InvalidRequestError, match="does not speak"):
        daemon.core.submit(
            SpeechRequest(text="Hei.", voice="chatterbox:en_US-default", language="xx_XX", engine="chatterbox")
        )


def test_invalid_option_is_rejected_before_queueing(daemon):
    with pytest.raises(InvalidRequestError, match="exaggeration"):
        daemon.core.submit(SpeechRequest(text="Hi.", voice="chatterbox:en_US-default", options={"exaggeration": 9}))


def test_same_seed_same_audio(daemon):
    def speak(seed: int) -> bytes:
        request = SpeechRequest(
            text="Same seed, same audio.",
            voice="chatterbox:en_US-default",
            seed=seed,
            options={"exaggeration": 0.7, "cfg_weight": 0.3, "temperature": 0.9},
        )
        return daemon.call(daemon.core.speak(request))[0]

    first, again, other = speak(11), speak(11), speak(12)
    assert first == again
    assert first != other


def test_cloned_voice_conditionals_cached(daemon):
    voice = daemon.voice
    before = _status(daemon)
    for _ in range(2):
        pcm, rate = daemon.call(daemon.core.speak(SpeechRequest(text="It is grandma.", voice=f"chatterbox:{voice.id}")))
        _assert_audio(pcm, rate)
    after = _status(daemon)
    computed = after["conditionals_computed"] - before["conditionals_computed"]
    reused = after["conditionals_from_memory"] - before["conditionals_from_memory"]
    assert computed <= 1 and reused >= 1, (before, after)
    cache = Path(daemon.core.library.reference(voice.id).cache_dir)
    assert list(cache.glob(f"chatterbox-en-{voice.fingerprint}.pt"))


def test_cached_conditionals_survive_a_worker_restart(daemon):
    voice = daemon.voice
    daemon.call(daemon.core.speak(SpeechRequest(text="First.", voice=f"chatterbox:{voice.id}")))
    runner = daemon.core.registry.get("chatterbox").runner
    daemon.call(runner.unload("test"), timeout=120)
    pcm, rate = daemon.call(
        daemon.core.speak(SpeechRequest(text="After the restart.", voice=f"chatterbox:{voice.id}")), timeout=300
    )
    _assert_audio(pcm, rate)
    status = _status(daemon)
    assert status["conditionals_computed"] == 0, status
    assert status["conditionals_from_disk"] == 1, status


def test_cloned_voice_in_another_language(daemon):
    pcm, rate = daemon.call(
        daemon.core.speak(SpeechRequest(text="Hyvää päivää.", voice=f"chatterbox:{daemon.voice.id}", language="fi_FI"))
    )
    _assert_audio(pcm, rate)


def test_convert_uploaded_clip_into_library_voice(daemon):
    import io

    import soundfile

    upload = io.BytesIO()
    soundfile.write(upload, reference_tone(2.0, 120.0, rate=16000), 16000, format="WAV")
    samples, rate = decode_audio(upload.getvalue(), max_seconds=30)
    source = PCM.from_float(samples, rate)
    pcm, out_rate = daemon.call(
        _collect(daemon.core.convert(source, ConvertParams(voice=daemon.voice.id, engine="chatterbox")))
    )
    _assert_audio(pcm, out_rate)
    assert abs(len(pcm) / 2 / out_rate - 2.0) < 0.5


def test_convert_rejects_undecodable_audio():
    with pytest.raises(InvalidAudioError, match="could not be decoded"):
        decode_audio(b"this is not audio at all" * 10)


def test_convert_rejects_too_long_audio(daemon):
    source = PCM.from_float(reference_tone(9.0, 120.0, rate=16000), 16000)
    with pytest.raises(InvalidAudioError, match="at most 8 s") as err:
        daemon.call(_collect(daemon.core.convert(source, ConvertParams(voice=daemon.voice.id, engine="chatterbox"))))
    assert err.value.param == "audio"


def test_convert_rejects_unknown_target(daemon):
    source = PCM.from_float(reference_tone(1.0, 120.0, rate=16000), 16000)
    with pytest.raises(UnknownVoiceError):
        daemon.call(
            _collect(daemon.core.convert(source, ConvertParams(voice="voice_nobody_00000000", engine="chatterbox")))
        )


def test_convert_rejects_unknown_options(daemon):
    source = PCM.from_float(reference_tone(1.0, 120.0, rate=16000), 16000)
    with pytest.raises(VoxhostError, match="no options"):
        daemon.call(
            _collect(
                daemon.core.convert(
                    source, ConvertParams(voice=daemon.voice.id, engine="chatterbox", options={"pitch": 2})
                )
            )
        )


def test_http_speech_in_another_language(daemon):
    import httpx2 as httpx

    response = httpx.post(
        base_url(daemon) + "/v1/audio/speech",
        json={
            "model": "chatterbox",
            "voice": "chatterbox:fi_FI-default",
            "input": "Hyvää huomenta. Kahvi on valmis.",
            "response_format": "wav",
        },
        timeout=300,
    )
    assert response.status_code == 200, response.text
    pcm, rate = decode("wav", response.content)
    _assert_audio(pcm, rate, min_seconds=0.5)


def test_http_conversion_of_an_uploaded_clip(daemon):
    import httpx2 as httpx

    url = base_url(daemon) + "/v1/audio/conversions"
    clip = wav_bytes(reference_tone(1.5, 150.0), RATE)
    response = httpx.post(
        url,
        data={"voice": f"chatterbox:{daemon.voice.id}", "response_format": "wav"},
        files={"audio": ("clip.wav", clip, "audio/wav")},
        timeout=300,
    )
    assert response.status_code == 200, response.text
    pcm, rate = decode("wav", response.content)
    _assert_audio(pcm, rate, min_seconds=1.0)

    garbage = httpx.post(url, data={"voice": daemon.voice.id}, files={"audio": ("clip.wav", b"RIFF" + b"x" * 400)})
    assert garbage.status_code == 422 and garbage.json()["error"]["param"] == "audio"
    unknown = httpx.post(url, data={"voice": "voice_nobody_00000000"}, files={"audio": ("clip.wav", clip)})
    assert unknown.status_code == 400 and unknown.json()["error"]["param"] == "voice"
    long_clip = wav_bytes(reference_tone(9.0, 150.0, rate=16000), 16000)
    too_long = httpx.post(
        url,
        data={"voice": daemon.voice.id, "response_format": "wav"},
        files={"audio": ("long.wav", long_clip)},
        timeout=300,
    )
    assert too_long.status_code == 422 and "at most 8 s" in too_long.json()["error"]["message"]


def _wyoming_synthesize(d: Any, text: str, voice: str, language: str | None = None) -> tuple[bytes, int, list[str]]:
    """One Synthesize over the daemon's Wyoming door: the audio, its rate and the event types seen."""
    from wyoming.audio import AudioChunk
    from wyoming.client import AsyncTcpClient
    from wyoming.tts import Synthesize, SynthesizeVoice

    port = int(d.settings.doors["wyoming"]["uri"][0].rsplit(":", 1)[1])

    async def synthesize() -> tuple[bytes, int, list[str]]:
        async with AsyncTcpClient("127.0.0.1", port) as client:
            await client.write_event(
                Synthesize(text=text, voice=SynthesizeVoice(name=voice, language=language)).event()
            )
            chunks, kinds = [], []
            while True:
                event = await asyncio.wait_for(client.read_event(), 300)
                assert event is not None
                kinds.append(event.type)
                if event.type == "audio-chunk":
                    chunks.append(AudioChunk.from_event(event))
                if event.type in ("audio-stop", "error"):
                    break
        assert len({c.rate for c in chunks}) <= 1
        return b"".join(c.audio for c in chunks), (chunks[0].rate if chunks else 0), kinds

    return asyncio.run(synthesize())


def test_wyoming_cloned_voice_in_german(daemon):
    pcm, rate, kinds = _wyoming_synthesize(
        daemon, "Guten Morgen. Das Essen ist fertig.", f"chatterbox:{daemon.voice.id}", language="de_DE"
    )
    assert kinds[0] == "audio-start" and kinds[-1] == "audio-stop", kinds
    _assert_audio(pcm, rate, min_seconds=0.5)


def test_openai_client_english_default_voice(daemon):
    with (
        openai_client(daemon)
        .with_options(timeout=300)
        .audio.speech.with_streaming_response.create(
            model="chatterbox",
            voice="chatterbox:en_US-default",
            input="Good morning. The coffee is ready.",
            response_format="wav",
            extra_body={"seed": 3},
        ) as response
    ):
        assert response.headers["x-voxhost-voice"] == "chatterbox:en_US-default"
        data = response.read()
    pcm, rate = decode("wav", data)
    _assert_audio(pcm, rate, min_seconds=0.5)
    assert np.isfinite(_samples(pcm)).all()


def test_a_temperature_too_small_to_sample_with_is_a_400(daemon):
    data = refuses_an_unusable_temperature(
        openai_client(daemon).with_options(timeout=300), "chatterbox", "chatterbox:en_US-default"
    )
    _assert_audio(*decode("wav", data))


def test_wyoming_pipeline_voice_piper_to_chatterbox(daemon):
    """A configured ``[[pipelines]]`` voice: Piper speaks, Chatterbox converts into the library voice."""
    text = "Dinner is ready. Come to the table."
    listed = {v.id: v for v in daemon.core.voices()}
    assert listed[f"pipeline:{PIPELINE}"].sample_rate == RATE
    before = _status(daemon)
    pcm, rate, kinds = _wyoming_synthesize(daemon, text, f"pipeline:{PIPELINE}")
    assert kinds[0] == "audio-start" and kinds[-1] == "audio-stop", kinds
    _assert_audio(pcm, rate, min_seconds=1.0)
    assert np.isfinite(_samples(pcm)).all()
    # the conversion keeps the source's timing: about as long as Piper's own speech of the text
    plain, plain_rate = daemon.call(daemon.core.speak(SpeechRequest(text=text, voice="piper:en_US-joe-medium")))
    assert 0.7 < (len(pcm) / 2 / rate) / (len(plain) / 2 / plain_rate) < 1.3
    # the converter looked up the target voice's conditionals (memory, disk or computed) for each segment
    assert _conditionals_used(_status(daemon)) > _conditionals_used(before), "chatterbox did not convert"


def _conditionals_used(status: dict[str, Any]) -> int:
    return sum(status[f"conditionals_{how}"] for how in ("computed", "from_memory", "from_disk"))


def test_piper_to_chatterbox_pipeline(daemon):
    pipeline = PipelineSettings(
        id="grandma-piper", source="piper:en_US-joe-medium", convert_to=daemon.voice.id, engine="chatterbox"
    )
    core = daemon.core

    async def run() -> tuple[list[PCM], int]:
        job = core.submit(SpeechRequest(text="Dinner is ready. Come to the table.", voice=pipeline.source))

        def convert(segment: PCM) -> Any:
            return core.convert(
                segment, ConvertParams(voice=pipeline.convert_to, engine=pipeline.engine, options=pipeline.options)
            )

        out = [
            pcm
            async for pcm in convert_stream(
                job.pcm(), convert, min_seconds=pipeline.min_segment_seconds, max_seconds=pipeline.max_segment_seconds
            )
        ]
        return out, job.sentences_total or 0

    chunks, sentences = daemon.call(run(), timeout=300)
    assert sentences == 2
    assert chunks and all(c.rate == RATE for c in chunks)
    _assert_audio(b"".join(c.data for c in chunks), RATE, min_seconds=1.0)


def test_watermarker_without_pkg_resources(tmp_path, tiny_models, device):
    """With setuptools >= 81 (no pkg_resources) Perth still loads and marks the output."""
    patch = _worker_env(VOXHOST_TEST_NO_PKG_RESOURCES="1")
    try:
        with running_daemon(_settings(tmp_path / "state", tiny_models, device)) as d:
            assert _status(d)["watermark"] == "perth"
            pcm, rate = d.call(d.core.speak(SpeechRequest(text="Marked.", voice="chatterbox:en_US-default", seed=1)))
            _assert_audio(pcm, rate)
    finally:
        patch.undo()


@pytest.fixture(scope="module")
def english_only(tmp_path_factory: pytest.TempPathFactory, tiny_models: Path, device: str) -> Iterator[Any]:
    """A daemon with only Chatterbox's English model, the watermark off, every door but MQTT, and library voices
    stored in English and in Japanese (which only the multilingual model speaks)."""
    state = tmp_path_factory.mktemp("state")
    library = VoiceLibrary(state / "voices")
    stored = {
        name: library.add(VoiceCreate(name=name, language=language), reference_tone(3.0, 200.0), RATE).id
        for name, language in (("Emma", "en_US"), ("Kyoko", "ja_JP"))
    }
    patch = _worker_env()
    try:
        with running_daemon(_settings(state, tiny_models, device, http=True, watermark=False, models=["en"])) as d:
            d.stored = stored
            yield d
    finally:
        patch.undo()


def test_watermark_can_be_switched_off(english_only):
    status = _status(english_only)
    assert status["watermark"] == "off" and status["models"] == ["en"]
    assert not any(v.id == "chatterbox:de_DE-default" for v in english_only.core.voices())


def _wyoming_voices(d: Any) -> set[str]:
    """The names of the TTS voices in the Wyoming door's describe (what Home Assistant offers)."""
    from wyoming.client import AsyncTcpClient
    from wyoming.info import Describe, Info

    port = int(d.settings.doors["wyoming"]["uri"][0].rsplit(":", 1)[1])

    async def describe() -> Info:
        async with AsyncTcpClient("127.0.0.1", port) as client:
            await client.write_event(Describe().event())
            while True:
                event = await asyncio.wait_for(client.read_event(), 30)
                assert event is not None, "the door closed the connection without an info event"
                if Info.is_type(event.type):
                    return Info.from_event(event)

    return {voice.name for program in asyncio.run(describe()).tts for voice in program.voices}


def test_english_only_lists_no_library_voice_in_another_language(english_only):
    # Home Assistant (Wyoming describe) and Open WebUI (/v1/audio/voices) offered chatterbox:<Kyoko>, stored in
    # Japanese, though every request to it was a 400: only the multilingual model speaks Japanese.
    import httpx2 as httpx

    url = base_url(english_only)
    spoken, unspoken = (f"chatterbox:{english_only.stored[name]}" for name in ("Emma", "Kyoko"))
    for params in ({}, {"model": "chatterbox"}):
        listed = {v["id"] for v in httpx.get(f"{url}/v1/audio/voices", params=params, timeout=30).json()["voices"]}
        assert spoken in listed and unspoken not in listed, listed
    named = _wyoming_voices(english_only)
    assert spoken in named and unspoken not in named, named
    # the library still has it, spoken by no engine here
    library = {v["id"]: v["engines"] for v in httpx.get(f"{url}/v1/library/voices", timeout=30).json()["data"]}
    assert library[english_only.stored["Kyoko"]] == [] and library[english_only.stored["Emma"]] == [spoken]

    # Named all the same (by its entry or its bare id), it is the client's error, saying what is spoken here.
    client = openai_client(english_only).with_options(timeout=300)
    for voice in (unspoken, english_only.stored["Kyoko"]):
        with pytest.raises(openai.BadRequestError) as caught:
            client.audio.speech.create(model="chatterbox", voice=voice, input="Konnichiwa.")
        error = caught.value.body
        assert error["param"] == "language", error
        assert "is stored in 'ja_JP'" in error["message"] and "speak English only" in error["message"], error
        assert '"multilingual"' in error["message"], error
    _, _, kinds = _wyoming_synthesize(english_only, "Konnichiwa.", unspoken)
    assert kinds == ["error"], kinds


def test_a_library_voice_in_a_language_chatterbox_lacks_is_in_no_list(daemon):
    import httpx2 as httpx

    url = base_url(daemon)
    unspoken = f"chatterbox:{daemon.unspoken}"
    listed = {v["id"] for v in httpx.get(f"{url}/v1/audio/voices", timeout=30).json()["voices"]}
    assert f"chatterbox:{daemon.voice.id}" in listed and unspoken not in listed, listed
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client(daemon).audio.speech.create(model="chatterbox", voice=unspoken, input="Dobryi den.")
    error = caught.value.body
    assert error["param"] == "language" and "is stored in 'uk_UA'" in error["message"], error
    assert "its languages here are ar, da, de" in error["message"], error


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-x", "-v"]))
