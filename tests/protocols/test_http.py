"""The HTTP door, spoken to as users do: the official openai client (and plain HTTP where it has no method)."""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import logging
import struct
import time
from concurrent.futures import ThreadPoolExecutor

import httpx2 as httpx
import jsonschema_rs
import numpy as np
import openai
import pytest

from voxhost.events import JobAudio, JobCancelled, JobFinished
from voxhost.memory import resident_mib, trim_memory

from ..conftest import assert_speech, make_settings, running_daemon
from ..lab.sse import EventStream
from .http_helpers import (
    TEXT,
    EventLog,
    base_url,
    client,
    cloning_daemon,
    decode,
    dominant_frequency,
    expect_continue,
    plugin_dir,
    refused_before_the_body,
    tone,
    wav_bytes,
)

EXPECTED_RATE = {"pcm": 24000, "wav": 22050, "mp3": 22050, "opus": 24000, "aac": 22050, "flac": 22050}
CONTENT_TYPE = {
    "pcm": "audio/pcm",
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
}
LONG_TEXT = " ".join(f"Sentence number {i} is here to keep the engine busy for a while." for i in range(40))


@pytest.fixture(scope="module")
def piper(tmp_path_factory):
    """Piper only: no engine clones or converts."""
    state = tmp_path_factory.mktemp("piper-state")
    with running_daemon(make_settings(state, http={"enabled": True, "port": 0})) as d:
        yield d


@pytest.fixture(scope="module")
def cloning(tmp_path_factory):
    """Piper plus the pitchshift test engine (clone + convert); uploads limited to 1 MiB."""
    with cloning_daemon(tmp_path_factory, "clone-state", max_upload_mb=1) as d:
        yield d


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    """An API key (written with a secret file's final newline: clients send it without), CORS for one origin, and
    one job per engine (so a second request is busy)."""
    state = tmp_path_factory.mktemp("guarded-state")
    settings = make_settings(
        state,
        http={"enabled": True, "port": 0, "api_key": "sekrit\n", "cors_origins": ["http://ui.example"]},
        scheduler={"max_jobs_per_engine": 1},
    )
    with running_daemon(settings) as d:
        yield d


def speak(d, fmt: str, text: str = TEXT, **kwargs) -> tuple[bytes, dict[str, str], int]:
    """Stream a speech response with the openai client; body, headers, number of chunks received."""
    with client(d).audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input=text, response_format=fmt, **kwargs
    ) as response:
        chunks = list(response.iter_bytes())
        return b"".join(chunks), dict(response.headers), len(chunks)


def sample_voice(d, name: str = "Grandma", freq: float = 300.0, **extra) -> dict:
    """Upload a voice-like sample through the openai client's voices API."""
    voice = client(d).audio.voices.create(
        name=name,
        audio_sample=("sample.wav", wav_bytes(tone(freq, 2.0)), "audio/wav"),
        consent="cons_test",
        extra_body=extra or None,
    )
    return voice.model_dump()


# -- speech --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["pcm", "wav", "mp3", "opus", "aac", "flac"])
def test_speech_streams_every_format(piper, fmt):
    data, headers, _ = speak(piper, fmt)
    assert headers["content-type"].startswith(CONTENT_TYPE[fmt])
    assert headers.get("transfer-encoding") == "chunked" and "content-length" not in headers
    if fmt == "pcm":
        assert len(data) % 2 == 0
    if fmt == "wav":  # streamed WAV: unknown sizes, as OpenAI writes them
        assert data[:4] == b"RIFF" and struct.unpack("<I", data[4:8])[0] == 0xFFFFFFFF
        assert struct.unpack("<I", data[40:44])[0] == 0xFFFFFFFF
    pcm, rate = decode(fmt, data)
    assert_speech(pcm, rate, 2.0, 7.0, expect_rate=EXPECTED_RATE[fmt])


def voiced_seconds(pcm: bytes, rate: int) -> float:
    """From the first to the last sample above 2% of the peak: the speech, without Piper's edge silence."""
    samples = np.abs(np.frombuffer(pcm, dtype="<i2").astype(np.float32))
    loud = np.nonzero(samples > 0.02 * samples.max())[0]
    return (loud[-1] - loud[0]) / rate


@pytest.mark.parametrize("speed", [0.25, 0.5, 2.0, 4.0])
def test_speed_is_the_speed_asked(piper, speed):
    """Piper's length scale is not proportional to duration (twice it was 1.75x as long; 0.25 of it 2x as fast):
    a speed through the openai client lasts the normal duration divided by the speed, within 15%; slower than 1,
    where Piper reaches every speed itself, within 8% (without noise, so that durations are the same each time)."""
    quiet = {"extra_body": {"options": {"noise_scale": 0.0, "noise_w_scale": 0.0}}}
    normal = voiced_seconds(*decode("pcm", speak(piper, "pcm", **quiet)[0]))
    seconds = voiced_seconds(*decode("pcm", speak(piper, "pcm", speed=speed, **quiet)[0]))
    tolerance = 0.15 if speed > 1 else 0.08
    assert abs(seconds * speed / normal - 1) <= tolerance, f"speed {speed}: {seconds:.2f} s, normal {normal:.2f} s"


def test_double_speed_is_twice_as_fast_and_heard_right(piper):
    """Past what Piper's length scale reaches the rest is time-stretched: Whisper still hears every word."""
    from ..listener import hear, wer

    normal = voiced_seconds(*decode("pcm", speak(piper, "pcm")[0]))
    pcm, rate = decode("pcm", speak(piper, "pcm", speed=2.0)[0])
    assert voiced_seconds(pcm, rate) <= normal / 2 * 1.15
    assert wer(TEXT, hear(pcm, rate)) <= 0.1


@pytest.mark.parametrize("fmt", ["pcm", "mp3"])
def test_first_bytes_leave_before_the_job_ends(piper, fmt):
    log = EventLog(piper)
    try:
        with client(piper).audio.speech.with_streaming_response.create(
            model="tts-1", voice="alloy", input=TEXT + " " + TEXT, response_format=fmt
        ) as response:
            job_id = response.headers["x-voxhost-job"]
            chunks = response.iter_bytes()
            next(chunks)
            first_byte = time.monotonic()
            rest = b"".join(chunks)
        finished_at, _ = log.wait_for(job_id, JobFinished)
        first_audio, _ = log.wait_for(job_id, JobAudio)
    finally:
        log.close()
    assert rest
    assert first_audio <= first_byte < finished_at, "audio must stream while the engine still works"


@pytest.mark.parametrize("fmt", ["pcm", "wav", "mp3", "opus", "aac", "flac"])
def test_nothing_to_speak_still_answers_a_file_players_open(piper, fmt):
    # Only emoji and punctuation: the text front-end leaves nothing to speak. MP3, Opus and AAC answers were 0 bytes,
    # which no player or decoder opens; then WAV and PCM were a file without samples, which Chromium's
    # decodeAudioData refuses (EncodingError) and its <audio> will not play. Now the 0.1 s of silence Wyoming gives.
    data, headers, _ = speak(piper, fmt, text="😀🎉 ... 👍")
    assert headers["content-type"].startswith(CONTENT_TYPE[fmt])
    pcm, _ = decode(fmt, data)
    seconds, loudest = len(pcm) / 2 / EXPECTED_RATE[fmt], np.abs(np.frombuffer(pcm, "<i2")).max()
    assert 0.09 < seconds < 0.2 and loudest <= 4, (seconds, loudest)  # silence (resampling's dither at most)
    assert headers["x-voxhost-nothing-to-say"] == "true"  # a page says so rather than show 0.1 s of audio
    if fmt == "wav":
        assert "x-voxhost-nothing-to-say" not in speak(piper, fmt, text="Hi.")[1]


def test_speed_changes_duration_and_voice_object_is_accepted(piper):
    normal, _ = decode("pcm", speak(piper, "pcm")[0])
    with client(piper).audio.speech.with_streaming_response.create(
        model="piper",
        voice={"id": "piper:en_US-joe-medium"},
        input=TEXT,
        response_format="pcm",
        speed=2.0,
        instructions="Speak cheerfully.",
    ) as response:
        fast = response.read()
    assert 0.35 < len(fast) / len(normal) < 0.7


@pytest.mark.parametrize("speaker", ["0", 0])
def test_speaker_zero_of_a_single_speaker_voice_is_that_voice(piper, speaker):
    data, _, _ = speak(piper, "pcm", text="Hi.", extra_body={"speaker": speaker})
    assert_speech(*decode("pcm", data), 0.2, 3.0, expect_rate=EXPECTED_RATE["pcm"])


def test_sse_deltas_reassemble_into_audio(piper):
    deltas, done = [], None
    with client(piper).audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="alloy", input=TEXT, response_format="mp3", stream_format="sse"
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line[len("data: ") :])
            if event["type"] == "speech.audio.delta":
                assert done is None
                deltas.append(base64.b64decode(event["audio"]))
            else:
                assert event["type"] == "speech.audio.done"
                done = event
    assert len(deltas) > 1 and done is not None
    assert set(done["usage"]) == {"input_tokens", "output_tokens", "total_tokens"}
    assert done["usage"]["output_tokens"] > 0
    pcm, rate = decode("mp3", b"".join(deltas))
    assert_speech(pcm, rate, 2.0, 7.0)


def test_sse_usage_counts_the_silence_of_a_text_with_nothing_to_say(piper):
    # The done event counted the engine's audio, of which there was none: output_tokens 0 beside 0.1 s of silence sent.
    with client(piper).audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input="😀🎉 👍", response_format="pcm", stream_format="sse"
    ) as response:
        events = [json.loads(line[len("data: ") :]) for line in response.iter_lines() if line.startswith("data: ")]
    pcm = b"".join(base64.b64decode(e["audio"]) for e in events if e["type"] == "speech.audio.delta")
    seconds = len(pcm) / 2 / EXPECTED_RATE["pcm"]
    assert events[-1]["type"] == "speech.audio.done" and 0.09 < seconds < 0.2, (events[-1], seconds)
    assert events[-1]["usage"] == {"input_tokens": 4, "output_tokens": 5, "total_tokens": 9}, events[-1]


def test_client_exceptions_carry_our_messages(piper):
    c = client(piper)
    cases = [
        ({"input": "x" * 4097}, "4097 characters", "input"),
        ({"input": "Hi.", "speed": 5}, "speed must be between 0.25 and 4.0", "speed"),
        ({"input": "Hi.", "voice": "nobody"}, "unknown voice 'nobody'; see the voice list", "voice"),
        # a typo of a voice, or a part of its name: the one meant is named
        ({"input": "Hi.", "voice": "joe"}, "'joe' (did you mean piper:en_US-joe-medium?)", "voice"),
        ({"input": "Hi.", "model": "tts-9"}, "unknown model 'tts-9'", "model"),
        ({"input": "Hi.", "response_format": "ogg"}, "invalid response_format 'ogg'", "response_format"),
        ({"input": "   "}, "input is empty", "input"),
    ]
    for body, message, param in cases:
        body = {"model": "tts-1", "voice": "alloy", **body}
        with pytest.raises(openai.BadRequestError) as caught:
            c.audio.speech.create(**body)
        assert message in caught.value.message
        error = caught.value.body
        assert error["param"] == param and error["type"] == "invalid_request_error" and "code" in error


def test_errors_have_openai_shape_for_raw_http(piper):
    url = base_url(piper)
    bad_json = httpx.post(url + "/v1/audio/speech", content=b"{nope", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400
    assert set(bad_json.json()["error"]) == {"message", "type", "param", "code"}
    missing = httpx.get(url + "/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong_method = httpx.get(url + "/v1/audio/speech")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["code"] == "method_not_allowed"


def test_disconnect_mid_stream_cancels_the_job(piper):
    log = EventLog(piper)
    try:
        with client(piper).audio.speech.with_streaming_response.create(
            model="tts-1", voice="alloy", input=LONG_TEXT, response_format="pcm"
        ) as response:
            job_id = response.headers["x-voxhost-job"]
            chunks = response.iter_bytes()
            next(chunks)
        # Leaving the block closes the connection mid-stream.
        cancelled_at, event = log.wait_for(job_id, JobCancelled, timeout=5)
        time.sleep(0.5)
        late_audio = [t for t, _ in log.of(job_id, JobAudio) if t > cancelled_at]
        spoken = {e.sentence for _, e in log.of(job_id, JobAudio)}
    finally:
        log.close()
    assert "went away" in event.reason
    assert not late_audio and len(spoken) < 10, "the engine must stop working for a client that left"
    assert piper.core.registry.get("piper").scheduler.depth == 0
    started = time.monotonic()
    with client(piper).audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input="Are you free again?", response_format="pcm"
    ) as response:
        next(response.iter_bytes())
        assert time.monotonic() - started < 3.0


def test_several_clients_at_once(piper):
    formats = ["pcm", "mp3", "wav", "opus", "flac", "aac"]
    with ThreadPoolExecutor(len(formats)) as pool:
        results = list(pool.map(lambda fmt: (fmt, speak(piper, fmt)[0]), formats))
    for fmt, data in results:
        pcm, rate = decode(fmt, data)
        assert_speech(pcm, rate, 2.0, 7.0, expect_rate=EXPECTED_RATE[fmt])
    assert not piper.core.jobs()


def test_optional_fields_sent_as_null_take_their_defaults(piper):
    # The openai client sends a parameter given as None as null (speed=None was a 400, "Input should be a valid
    # number"), and so do clients that serialize every field of their request object.
    with client(piper).audio.speech.with_streaming_response.create(
        model="tts-1",
        voice="alloy",
        input="Hi.",
        speed=None,
        response_format=None,
        stream_format=None,
        instructions=None,
        extra_body={"options": None, "async": None, "seed": None, "keep": None},
    ) as response:
        assert response.headers["content-type"] == "audio/mpeg"
        assert_speech(*decode("mp3", response.read()), 0.2, 3.0)
    document = httpx.get(base_url(piper) + "/openapi.json").json()
    _validator(document, "CreateSpeechRequest").validate({"input": "Hi.", "speed": None, "response_format": None})


def test_empty_response_format_is_a_400_not_the_default(piper):
    with pytest.raises(openai.BadRequestError) as caught:
        client(piper).audio.speech.create(model="tts-1", voice="alloy", input="Hi.", response_format="")
    assert caught.value.body["param"] == "response_format"
    assert "invalid response_format ''" in caught.value.message


def test_body_validation_errors_name_the_field(piper):
    url = base_url(piper) + "/v1/audio/speech"
    cases = [
        ({"voice": "alloy"}, "input", "input is required"),
        ({"input": 5}, "input", "input"),
        ({"input": "Hi.", "speed": "fast"}, "speed", "speed"),
        ({"input": "Hi.", "speed": 0.1}, "speed", "speed must be between 0.25 and 4.0; got 0.1"),
        ({"input": "Hi.", "seed": -1}, "seed", "seed must be between"),
        ({"input": "Hi.", "seed": True}, "seed", "seed"),
        ({"input": "Hi.", "voice": {"id": 5}}, "voice", "voice"),
        ({"input": "Hi.", "voice": {"name": "x"}}, "voice", 'voice must be a name or an object {"id"'),
        ({"input": "Hi.", "voice": {"id": " "}}, "voice", 'voice must be a name or an object {"id"'),
        ({"input": "Hi.", "options": []}, "options", "options"),
        ({"input": "Hi.", "options": {"volume": False}}, "options", "volume"),
        ({"input": "Hi.", "stream_format": "ogg"}, "stream_format", "invalid stream_format 'ogg'"),
        ({"input": "Hi.", "language": "not a language"}, "language", "invalid language"),
        ({"input": "Hi.", "language": "xx_XX"}, "language", "no running voice speaks language 'xx_XX'"),
        ({"input": "Hi.", "speaker": "3"}, "speaker", "single speaker"),
        ({"input": "Hi.", "model": "nobody"}, "model", "unknown model 'nobody'"),
        # Limits on fields with validators of their own are counted in characters too, not pydantic's "items".
        ({"input": "Hi.", "instructions": "a" * 4097}, "instructions", "instructions is 4097 characters long"),
        ({"input": "Hi.", "speaker": ""}, "speaker", "speaker is empty"),
    ]
    for body, param, message in cases:
        response = httpx.post(url, json=body)
        assert response.status_code == 400, (body, response.text)
        error = response.json()["error"]
        assert error["param"] == param and message in error["message"], (body, error)
        assert error["type"] == "invalid_request_error" and error["code"]
    # Malformed bodies are a 400 too, never a 500: deep nesting, not an object, not UTF-8.
    deep = b'{"input": "Hi.", "options": {"a": ' + b"[" * 5000 + b"]" * 5000 + b"}}"
    for content in (deep, b"[1, 2]", b'{"input": "\xff"}', b"\xff\xfe", b""):
        response = httpx.post(url, content=content, headers={"Content-Type": "application/json"})
        assert response.status_code == 400, (content[:40], response.text)
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}


def _validator(doc: dict, name: str) -> jsonschema_rs.Validator:
    """A validator of one of the document's schemas, references resolved within the document."""
    return jsonschema_rs.validator_for({"$ref": f"#/components/schemas/{name}", "components": doc["components"]})


def test_document_input_limit_is_the_configured_one(tmp_path):
    settings = make_settings(tmp_path / "state", http={"enabled": True, "port": 0, "max_input_chars": 120})
    with running_daemon(settings) as d:
        url = base_url(d)
        doc = httpx.get(url + "/openapi.json").json()
        speech = doc["components"]["schemas"]["CreateSpeechRequest"]
        assert speech["properties"]["input"]["maxLength"] == 120
        assert speech["properties"]["input"]["minLength"] == 1
        body = {"model": "piper", "voice": "alloy", "input": "Too long. " * 12 + "x", "response_format": "pcm"}
        refused = httpx.post(url + "/v1/audio/speech", json=body)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "text_too_long"
        assert "121 characters long; the maximum is 120" in refused.json()["error"]["message"]
        body["input"] = body["input"][:120]
        assert httpx.post(url + "/v1/audio/speech", json=body, timeout=60).status_code == 200


def test_document_lists_formats_bounds_and_names(piper):
    doc = httpx.get(base_url(piper) + "/openapi.json").json()
    schemas = doc["components"]["schemas"]
    speech = schemas["CreateSpeechRequest"]["properties"]
    assert schemas["ResponseFormat"]["enum"] == ["mp3", "opus", "aac", "flac", "wav", "pcm"]
    speed = next(b for b in speech["speed"]["anyOf"] if b.get("type") == "number")  # or null: the default
    assert (speed["minimum"], speed["maximum"]) == (0.25, 4.0)
    voices = next(b for b in speech["voice"]["anyOf"] if b.get("type") == "string")["enum"]
    assert {"alloy", "piper:en_US-joe-medium"} <= set(voices)
    models = next(b for b in speech["model"]["anyOf"] if b.get("type") == "string")["enum"]
    assert {"piper", "tts-1", "auto"} <= set(models)
    query = {p["name"]: p for p in doc["paths"]["/v1/audio/voices"]["get"]["parameters"]}
    assert set(query["model"]["schema"]["enum"]) == set(models)
    name = schemas["CreateVoiceRequest"]["properties"]["name"]
    assert name["maxLength"] == 64 and "pattern" in name
    audio = doc["paths"]["/v1/audio/speech"]["post"]["responses"]["200"]["content"]
    assert {"audio/mpeg", "audio/wav", "audio/pcm", "text/event-stream"} <= set(audio)
    assert "security" not in doc and "securitySchemes" not in doc["components"]


def test_sse_events_match_the_document(piper):
    url = base_url(piper)
    doc = httpx.get(url + "/openapi.json").json()
    stream = EventStream(url + "/v1/events")
    try:
        body = {"model": "tts-1", "voice": "alloy", "input": TEXT, "response_format": "opus", "stream_format": "sse"}
        response = httpx.post(url + "/v1/audio/speech", json=body, timeout=60)
        job_id = response.headers["x-voxhost-job"]
        stream.wait_for(lambda e: e["event"] == "job_finished" and e["job_id"] == job_id)
        live = list(stream.events)
    finally:
        stream.close()
    speech_events = [json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: ")]
    sse = _validator(doc, "SpeechStreamEvent")
    for event in speech_events:
        sse.validate(event)
    assert [e["type"] for e in speech_events][-1] == "speech.audio.done" and len(speech_events) > 2
    assert not sse.is_valid({"type": "speech.audio.done"})  # the schema is exact: usage is required
    events = _validator(doc, "LiveEvent")
    for event in live:
        events.validate(event)
    kinds = {e["event"] for e in live}
    assert {"hello", "job_accepted", "job_started", "job_progress", "job_finished"} <= kinds
    assert not events.is_valid({"event": "job_finished", "job_id": "x"})


def test_schema_valid_requests_from_the_document_succeed(piper):
    url = base_url(piper)
    doc = httpx.get(url + "/openapi.json").json()
    schemas = doc["components"]["schemas"]
    speech = schemas["CreateSpeechRequest"]["properties"]
    # The names (not "", the default, which the document takes as well)
    voices = [v for v in next(b for b in speech["voice"]["anyOf"] if b.get("type") == "string")["enum"] if v]
    models = [m for m in next(b for b in speech["model"]["anyOf"] if b.get("type") == "string")["enum"] if m]
    valid = _validator(doc, "CreateSpeechRequest")
    bodies = [
        {"input": "Hello.", "model": models[0], "voice": voices[0], "response_format": "wav"},
        {"input": "Hello.", "model": models[-1], "voice": {"id": voices[-1]}, "response_format": "pcm", "speed": 4.0},
        {"input": "Hello.", "language": "EN-gb", "response_format": "flac", "seed": 7, "options": {"volume": 0.5}},
    ]
    for body in bodies:
        assert valid.is_valid(body), body
        response = httpx.post(url + "/v1/audio/speech", json=body, timeout=60)
        assert response.status_code == 200, (body, response.text)
        pcm, rate = decode(body["response_format"], response.content)
        assert len(pcm) / 2 / rate > 0.1  # "Hello." is about half a second, a quarter of that at speed 4
    for bad in ({"input": ""}, {"input": "Hi.", "response_format": ""}, {"input": "Hi.", "voice": "nobody"}):
        assert not valid.is_valid(bad), bad
        assert httpx.post(url + "/v1/audio/speech", json=bad).status_code == 400


# -- discovery, health, metrics, docs ---------------------------------------------------------------------


def test_head_on_streamed_routes_sends_headers_only(piper):
    job_id = httpx.post(
        base_url(piper) + "/v1/audio/speech", json={"input": TEXT, "async": True, "response_format": "mp3"}
    ).json()["id"]
    with httpx.Client(base_url=base_url(piper), timeout=30) as http:  # one kept-alive connection for every request
        for path, content_type in [(f"/v1/jobs/{job_id}/audio", "audio/mpeg"), ("/v1/events", "text/event-stream")]:
            head = http.head(path)
            assert head.status_code == 200 and head.headers["content-type"].startswith(content_type)
            assert head.content == b""
            # Before the fix the body followed the HEAD answer and this read it as its status line.
            assert http.get("/health").status_code == 200, path
        assert http.head("/v1/jobs/job_nope/audio").status_code == 404


def test_event_stream_clients_that_leave_leave_nothing_behind(piper):
    destroyed: list[str] = []

    class Pending(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "destroyed but it is pending" in record.getMessage():
                destroyed.append(record.getMessage())

    handler = Pending()
    logging.getLogger("asyncio").addHandler(handler)
    try:
        for _ in range(5):
            with httpx.stream("GET", base_url(piper) + "/v1/events", timeout=30) as response:
                next(response.iter_lines())  # the stream is open: its handler waits for events
        time.sleep(0.5)  # the door cancels each handler as its client leaves

        async def waiting_getters() -> int:
            return sum(1 for task in asyncio.all_tasks() if "Queue.get" in repr(task.get_coro()))

        assert piper.call(waiting_getters()) == 0, "a left client's wait for the next event is still pending"
        gc.collect()  # a pending task that is collected is reported as destroyed
        piper.settle()
    finally:
        logging.getLogger("asyncio").removeHandler(handler)
    assert not destroyed


def test_an_unloaded_engine_gives_its_memory_back(piper):
    """An unload (asked for, or after ``idle_unload``) leaves nothing freed inside the process: the allocator kept
    a Piper voice's sessions (about 100 MiB) and each load after an unload took fresh memory beside them."""
    url = base_url(piper)
    speak(piper, "wav")  # loaded, and has spoken
    try:
        assert httpx.post(url + "/v1/engines/piper/unload", timeout=60).status_code == 200
        unloaded = resident_mib()
        trim_memory()
        kept = (unloaded or 0) - (resident_mib() or 0)
    finally:
        assert httpx.post(url + "/v1/engines/piper/load", timeout=60).status_code == 200
    assert kept < 30, f"{kept:.0f} MiB freed by the unload was still held by the process"


def test_discovery(piper):
    c = client(piper)
    models = {m.id for m in c.models.list()}
    assert {"piper", "tts-1", "tts-1-hd", "gpt-4o-mini-tts"} <= models
    assert c.models.retrieve("tts-1").id == "tts-1"
    with pytest.raises(openai.NotFoundError) as missing:
        c.models.retrieve("tts-2")
    assert missing.value.body["code"] == "model_not_found", missing.value.body  # OpenAI's code for it
    url = base_url(piper)
    audio_models = httpx.get(url + "/v1/audio/models").json()["models"]
    assert {"piper", "tts-1"} <= {m["id"] for m in audio_models}
    voices = httpx.get(url + "/v1/audio/voices").json()["voices"]
    joe = next(v for v in voices if v["id"] == "piper:en_US-joe-medium")
    assert joe["name"] and joe["languages"] == ["en_US"] and joe["engine"] == "piper"
    assert "alloy" in joe["aliases"]
    assert httpx.get(url + "/v1/audio/voices", params={"language": "de"}).json()["voices"] == []


def test_health_and_probe_paths(piper):
    url = base_url(piper)
    health = httpx.get(url + "/health")
    assert health.status_code == 200 and health.headers["content-type"].startswith("application/json")
    body = health.json()
    assert body["status"] == "ok" and body["engines"][0]["id"] == "piper" and "http" in body["doors"]
    # wyoming_openai guesses its backend from these: voxhost must not look like LocalAI or Kokoro-FastAPI.
    for path in ("/readyz", "/v1/readyz", "/v1/test", "/test"):
        assert httpx.get(url + path).status_code == 404


def test_metrics_count_jobs_by_door_and_engine(piper):
    speak(piper, "pcm", "Counting this one.")
    text = httpx.get(base_url(piper) + "/metrics").text
    assert 'voxhost_jobs_total{door="http",engine="piper",outcome="finished"}' in text
    assert 'voxhost_time_to_first_audio_seconds_count{door="http",engine="piper"}' in text
    assert 'voxhost_real_time_factor_count{door="http",engine="piper"}' in text
    assert 'voxhost_queue_depth{engine="piper"} 0.0' in text


def test_openapi_covers_every_route(piper):
    url = base_url(piper)
    doc = httpx.get(url + "/openapi.json").json()
    app_routes = set()
    for door in piper.core.doors:
        if door.name == "http":
            for route in door._runner.app.router.routes():
                if route.method != "HEAD":
                    app_routes.add((route.resource.canonical, route.method.lower()))
    documented = {(path, method) for path, item in doc["paths"].items() for method in item}
    assert app_routes == documented
    page = httpx.get(url + "/docs")
    assert page.headers["content-type"].startswith("text/html")
    for path in doc["paths"]:
        assert path in page.text


# -- auth, CORS, busy ------------------------------------------------------------------------------------


def test_api_key(guarded):
    with pytest.raises(openai.AuthenticationError) as caught:
        client(guarded, api_key="wrong").audio.speech.create(model="tts-1", voice="alloy", input="Hi.")
    assert "API key" in caught.value.message and caught.value.body["code"] == "invalid_api_key"
    audio = client(guarded, api_key="sekrit").audio.speech.create(
        model="tts-1", voice="alloy", input="Hi there.", response_format="wav"
    )
    assert audio.content[:4] == b"RIFF"
    url = base_url(guarded)
    assert httpx.get(url + "/v1/audio/voices").status_code == 200  # discovery stays open by default
    assert httpx.get(url + "/health").status_code == 200
    assert httpx.get(url + "/metrics").status_code == 401
    assert httpx.get(url + "/metrics", headers={"Authorization": "Bearer sekrit"}).status_code == 200
    assert httpx.post(url + "/v1/audio/voices").status_code == 401


def test_an_upload_without_the_key_waiting_for_100_continue_is_refused_before_its_body(guarded):
    """A client that asks before sending its body is told the 401 instead of ``100 Continue``."""
    head = "POST /v1/audio/voices HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=x"
    headers, _ = refused_before_the_body(expect_continue(guarded, head, None, length=5_000_000), 401, "invalid_api_key")
    assert headers["www-authenticate"].startswith("Bearer"), headers
    head += "\r\nAuthorization: Bearer sekrit"
    answers = expect_continue(guarded, head, b"--x--\r\n")  # with the key it is told to go on, and answered
    assert [status for status, _, _ in answers] == [100, 400], answers  # an empty form: a 400, not a 401


def test_document_with_an_api_key(guarded):
    doc = httpx.get(base_url(guarded) + "/openapi.json").json()
    assert doc["security"] == [{"bearer": []}]
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    paths = doc["paths"]
    assert paths["/health"]["get"]["security"] == [] and "401" not in paths["/health"]["get"]["responses"]
    assert paths["/v1/audio/voices"]["get"]["security"] == []  # open_discovery
    speech = paths["/v1/audio/speech"]["post"]
    assert "security" not in speech and "401" in speech["responses"]
    assert paths["/metrics"]["get"]["responses"]["401"]["headers"]["WWW-Authenticate"]


def test_cors(guarded):
    url = base_url(guarded)
    preflight = httpx.options(
        url + "/v1/audio/speech",
        headers={
            "Origin": "http://ui.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "http://ui.example"
    assert "authorization" in preflight.headers["access-control-allow-headers"]
    listed = httpx.get(url + "/v1/audio/voices", headers={"Origin": "http://ui.example"})
    assert listed.headers["access-control-allow-origin"] == "http://ui.example"
    other = httpx.get(url + "/v1/audio/voices", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_busy_is_503_with_retry_after(guarded):
    c = client(guarded, api_key="sekrit")
    with c.audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input=LONG_TEXT, response_format="pcm"
    ) as response:
        chunks = response.iter_bytes()  # held: a dropped iterator closes the response
        next(chunks)
        with pytest.raises(openai.InternalServerError) as caught:
            c.audio.speech.create(model="tts-1", voice="alloy", input="Me too.")
    assert caught.value.status_code == 503
    assert int(caught.value.response.headers["retry-after"]) >= 1
    assert caught.value.body["code"] == "busy"


# -- voice library -----------------------------------------------------------------------------------------


def test_voice_library_round_trip(cloning):
    c = client(cloning)
    voice = sample_voice(cloning, "Grandma Rose", transcript="Hello, dear.", language="en-us")
    assert voice["object"] == "audio.voice" and voice["type"] == "audio_sample"
    assert voice["id"].startswith("voice_grandma_rose_") and voice["name"] == "Grandma Rose"
    url = base_url(cloning)
    fetched = httpx.get(f"{url}/v1/audio/voices/{voice['id']}").json()
    assert fetched["transcript"] == "Hello, dear." and fetched["language"] == "en_US"
    assert fetched["engines"] == [f"pitchshift:{voice['id']}"]
    listed = httpx.get(url + "/v1/audio/voices").json()["voices"]
    assert any(v["id"] == f"pitchshift:{voice['id']}" and v["kind"] == "cloned" for v in listed)
    # The document lists the names the server takes now: the new voice for speech and as a conversion target.
    schemas = httpx.get(url + "/openapi.json").json()["components"]["schemas"]
    speech_voices = next(b for b in schemas["CreateSpeechRequest"]["properties"]["voice"]["anyOf"] if "enum" in b)
    assert {voice["id"], f"pitchshift:{voice['id']}"} <= set(speech_voices["enum"])
    assert voice["id"] in schemas["VoiceReference"]["properties"]["id"]["enum"]
    conversion = schemas["CreateConversionRequest"]["properties"]
    assert voice["id"] in conversion["voice"]["enum"] and conversion["model"]["enum"] == ["pitchshift", "auto", ""]
    with c.audio.speech.with_streaming_response.create(
        model="tts-1", voice={"id": voice["id"]}, input="Come over for tea.", response_format="wav"
    ) as response:
        pcm, rate = decode("wav", response.read())
    assert rate == 24000 and 0.5 < len(pcm) / 2 / rate < 3
    assert abs(dominant_frequency(pcm, rate) - 300) < 10  # the cloned voice's own pitch
    deleted = c.audio.voices.delete(voice["id"])
    assert deleted.deleted and deleted.id == voice["id"]
    with pytest.raises(openai.NotFoundError):
        c.audio.voices.delete(voice["id"])
    with pytest.raises(openai.BadRequestError):
        c.audio.speech.create(model="tts-1", voice={"id": voice["id"]}, input="Gone?")


def test_bad_uploads_are_refused_and_nothing_is_written(cloning):
    library = cloning.core.library.root
    before = sorted(p.name for p in library.iterdir())
    url = base_url(cloning)
    good = wav_bytes(tone(220, 2.0))
    cases = [
        ({"name": "Noise"}, ("x.wav", b"\x00garbage\xff" * 100), 422),
        ({"name": "Long"}, ("x.wav", wav_bytes(tone(220, 31.0, rate=8000), rate=8000)), 422),
        ({"name": "Short"}, ("x.wav", wav_bytes(tone(220, 0.4))), 422),
        ({"name": "Quiet"}, ("x.wav", wav_bytes(np.zeros(24000, dtype=np.float32))), 422),
        ({"name": "Big"}, ("x.wav", wav_bytes(tone(220, 25.0, rate=48000), rate=48000)), 413),
        ({"name": "../../etc/passwd"}, ("x.wav", good), 400),
        ({"name": "a/b"}, ("x.wav", good), 400),
        ({"name": "Nameless", "language": "not a language"}, ("x.wav", good), 400),
        ({}, ("x.wav", good), 400),
        ({"name": "No audio"}, None, 400),
    ]
    for fields, upload, status in cases:
        files = {"audio_sample": upload} if upload else None
        response = httpx.post(url + "/v1/audio/voices", data=fields, files=files or {"nothing": ("n", b"")})
        assert response.status_code == status, (fields, response.text)
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        client(cloning).audio.voices.create(name="Garbage", audio_sample=("g.mp3", b"\x01" * 5000), consent="c")
    assert "could not be decoded" in caught.value.message
    assert sorted(p.name for p in library.iterdir()) == before
    assert httpx.get(url + "/v1/audio/voices/..%2F..%2Fetc").status_code == 404


def test_voices_survive_a_restart(tmp_path):
    settings = make_settings(
        tmp_path / "state", plugins_dirs=[plugin_dir(tmp_path / "plugins")], http={"enabled": True, "port": 0}
    )
    with running_daemon(settings) as d:
        voice = sample_voice(d, "Uncle Bob", transcript="Hi.")
    with running_daemon(settings) as d:
        fetched = httpx.get(f"{base_url(d)}/v1/audio/voices/{voice['id']}").json()
        assert fetched["name"] == "Uncle Bob" and fetched["created_at"] == voice["created_at"]
        with client(d).audio.speech.with_streaming_response.create(
            model="pitchshift", voice=voice["id"], input="Still here.", response_format="pcm"
        ) as response:
            assert len(response.read()) > 24000


def test_transcript_required_when_every_cloner_needs_one(tmp_path):
    settings = make_settings(
        tmp_path / "state",
        plugins_dirs=[plugin_dir(tmp_path / "plugins")],
        http={"enabled": True, "port": 0},
        engines={"pitchshift": {"enabled": False}, "scribe": {"enabled": True}},
    )
    with running_daemon(settings) as d:
        with pytest.raises(openai.BadRequestError) as caught:
            sample_voice(d, "Mute")
        assert caught.value.body["param"] == "transcript" and "transcript" in caught.value.message
        assert not list(d.core.library.root.iterdir())
        voice = sample_voice(d, "Speaker", transcript="This is what I say.")
        assert voice["engines"] == [f"scribe:{voice['id']}"]


# -- mid-stream failures ---------------------------------------------------------------------------------


def test_failure_after_first_audio_ends_the_stream(cloning):
    voice = sample_voice(cloning, "Fragile")
    text = "This first sentence is fine. This second one will explode."
    events = []
    with client(cloning).audio.speech.with_streaming_response.create(
        model="pitchshift", voice=voice["id"], input=text, response_format="pcm", stream_format="sse"
    ) as response:
        events = [json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")]
    assert events[0]["type"] == "speech.audio.delta"
    assert events[-1]["type"] == "error" and "asked to fail" in events[-1]["error"]["message"]
    assert not any(e["type"] == "speech.audio.done" for e in events)
    received = b""
    with (
        pytest.raises(httpx.HTTPError),
        client(cloning).audio.speech.with_streaming_response.create(
            model="pitchshift", voice=voice["id"], input=text, response_format="pcm"
        ) as response,
    ):
        for chunk in response.iter_bytes():
            received += chunk
    assert received, "the first sentence's audio arrives before the stream breaks"


# -- voice conversion --------------------------------------------------------------------------------------


def test_conversion_with_a_capable_engine(cloning):
    voice = sample_voice(cloning, "Target", freq=300.0)
    source = wav_bytes(tone(200.0, 1.5))
    response = httpx.post(
        base_url(cloning) + "/v1/audio/conversions",
        data={"voice": voice["id"], "response_format": "wav"},
        files={"audio": ("speech.wav", source, "audio/wav")},
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("audio/wav")
    pcm, rate = decode("wav", response.content)
    assert abs(dominant_frequency(pcm, rate) - 300) < 10
    assert abs(len(pcm) / 2 / rate - 1.0) < 0.05  # 200 → 300 Hz by resampling: 1.5 s becomes 1.0 s
    mp3 = httpx.post(
        base_url(cloning) + "/v1/audio/conversions",
        data={"voice": f"pitchshift:{voice['id']}"},
        files={"audio": ("speech.wav", source)},
    )
    assert mp3.headers["content-type"] == "audio/mpeg"
    pcm, rate = decode("mp3", mp3.content)
    assert abs(dominant_frequency(pcm, rate) - 300) < 10
    unknown = httpx.post(
        base_url(cloning) + "/v1/audio/conversions",
        data={"voice": "voice_nobody_00000000"},
        files={"audio": ("speech.wav", source)},
    )
    assert unknown.status_code == 400 and unknown.json()["error"]["param"] == "voice"


def test_conversion_without_a_capable_engine_is_501(piper):
    response = httpx.post(
        base_url(piper) + "/v1/audio/conversions",
        data={"voice": "voice_someone_12345678"},
        files={"audio": ("speech.wav", wav_bytes(tone(200.0, 1.0)), "audio/wav")},
    )
    assert response.status_code == 501
    error = response.json()["error"]
    assert error["code"] == "not_supported" and "convert" in error["message"]
    assert error["type"] == "server_error" and "param" in error


def test_a_stored_voice_no_engine_clones_is_refused_saying_so(piper):
    # Uploaded over this door (stored: no engine needs its transcript), then asked for: "unknown voice" hid why.
    voices = client(piper).audio.voices
    stored = voices.create(name="Gran", audio_sample=("gran.wav", wav_bytes(tone(220.0, 2.0))), consent="local")
    try:
        for voice in (stored.id, {"id": stored.id}, f"f5:{stored.id}"):
            with pytest.raises(openai.BadRequestError) as refused:
                client(piper).audio.speech.create(model="tts-1", voice=voice, input="Come over for tea.")
            error = refused.value.body
            assert (
                error["param"] == "voice"
                and "is in the voice library, but no running engine clones" in (error["message"])
            ), error
    finally:
        voices.delete(stored.id)
