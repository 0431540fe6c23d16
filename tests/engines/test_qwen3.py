"""Qwen3-TTS: backend choice and errors (light), then both backends on a tiny random model in their worker
environments, driven through the core (heavy; the MLX one is also slow on a CPU)."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
from pathlib import Path

import httpx2 as httpx
import pytest

from voxhost.engine import Capability, EngineContext, SynthesisRequest
from voxhost.errors import (
    ConfigError,
    EngineError,
    ModelMissingError,
    UnknownVoiceError,
)
from voxhost.operations import SpeechRequest
from voxhost.plugins.qwen3 import Qwen3Engine, Qwen3Settings, select_backend
from voxhost.plugins.qwen3.languages import to_model_language

from ..conftest import free_port, running_daemon
from ..protocols.http_helpers import base_url, wav_bytes
from ..protocols.http_helpers import client as openai_client
from .qwen3_fixtures import (
    MAX_TOKENS,
    SAMPLES_PER_FRAME,
    add_voice,
    build_tiny_model,
    engine_status,
    qwen3_settings,
    reference_signal,
    samples,
    speak_chunks,
    worker_python,
)
from .sampling import refuses_an_unusable_temperature


def _engine(tmp_path: Path, **settings) -> Qwen3Engine:
    context = EngineContext(str(tmp_path), str(tmp_path / "models"), str(tmp_path / "cache"))
    return Qwen3Engine(Qwen3Settings(**settings), context)


# -- light: no engine packages needed ------------------------------------------------------------


@pytest.mark.parametrize(
    ("choice", "system", "machine", "expected"),
    [
        ("auto", "Darwin", "arm64", "mlx"),
        ("auto", "Darwin", "x86_64", "torch"),
        ("auto", "Linux", "x86_64", "torch"),
        ("auto", "Linux", "aarch64", "torch"),  # Jetson
        ("mlx", "Linux", "x86_64", "mlx"),
        ("torch", "Darwin", "arm64", "torch"),
    ],
)
def test_backend_choice_per_platform_and_config(choice, system, machine, expected):
    assert select_backend(choice, system, machine) == expected


def test_unknown_backend_is_a_config_error():
    with pytest.raises(ConfigError, match="auto, mlx or torch"):
        select_backend("tensorrt", "Linux", "x86_64")


def test_backend_decides_model_repo_and_streaming(tmp_path):
    mlx = _engine(tmp_path, backend="mlx", model="0.6b")
    torch = _engine(tmp_path, backend="torch")
    assert mlx.spec.repo == "mlx-community/Qwen3-TTS-12Hz-0.6B-Base-bf16"
    assert torch.spec.repo == "Qwen/Qwen3-TTS-12Hz-1.7B-Base"
    assert Capability.STREAM in mlx.capabilities
    assert Capability.STREAM not in torch.capabilities
    assert {Capability.TTS, Capability.CLONE} <= torch.capabilities
    assert {m.name for m in torch.models()} == {"1.7b", "0.6b", "mlx-1.7b", "mlx-0.6b"}


def test_default_voices_follow_the_installed_model(tmp_path):
    engine = _engine(tmp_path, backend="torch", model="0.6b")
    assert "en_US-default" in {v.id for v in engine.voices()}
    assert len(engine.voices()) == 10  # the published languages, before the model is pulled
    assert engine.speaks_cloned("ja_JP") and not engine.speaks_cloned("fi_FI")  # which library voices it offers
    root = engine.model_dir()
    root.mkdir(parents=True)
    config = {"talker_config": {"codec_language_id": {"english": 2050, "german": 2053, "beijing_dialect": 2074}}}
    (root / "config.json").write_text(json.dumps(config))
    assert [(v.id, v.languages) for v in engine.voices()] == [
        ("en_US-default", ("en_US",)),
        ("de_DE-default", ("de_DE",)),
    ]
    assert engine.speaks_cloned("de") and not engine.speaks_cloned("ja_JP")
    with pytest.raises(UnknownVoiceError):
        engine.validate_request(SynthesisRequest(text="hi", voice="fr_FR-default"))


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("en_US", "english"),
        ("en-GB", "english"),
        ("de", "german"),
        ("english", "english"),
        ("fi_FI", "auto"),
        (None, "auto"),
        ("zh_CN", "auto"),
    ],
)
def test_language_mapping(code, expected):
    assert to_model_language(code, ["english", "german"]) == expected


def test_missing_model_names_the_pull_command(tmp_path):
    engine = _engine(tmp_path, backend="torch", model="0.6b")
    with pytest.raises(ModelMissingError, match="voxhost models pull qwen3 0.6b"):
        engine.load()


@pytest.mark.parametrize(("backend", "needs"), [("torch", "qwen-tts==0.1.1"), ("mlx", "mlx-audio==0.6.2")])
def test_missing_backend_package_names_what_to_install(tmp_path, backend, needs):
    # This interpreter (the core's) has neither engine package; the engine says what to install.
    for module in ("qwen_tts", "mlx_audio"):
        if module in sys.modules or _importable(module):
            pytest.skip(f"{module} is installed in the test interpreter")
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    engine = _engine(tmp_path, backend=backend, model_path=str(model))
    with pytest.raises(EngineError) as err:
        engine.load()
    assert needs in err.value.message
    assert f"envs/{'mlx' if backend == 'mlx' else 'qwen'}/setup.sh" in err.value.message


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


# -- heavy: the real packages in their worker environments ----------------------------------------


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("qwen3-models")
    build_tiny_model(root)
    return root


@pytest.fixture(scope="module")
def torch_daemon(models_dir, tmp_path_factory):
    """The torch backend in its worker, with the HTTP and Wyoming doors open for the end-to-end tests."""
    state = tmp_path_factory.mktemp("qwen3-torch-state")
    port = free_port()
    doors = {"http": {"enabled": True, "port": 0}, "wyoming": {"enabled": True, "uri": [f"tcp://127.0.0.1:{port}"]}}
    with running_daemon(qwen3_settings(state, models_dir, "torch", doors=doors)) as daemon:
        daemon.port = port
        yield daemon


def _check_audio(chunks: list[bytes], rate: int, max_chunks: int = 1) -> None:
    assert rate == 24000
    assert 1 <= len(chunks) <= max_chunks
    audio = samples(b"".join(chunks))
    assert 0 < audio.size <= MAX_TOKENS * SAMPLES_PER_FRAME
    assert float(abs(audio).max()) > 0  # a random model makes noise, not silence


@pytest.mark.heavy
def test_torch_backend_loads_in_its_worker(torch_daemon):
    status = engine_status(torch_daemon)
    assert status["loaded"] and status["mode"] == "worker" and status["pid"]
    assert status["backend"] == "torch" and status["device"] == "cpu"
    assert status["capabilities"] == ["clone", "tts"]


@pytest.mark.heavy
def test_torch_voice_clone_reuses_the_cached_prompt(torch_daemon):
    voice = add_voice(torch_daemon, "Grandma", pitch=180)
    before = engine_status(torch_daemon)
    for text in ("Hello world.", "This is a tiny test."):
        _check_audio(*speak_chunks(torch_daemon, text, voice=f"qwen3:{voice}", seed=1))
    after = engine_status(torch_daemon)
    assert after["prompts_made"] == before["prompts_made"] + 1  # made once for two requests
    assert after["prompt_cache"]["hits"] >= before["prompt_cache"]["hits"] + 1
    cache = Path(torch_daemon.core.library.reference(voice).cache_dir)
    assert len(list(cache.glob("qwen3-prompt-*.pt"))) == 1


@pytest.mark.heavy
def test_torch_x_vector_clone_without_transcript(torch_daemon):
    voice = add_voice(torch_daemon, "No Transcript", transcript=None, language="de_DE")
    _check_audio(*speak_chunks(torch_daemon, "Guten Tag.", voice=f"qwen3:{voice}"))


@pytest.mark.heavy
def test_torch_default_voice_speaks_with_the_piper_reference(torch_daemon):
    _check_audio(*speak_chunks(torch_daemon, "Hello there.", voice="qwen3:en_US-default"))
    state = Path(torch_daemon.settings.state_dir)
    assert (state / "cache" / "qwen3" / "qwen3-default-reference.wav").is_file()


@pytest.mark.heavy
def test_torch_cloned_voice_uploaded_and_spoken_through_the_openai_client(torch_daemon):
    import soundfile

    client = openai_client(torch_daemon).with_options(timeout=300)
    sample = ("sample.wav", wav_bytes(reference_signal(pitch=300.0), 16000), "audio/wav")
    voice = client.audio.voices.create(
        name="Uploaded",
        audio_sample=sample,
        consent="cons_test",
        extra_body={"transcript": "this is a test of the reference voice", "language": "en"},
    ).model_dump()
    entries = {v.id for v in torch_daemon.core.voices() if v.engine == "qwen3"}
    assert f"qwen3:{voice['id']}" in entries
    with client.audio.speech.with_streaming_response.create(
        model="qwen3",
        voice=voice["id"],
        input="Hello from the uploaded voice.",
        response_format="wav",
        extra_body={"seed": 1},
    ) as response:
        assert response.headers["x-voxhost-voice"] == f"qwen3:{voice['id']}"
        data = response.read()
    audio, rate = soundfile.read(io.BytesIO(data), dtype="int16")
    _check_audio([audio.tobytes()], rate)
    assert engine_status(torch_daemon)["prompts_made"] >= 1


@pytest.mark.heavy
def test_torch_a_temperature_too_small_to_sample_with_is_a_400(torch_daemon):
    import soundfile

    data = refuses_an_unusable_temperature(
        openai_client(torch_daemon).with_options(timeout=300), "qwen3", "qwen3:en_US-default"
    )
    audio, rate = soundfile.read(io.BytesIO(data), dtype="int16")
    _check_audio([audio.tobytes()], rate)


@pytest.mark.heavy
def test_torch_default_voice_over_wyoming(torch_daemon):
    from wyoming.audio import AudioChunk, AudioStart, AudioStop
    from wyoming.client import AsyncTcpClient
    from wyoming.tts import Synthesize, SynthesizeVoice

    async def synthesize() -> list:
        async with AsyncTcpClient("127.0.0.1", torch_daemon.port) as client:
            voice = SynthesizeVoice(name="qwen3:en_US-default")
            await client.write_event(Synthesize(text="Good evening. The door is locked.", voice=voice).event())
            events = []
            while True:
                event = await asyncio.wait_for(client.read_event(), 300)
                assert event is not None, "the door closed the connection"
                events.append(event)
                if AudioStop.is_type(event.type) or event.type == "error":
                    return events

    events = asyncio.run(synthesize())
    assert AudioStart.is_type(events[0].type) and AudioStop.is_type(events[-1].type), [e.type for e in events]
    chunks = [AudioChunk.from_event(e) for e in events if AudioChunk.is_type(e.type)]
    assert {c.rate for c in chunks} == {24000}
    # two sentences, each at most the tiny model's token limit
    audio = samples(b"".join(c.audio for c in chunks))
    assert 0 < audio.size <= 2 * MAX_TOKENS * SAMPLES_PER_FRAME
    assert float(abs(audio).max()) > 0


@pytest.mark.heavy
def test_torch_unload_frees_the_worker_and_prompts_come_back_from_disk(torch_daemon):
    voice = add_voice(torch_daemon, "Reloaded", pitch=260)
    _check_audio(*speak_chunks(torch_daemon, "First.", voice=f"qwen3:{voice}"))
    runner = torch_daemon.core.registry.get("qwen3").runner
    pid = runner.pid
    torch_daemon.call(runner.unload("test"))
    assert not runner.loaded and runner.pid is None
    with pytest.raises(ProcessLookupError):
        _wait_gone(pid)
    _check_audio(*speak_chunks(torch_daemon, "Second.", voice=f"qwen3:{voice}"))
    status = engine_status(torch_daemon)
    assert status["pid"] != pid
    assert (status["prompts_made"], status["prompts_read"]) == (0, 1), status


def _wait_gone(pid: int) -> None:
    import os
    import time

    for _ in range(50):
        os.kill(pid, 0)
        time.sleep(0.1)


@pytest.mark.heavy
@pytest.mark.cuda
def test_torch_backend_on_cuda(models_dir, tmp_path):
    python = worker_python("qwen")
    probe = subprocess.run(
        [python, "-c", "import torch; print(torch.cuda.is_available())"], capture_output=True, text=True, check=True
    )
    if probe.stdout.strip() != "True":
        pytest.skip("no CUDA device in the qwen worker environment")
    with running_daemon(qwen3_settings(tmp_path / "state", models_dir, "torch", device="cuda:0")) as d:
        voice = add_voice(d, "Cuda")
        _check_audio(*speak_chunks(d, "Hello on the GPU.", voice=f"qwen3:{voice}"))
        status = engine_status(d)
        assert status["device"] == "cuda:0" and status["dtype"] == "bfloat16"
        assert status["cuda_allocated_mb"] > 0


@pytest.mark.heavy
@pytest.mark.slow
def test_mlx_backend_streams_chunks(models_dir, tmp_path):
    worker_python("qwen")  # builds the tiny model
    with running_daemon(qwen3_settings(tmp_path / "state", models_dir, "mlx")) as daemon:
        status = engine_status(daemon)
        assert status["loaded"] and status["backend"] == "mlx" and "cpu" in status["device"]
        assert "stream" in status["capabilities"]
        voice = add_voice(daemon, "Streamer")
        chunks, rate = speak_chunks(daemon, "Hello world.", voice=f"qwen3:{voice}", seed=0)
        # 0.32 s of audio per chunk is 4 codec frames: 12 frames arrive as several chunks of one sentence
        assert rate == 24000 and len(chunks) >= 2
        assert all(len(c) // 2 <= 4 * SAMPLES_PER_FRAME for c in chunks)
        _check_audio(chunks, rate, max_chunks=MAX_TOKENS)
        chunks, _ = speak_chunks(daemon, "Again.", voice=f"qwen3:{voice}", seed=0)
        assert engine_status(daemon)["prompt_cache"]["hits"] >= 1
        runner = daemon.core.registry.get("qwen3").runner
        daemon.call(runner.unload("test"))
        assert runner.pid is None


@pytest.mark.heavy
def test_torch_speed_stretches_the_same_speech(torch_daemon):
    def length(speed: float) -> int:
        chunks, rate = speak_chunks(torch_daemon, "Speed.", voice="qwen3:en_US-default", seed=7, speed=speed)
        assert rate == 24000
        return sum(len(chunk) for chunk in chunks) // 2

    normal, fast = length(1.0), length(1.5)
    assert fast == pytest.approx(normal / 1.5, rel=0.02)


@pytest.mark.heavy
def test_torch_library_voice_in_a_language_the_model_does_not_speak_is_not_offered(torch_daemon):
    # The tiny model speaks English, German, Chinese and French: a Finnish voice would be read with the wrong
    # sounds (the model guessed), so no door lists it as a Qwen3 voice, and a request naming it is told why.
    finnish = add_voice(torch_daemon, "Mummo", language="fi_FI", pitch=320)
    german = add_voice(torch_daemon, "Oma", language="de_DE", pitch=340)
    url = base_url(torch_daemon)
    listed = {
        v["id"] for v in httpx.get(url + "/v1/audio/voices", params={"engine": "qwen3"}, timeout=10).json()["voices"]
    }
    assert f"qwen3:{german}" in listed and f"qwen3:{finnish}" not in listed

    async def describe() -> set[str]:
        from wyoming.client import AsyncTcpClient
        from wyoming.info import Describe, Info

        async with AsyncTcpClient("127.0.0.1", torch_daemon.port) as client:
            await client.write_event(Describe().event())
            while not Info.is_type((event := await asyncio.wait_for(client.read_event(), 10)).type):
                pass
        return {v.name for v in Info.from_event(event).tts[0].voices}

    described = asyncio.run(describe())
    assert f"qwen3:{german}" in described and f"qwen3:{finnish}" not in described
    body = {"model": "qwen3", "voice": f"qwen3:{finnish}", "input": "Hyvää huomenta.", "response_format": "wav"}
    refused = httpx.post(url + "/v1/audio/speech", json=body, timeout=10)
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["param"] == "language" and f"{finnish!r} is stored in it" in error["message"], error
    assert "fi_FI" in error["message"] and "de_DE" in error["message"]
    # The voice carries across languages: asked for in one the model speaks, it is taken (checked, not spoken: a
    # new voice's clone prompt takes seconds on a CPU).

    async def prepare() -> str:
        job = torch_daemon.core.prepare(SpeechRequest(text="Good morning.", voice=f"qwen3:{finnish}", language="en"))
        return str(job.resolved.voice.id)

    assert torch_daemon.call(prepare()) == f"qwen3:{finnish}"
