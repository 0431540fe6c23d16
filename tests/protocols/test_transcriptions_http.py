"""Speech-to-text over HTTP, spoken to with the official openai client: every response format and streaming;
translations into English; the voice library's transcripts; checked speech; the models list, metrics and the
OpenAPI document."""

from __future__ import annotations

import io
import os
import re
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
import numpy as np
import openai
import pytest
import soundfile
import soxr

from voxhost.operations import SpeechRequest
from voxhost.protocols.http.settings import HttpSettings

from ..conftest import ServeProcess, free_port, make_settings, running_daemon
from ..listener import wer
from .http_helpers import base_url, client, metric, tone, two_hours_of_silence, wav_bytes

SENTENCE = "Please turn on the kitchen lights and set the thermostat to twenty one degrees."
TWO = "The quick brown fox jumps over the lazy dog. Dinner is ready, please come to the kitchen."


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    settings = make_settings(
        tmp_path_factory.mktemp("state"),
        engines={"whisper": {"enabled": True}},
        http={"enabled": True, "port": 0, "max_transcription_seconds": 120},
    )
    with running_daemon(settings) as d:
        yield d


def spoken(d, text: str, fmt: str = "WAV") -> bytes:
    pcm, rate = d.call(d.core.speak(SpeechRequest(text=text)))
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    return wav_bytes(samples, rate, fmt)


@pytest.fixture(scope="module")
def audio(daemon) -> bytes:
    return spoken(daemon, TWO)


def test_json_is_the_default(daemon, audio):
    result = client(daemon).audio.transcriptions.create(model="whisper-1", file=("speech.wav", audio))
    assert wer(TWO, result.text) <= 0.1, result.text
    assert result.usage.type == "duration" and result.usage.seconds > 3


def test_text_srt_and_vtt_are_plain_text(daemon, audio):
    api = client(daemon).audio.transcriptions
    text = api.create(model="whisper-1", file=("speech.wav", audio), response_format="text")
    assert isinstance(text, str) and wer(TWO, text) <= 0.1
    srt = api.create(model="whisper-1", file=("speech.wav", audio), response_format="srt")
    cues = re.findall(r"(\d+)\n(\d\d:\d\d:\d\d,\d{3}) --> (\d\d:\d\d:\d\d,\d{3})\n(.+)\n", srt)
    assert cues and [int(c[0]) for c in cues] == list(range(1, len(cues) + 1))
    assert wer(TWO, " ".join(c[3] for c in cues)) <= 0.1
    vtt = api.create(model="whisper-1", file=("speech.wav", audio), response_format="vtt")
    assert vtt.startswith("WEBVTT\n\n")
    cues = re.findall(r"(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n(.+)\n", vtt)
    assert cues and wer(TWO, " ".join(c[2] for c in cues)) <= 0.1
    response = httpx.post(
        base_url(daemon) + "/v1/audio/transcriptions",
        files={"file": ("speech.wav", audio)},
        data={"model": "whisper-1", "response_format": "srt"},
        timeout=60,
    )
    assert response.headers["content-type"].startswith("text/plain")


def test_verbose_json_has_language_segments_and_words(daemon, audio):
    api = client(daemon).audio.transcriptions
    verbose = api.create(
        model="whisper-1",
        file=("speech.wav", audio),
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
        language="en",
        temperature=0.0,
    )
    assert verbose.language == "english" and verbose.duration > 3 and wer(TWO, verbose.text) <= 0.1
    assert verbose.segments and verbose.segments[0].start >= 0 and verbose.segments[-1].end <= verbose.duration
    assert [s.id for s in verbose.segments] == list(range(len(verbose.segments))), "numbered from 0, as OpenAI does"
    words = [w.word.lower().strip(".,") for w in verbose.words]
    assert words[:4] == ["the", "quick", "brown", "fox"]
    assert all(a.start <= b.start for a, b in zip(verbose.words, verbose.words[1:], strict=False))
    # A hand-written form (curl -F) may name the list without its brackets: it is the same list.
    only_words = _post(daemon, audio, response_format="verbose_json", timestamp_granularities="word")
    assert only_words.status_code == 200, only_words.text
    assert only_words.json()["words"] and "segments" not in only_words.json(), only_words.json()
    default = api.create(model="whisper-1", file=("speech.wav", audio), response_format="verbose_json")
    assert default.segments and default.words is None


def _samples(d, text: str) -> tuple[np.ndarray, int]:
    """``text`` spoken by the daemon, as float samples and their rate."""
    pcm, rate = d.call(d.core.speak(SpeechRequest(text=text)))
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0, rate


def _cues(srt: str) -> list[tuple[float, float, str]]:
    """An SRT answer's cues: start and end in seconds, and text."""
    found = re.findall(r"\d+\n(\d\d):(\d\d):(\d\d),(\d{3}) --> (\d\d):(\d\d):(\d\d),(\d{3})\n(.+)\n", srt)
    seconds = [
        [int(c[i]) * 3600 + int(c[i + 1]) * 60 + int(c[i + 2]) + int(c[i + 3]) / 1000 for i in (0, 4)] for c in found
    ]
    return [(begin, end, c[8]) for (begin, end), c in zip(seconds, found, strict=True)]


def test_segments_after_a_long_pause_are_timed_where_their_speech_is(daemon):
    # Silence is cut out before Whisper hears the speech, and segment times are put back on the recording's clock.
    # Whisper started the second segment where the first ended, in the pause before the cut, so the subtitle began
    # there: 00:00:05,700 --> 00:00:22,090, shown through the twelve seconds of silence before its words.
    speech, rate = _samples(daemon, SENTENCE)
    lead, pause = 2.0, 12.0
    silence = np.zeros(int(rate * lead), np.float32)
    samples = np.concatenate([silence, speech, np.zeros(int(rate * pause), np.float32), speech, silence])
    resumes = lead + len(speech) / rate + pause
    api = client(daemon).audio.transcriptions
    cues = _cues(api.create(model="whisper-1", file=("pause.wav", wav_bytes(samples, rate)), response_format="srt"))
    assert len(cues) == 2 and all(wer(SENTENCE, cue[2]) <= 0.1 for cue in cues), cues
    assert abs(cues[0][0] - lead) < 0.5 and abs(cues[1][0] - resumes) < 0.5, (resumes, cues)
    verbose = api.create(
        model="whisper-1", file=("pause.wav", wav_bytes(samples, rate)), response_format="verbose_json"
    )
    assert [round(s.start) for s in verbose.segments] == [round(cue[0]) for cue in cues], (cues, verbose.segments)
    assert verbose.words is None, "words are timed to place the segments, not listed unasked"
    # Whisper made one segment of two sentences ten seconds apart (it heard them 0.8 s apart): one cue,
    # 00:00:00,000 --> 00:00:15,090, on screen through the silence. It is split where the silence was cut.
    first, second = "Dinner is ready, please come to the kitchen.", "The quick brown fox jumps over the lazy dog."
    (before, _), (after, _) = _samples(daemon, first), _samples(daemon, second)
    samples = np.concatenate([before, np.zeros(int(rate * 10), np.float32), after])
    cues = _cues(api.create(model="whisper-1", file=("two.wav", wav_bytes(samples, rate)), response_format="srt"))
    assert [wer(text, cue[2]) <= 0.1 for text, cue in zip((first, second), cues, strict=True)] == [True, True], cues
    assert cues[0][1] < len(before) / rate + 0.5 and cues[1][0] > len(before) / rate + 10 - 0.5, cues


def test_streaming_sends_deltas_then_done(daemon, audio):
    stream = client(daemon).audio.transcriptions.create(model="gpt-4o-transcribe", file=("a.wav", audio), stream=True)
    events = list(stream)
    kinds = [e.type for e in events]
    assert kinds[-1] == "transcript.text.done" and set(kinds[:-1]) == {"transcript.text.delta"}
    deltas = "".join(e.delta for e in events[:-1])
    assert deltas.strip() == events[-1].text and wer(TWO, events[-1].text) <= 0.1


def test_streaming_in_text_sends_the_same_events(daemon, audio):
    # OpenAI's speech-to-text guide streams with response_format="text": the events are the same as for json
    stream = client(daemon).audio.transcriptions.create(
        model="gpt-4o-mini-transcribe", file=("a.wav", audio), response_format="text", stream=True
    )
    events = list(stream)
    assert events and events[-1].type == "transcript.text.done" and wer(TWO, events[-1].text) <= 0.1


@pytest.mark.parametrize("fmt", ["srt", "vtt", "verbose_json"])
def test_a_format_that_does_not_stream_is_a_400_naming_response_format(daemon, audio, fmt):
    # The openai client reads a stream=True answer as server-sent events: srt, vtt or verbose_json sent as events
    # (their cues, timings and segments dropped) or as a plain answer (no events: an empty stream) would both lose
    # what was asked for without a word; the client gets an error that says which combination to use instead.
    with pytest.raises(openai.BadRequestError) as err:
        client(daemon).audio.transcriptions.create(
            model="gpt-4o-transcribe", file=("a.wav", audio), response_format=fmt, stream=True
        )
    error = err.value.body
    assert error["param"] == "response_format" and error["type"] == "invalid_request_error", error
    assert repr(fmt) in error["message"] and "json or text" in error["message"], error
    plain = _post(daemon, audio, response_format=fmt, stream="false")  # without the stream it is answered
    assert plain.status_code == 200, plain.text


def test_compressed_uploads_and_every_model_name(daemon):
    flac = spoken(daemon, SENTENCE, "FLAC")
    api = client(daemon).audio.transcriptions
    # "": Open WebUI's speech-to-text model field left empty, its default (it was a 400 "model is empty").
    for model in ("whisper-1", "gpt-4o-mini-transcribe", "whisper", "tiny.en", "auto", ""):
        result = api.create(model=model, file=("speech.flac", flac), language="en", prompt="thermostat")
        assert wer(SENTENCE, result.text) <= 0.1, (model, result.text)


def test_models_list_names_transcription_models_apart_from_speech(daemon):
    models = {m.id: m for m in client(daemon).models.list().data}
    assert models["whisper-1"].kind == "transcription" and models["whisper"].engine == "whisper"
    assert models["piper"].kind == "speech" and models["tts-1"].kind == "speech"
    assert client(daemon).models.retrieve("gpt-4o-transcribe").id == "gpt-4o-transcribe"
    with pytest.raises(openai.BadRequestError):  # a recognizer is not a voice
        client(daemon).audio.speech.create(model="whisper", voice="alloy", input="Hello.")


# -- translations: speech in, English text out ------------------------------------------------------------


def translate(d, **fields):
    """``client.audio.translations.create`` (which the client marks deprecated, as OpenAI's whisper-1 is)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return client(d).audio.translations.create(**fields)


def test_english_speech_translates_to_the_english_heard_in_every_format(daemon, audio):
    # tiny.en hears English only: translating its speech into English is transcribing it. An empty model is the default.
    result = translate(daemon, model="", file=("speech.wav", audio))
    assert wer(TWO, result.text) <= 0.1, result.text
    verbose = translate(daemon, model="whisper-1", file=("speech.wav", audio), response_format="verbose_json")
    assert verbose.language == "english" and verbose.duration > 3 and wer(TWO, verbose.text) <= 0.1
    assert verbose.segments and [s.id for s in verbose.segments] == list(range(len(verbose.segments)))
    assert verbose.segments[-1].end <= verbose.duration
    text = translate(daemon, model="whisper", file=("speech.wav", audio), response_format="text", temperature=0.0)
    assert isinstance(text, str) and text.endswith("\n") and wer(TWO, text) <= 0.1
    srt = translate(daemon, model="tiny.en", file=("speech.wav", audio), response_format="srt", prompt="Dinner.")
    cues = re.findall(r"(\d+)\n(\d\d:\d\d:\d\d,\d{3}) --> (\d\d:\d\d:\d\d,\d{3})\n(.+)\n", srt)
    assert cues and wer(TWO, " ".join(c[3] for c in cues)) <= 0.1
    vtt = translate(daemon, model="auto", file=("speech.flac", spoken(daemon, SENTENCE, "FLAC")), response_format="vtt")
    assert vtt.startswith("WEBVTT\n\n") and wer(SENTENCE, vtt.split("\n", 3)[3]) <= 0.1, vtt


def test_bad_translation_requests_get_openai_errors(daemon, audio):
    with pytest.raises(openai.BadRequestError) as err:
        translate(daemon, model="whisper-1", file=("empty.wav", b""))
    assert err.value.body["param"] == "file"
    with pytest.raises(openai.UnprocessableEntityError) as err:
        translate(daemon, model="whisper-1", file=("notes.txt", b"these bytes are not audio at all" * 50))
    assert err.value.body["code"] == "invalid_audio"
    with pytest.raises(openai.BadRequestError) as err:
        translate(daemon, model="nonsense-model", file=("speech.wav", audio))
    assert err.value.body["code"] == "model_not_found" and err.value.body["param"] == "model"
    url = base_url(daemon) + "/v1/audio/translations"
    for fields, param in (
        ({"response_format": "diarized_json"}, "response_format"),
        ({"temperature": "2"}, "temperature"),
        ({"language": "de"}, "language"),  # OpenAI's translations take no language: the one spoken is detected
        ({"stream": "true"}, "stream"),
    ):
        response = httpx.post(url, files={"file": ("a.wav", audio)}, data={"model": "whisper-1", **fields}, timeout=60)
        _error(response, 400, param)
    json_body = httpx.post(url, json={"model": "whisper-1"}, timeout=60)
    assert json_body.status_code == 415 and json_body.json()["error"]["type"] == "invalid_request_error"
    assert translate(daemon, model="whisper-1", file=("speech.wav", audio)).text, "the daemon keeps serving"


def test_a_translation_over_the_transcription_limit_is_a_413(daemon):
    limit = HttpSettings().max_transcription_mb  # the daemon's: it keeps the default
    response = httpx.post(
        base_url(daemon) + "/v1/audio/translations",
        files={"file": ("big.wav", bytes(int(limit * 1024 * 1024) + 1024))},
        data={"model": "whisper-1"},
        timeout=60,
    )
    assert _error(response, 413)["code"], response.text


# -- bad input: OpenAI-shaped errors ---------------------------------------------------------------------


def _post(daemon, file: bytes, **fields) -> httpx.Response:
    return httpx.post(
        base_url(daemon) + "/v1/audio/transcriptions",
        files={"file": ("upload.wav", file)},
        data={"model": "whisper-1", **fields},
        timeout=60,
    )


def _error(response: httpx.Response, status: int, param: str | None = None) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    if param is not None:
        assert error["param"] == param
    return error


def test_bad_input_gets_openai_errors(daemon, audio):
    api = client(daemon).audio.transcriptions
    with pytest.raises(openai.BadRequestError) as err:
        api.create(model="whisper-1", file=("empty.wav", b""))
    assert err.value.body["param"] == "file"
    with pytest.raises(openai.UnprocessableEntityError) as err:
        api.create(model="whisper-1", file=("notes.txt", b"these bytes are not audio at all" * 50))
    assert err.value.body["code"] == "invalid_audio"
    assert "Error" not in err.value.body["message"], "the client reads why, not a Python class name"
    png = b"\x89PNG\r\n\x1a\n" + bytes(2000)
    with pytest.raises(openai.UnprocessableEntityError) as err:
        api.create(model="whisper-1", file=("photo.png", png))
    assert err.value.body["code"] == "invalid_audio" and "Error" not in err.value.body["message"]
    with pytest.raises(openai.BadRequestError) as err:
        api.create(model="nonsense-model", file=("speech.wav", audio))
    assert err.value.body["code"] == "model_not_found"
    with pytest.raises(openai.BadRequestError) as err:
        api.create(model="whisper-1", file=("speech.wav", audio), language="de")
    assert err.value.body["param"] == "language"
    _error(_post(daemon, audio, response_format="diarized_json"), 400, "response_format")
    _error(_post(daemon, audio, stream="yes"), 400, "stream")
    _error(_post(daemon, audio, temperature="2"), 400, "temperature")
    wrong = _error(_post(daemon, audio, **{"timestamp_granularities[]": "syllable"}), 400, "timestamp_granularities[]")
    assert wrong["message"].startswith("invalid timestamp_granularities[] 'syllable'"), wrong  # the field as sent
    _error(_post(daemon, audio, diarize="yes"), 400, "diarize")
    accepted = _post(daemon, audio, **{"include[]": "logprobs", "chunking_strategy": "auto"})
    assert accepted.status_code == 200 and wer(TWO, accepted.json()["text"]) <= 0.1


def test_a_two_hour_upload_is_refused_before_it_is_decoded(daemon):
    data = two_hours_of_silence()
    assert len(data) < 5 * 1024 * 1024
    error = _error(_post(daemon, data), 422, "file")
    assert "7200" in error["message"] and "120" in error["message"]


def test_an_upload_under_openais_25_mb_is_taken(daemon):
    # A minute of a phone's recording (48 kHz stereo WAV) is 11 MiB: OpenAI takes up to 25 MB and Open WebUI sends
    # files up to 20 MB whole, but this was a 413 at the 10 MiB of voice samples.
    pcm, rate = daemon.call(daemon.core.speak(SpeechRequest(text=SENTENCE)))
    speech = soxr.resample(np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0, rate, 48000)
    mono = np.concatenate([speech, np.zeros(48000 * 58, dtype=np.float32)])
    data = wav_bytes(np.column_stack([mono, mono]), 48000)
    assert len(data) > 11 * 1024 * 1024
    result = client(daemon).audio.transcriptions.create(model="whisper-1", file=("recording.wav", data))
    assert wer(SENTENCE, result.text) <= 0.1, result.text


def _silence_flac(minutes: float) -> bytes:
    """Silence as a 16 kHz FLAC: a small upload that decodes to minutes of samples (and that VAD skips quickly)."""
    buffer = io.BytesIO()
    with soundfile.SoundFile(buffer, "w", 16000, 1, format="FLAC") as sound:
        sound.write(np.zeros(int(16000 * 60 * minutes), dtype=np.int16))
    return buffer.getvalue()


def _peak_growth(pid: int, work: Callable[[], object]) -> int:
    """How far a process's peak RSS rose above its RSS while ``work`` ran."""
    before = _memory(pid, "VmRSS")
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM counts from here
    work()
    return _memory(pid, "VmHWM") - before


def _memory(pid: int, field: str) -> int:
    """A process's ``VmRSS`` or ``VmHWM`` (its peak since the last reset), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} for {pid}")


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux's resettable peak RSS")
def test_uploads_waiting_for_the_recognizer_are_not_held_decoded(tmp_path, audio):
    # Nine 28-minute transcriptions at once took the daemon to 2.1 GB: each was decoded on arrival (float32 while
    # decoding, then PCM) and waited so in memory for the one engine slot. Decoded when the engine takes them up,
    # those waiting hold their files (kilobytes here), whatever they decode to.
    port = free_port()
    config = tmp_path / "voxhost.toml"
    config.write_text(
        f'state_dir = "{tmp_path / "state"}"\nshutdown_timeout = 2\n[engines.piper]\nenabled = false\n'
        "[engines.whisper]\nenabled = true\n[doors.wyoming]\nenabled = false\n[doors.mqtt]\nenabled = false\n"
        f'[doors.http]\nenabled = true\nhost = "127.0.0.1"\nport = {port}\n'
    )
    waiting = _silence_flac(29)
    decoded = 16000 * 60 * 29 * 4  # one waiting upload's samples as float32: 111 MiB
    serve = ServeProcess(config, {**os.environ, "HF_HUB_OFFLINE": "1"})
    try:
        serve.wait_ready()
        url = f"http://127.0.0.1:{port}/v1"
        api = openai.OpenAI(base_url=url, api_key="x", max_retries=0, timeout=60)
        started = time.monotonic()
        alone = _peak_growth(
            serve.proc.pid, lambda: api.audio.transcriptions.create(model="whisper-1", file=("first.wav", audio))
        )
        patience = (time.monotonic() - started) / 4  # the others give up long before the first is done, however fast
        impatient = openai.OpenAI(base_url=url, api_key="x", max_retries=0, timeout=patience)

        def with_others_waiting() -> None:
            with ThreadPoolExecutor(7) as pool:
                busy = pool.submit(api.audio.transcriptions.create, model="whisper-1", file=("first.wav", audio))
                time.sleep(patience / 2)  # the first holds the engine; the others queue behind it, then give up
                queued = [
                    pool.submit(impatient.audio.transcriptions.create, model="whisper-1", file=(f"{i}.flac", waiting))
                    for i in range(6)
                ]
                assert wer(TWO, busy.result().text) <= 0.1
                for request in queued:
                    with pytest.raises(openai.APITimeoutError):
                        request.result()
            time.sleep(0.5)  # a decoding thread outlives its request

        together = _peak_growth(serve.proc.pid, with_others_waiting)
    finally:
        serve.close()
    # The six waiting add less than one of them decoded to PCM (half its float32); decoded on arrival, 0.6-1.1 GB.
    assert together < alone + decoded / 2, (
        f"peak RSS grew {together / 2**20:.0f} MiB with six 29-minute uploads waiting, {alone / 2**20:.0f} MiB without"
    )


def test_no_recognizer_is_a_501(tmp_path):
    with running_daemon(make_settings(tmp_path / "state", http={"enabled": True, "port": 0})) as d:
        error = _error(_post(d, b"RIFF"), 501)
        assert error["code"] == "not_supported"
        # The openai client retries a 5xx twice, sending the file again each time, unless the answer says not to.
        with pytest.raises(openai.InternalServerError) as refused:
            client(d, retries=2).audio.transcriptions.create(model="whisper-1", file=("speech.wav", b"RIFF"))
        assert refused.value.response.headers["x-should-retry"] == "false"
        answered = metric(
            httpx.get(base_url(d) + "/metrics").text,
            "voxhost_http_requests_total",
            route="/v1/audio/transcriptions",
            status="501",
        )
        assert answered == 2, answered  # the form above and the client's one try
        assert not [m for m in client(d).models.list().data if m.kind == "transcription"]


# -- the voice library: transcripts heard, and refused when wrong ----------------------------------------


def test_a_voice_uploaded_without_a_transcript_gets_one(daemon):
    sample = spoken(daemon, "Welcome home. The front door is unlocked and the lights are on.")
    response = httpx.post(
        base_url(daemon) + "/v1/audio/voices", files={"audio_sample": ("me.wav", sample)}, data={"name": "Me"}
    )
    assert response.status_code == 200, response.text
    voice = response.json()
    assert wer("Welcome home. The front door is unlocked and the lights are on.", voice["transcript"]) <= 0.1
    wrong = httpx.post(
        base_url(daemon) + "/v1/audio/voices",
        files={"audio_sample": ("me.wav", sample)},
        data={"name": "Wrong", "transcript": "Bananas are an excellent source of potassium."},
    )
    error = _error(wrong, 400, "transcript")
    assert "front door" in error["message"].lower()
    a_tone = httpx.post(
        base_url(daemon) + "/v1/audio/voices",
        files={"audio_sample": ("hum.wav", wav_bytes(tone(220.0, 2.0)))},
        data={"name": "Hum"},
    )
    assert a_tone.status_code == 200 and a_tone.json()["transcript"] is None, "nothing heard: no transcript"


# -- checked speech over HTTP, and what the metrics say ---------------------------------------------------


def test_checked_speech_and_metrics(daemon, audio):
    speech = httpx.post(
        base_url(daemon) + "/v1/audio/speech",
        json={
            "input": "Good morning. The coffee is ready.",
            "voice": "alloy",
            "validate": True,
            "response_format": "wav",
        },
        timeout=60,
    )
    assert speech.status_code == 200
    bad = httpx.post(base_url(daemon) + "/v1/audio/speech", json={"input": "Hi.", "validate": {"max_wer": 3}})
    _error(bad, 400)
    client(daemon).audio.transcriptions.create(model="whisper-1", file=("speech.wav", audio))
    metrics = httpx.get(base_url(daemon) + "/metrics").text
    assert re.search(r'voxhost_transcriptions_total\{door="http",engine="whisper",outcome="ok"\} [1-9]', metrics)
    assert re.search(r'voxhost_checked_sentences_total\{door="http",engine="piper",outcome="passed"\} 2', metrics)
    assert 'voxhost_checked_wer_bucket{door="http",engine="piper"' in metrics


def test_the_openapi_document_describes_translations(daemon):
    doc = httpx.get(base_url(daemon) + "/openapi.json").json()
    operation = doc["paths"]["/v1/audio/translations"]["post"]
    assert set(operation["responses"]["200"]["content"]) == {"application/json", "text/plain"}
    form = doc["components"]["schemas"]["CreateTranslationRequest"]["properties"]
    assert set(form) == {"file", "model", "prompt", "response_format", "temperature"}
    assert "whisper-1" in form["model"]["enum"] and "tiny.en" in form["model"]["enum"]
    assert doc["components"]["schemas"]["TranslationVerbose"]["properties"]["language"]["const"] == "english"


def test_the_openapi_document_describes_transcriptions(daemon):
    doc = httpx.get(base_url(daemon) + "/openapi.json").json()
    operation = doc["paths"]["/v1/audio/transcriptions"]["post"]
    assert set(operation["responses"]["200"]["content"]) == {"application/json", "text/plain", "text/event-stream"}
    form = doc["components"]["schemas"]["CreateTranscriptionRequest"]["properties"]
    assert {"file", "model", "language", "prompt", "response_format", "timestamp_granularities[]", "stream"} <= set(
        form
    )
    assert "whisper-1" in form["model"]["enum"] and "tiny.en" in form["model"]["enum"]
    assert "" in form["model"]["enum"], "an empty model (Open WebUI's default) is taken: the document says so"
    either = doc["components"]["schemas"]["CreateTranscriptionRequest"]["anyOf"]  # no stream, or json or text
    assert either == [
        {"properties": {"stream": {"const": False}}},
        {"properties": {"response_format": {"enum": ["json", "text"]}}},
    ]
    assert "TranscriptStreamEvent" in doc["components"]["schemas"]
    speech = doc["components"]["schemas"]["CreateSpeechRequest"]["properties"]
    assert "validate" in speech
