"""What recognizers are asked, seen through the official client against the HTTP door with test recognizers
(tests/recognition_plugins): word timestamps are computed only when they are returned (OpenAI honours
``timestamp_granularities[]`` with ``verbose_json`` alone), and translations go only to an engine that
translates."""

from __future__ import annotations

import json
import shutil
import warnings

import httpx2 as httpx
import openai
import pytest

from ..conftest import REPO, make_settings, running_daemon
from .http_helpers import base_url, client, tone, wav_bytes

LEDGER = REPO / "tests" / "recognition_plugins" / "ledger.py"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    plugins = tmp_path_factory.mktemp("plugins")
    shutil.copy(LEDGER, plugins / LEDGER.name)  # alone: a plugins folder loads every file in it
    record = tmp_path_factory.mktemp("ledger") / "asked.jsonl"
    settings = make_settings(
        tmp_path_factory.mktemp("state"),
        plugins_dirs=[str(plugins)],
        engines={"ledger": {"enabled": True, "record": str(record)}, "interpreter": {"enabled": True}},
        http={"enabled": True, "port": 0},
    )
    with running_daemon(settings) as d:
        d.record = record
        yield d


def _asked(daemon, **request) -> dict:
    """What the recognizer was asked for one transcription request (and the answer, to check it)."""
    before = daemon.record.read_text().count("\n") if daemon.record.exists() else 0
    audio = wav_bytes(tone(220.0, 1.0, 16000), 16000)
    answer = client(daemon).audio.transcriptions.create(model="whisper-1", file=("a.wav", audio), **request)
    if request.get("stream"):
        answer = list(answer)
    lines = daemon.record.read_text().splitlines()
    assert len(lines) == before + 1, lines
    return {"asked": json.loads(lines[-1]), "answer": answer}


@pytest.mark.parametrize(
    "request_",
    [
        {"response_format": "json"},
        {"response_format": "text"},
        {"response_format": "srt"},
        {"response_format": "vtt"},
        {"stream": True},
    ],
    ids=["json", "text", "srt", "vtt", "stream"],
)
def test_words_are_not_timed_for_an_answer_without_them(daemon, request_):
    seen = _asked(daemon, timestamp_granularities=["word"], **request_)
    assert seen["asked"]["word_timestamps"] is False, seen


def test_verbose_json_times_words_only_when_asked(daemon):
    words = _asked(daemon, response_format="verbose_json", timestamp_granularities=["word", "segment"])
    assert words["asked"]["word_timestamps"] is True
    assert [w.word for w in words["answer"].words] == ["Hello", "there."] and words["answer"].segments
    segments = _asked(daemon, response_format="verbose_json", timestamp_granularities=["segment"])
    assert segments["asked"]["word_timestamps"] is False and segments["answer"].words is None


def _translate(daemon, model: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the client marks translations deprecated
        return client(daemon).audio.translations.create(model=model, file=("a.wav", wav_bytes(tone(220.0, 1.0))))


def test_a_translation_goes_to_an_engine_that_translates(daemon):
    # The ledger transcribes first (it comes first), but only the interpreter translates: whisper-1 means it here.
    heard = client(daemon).audio.transcriptions.create(model="interpreter", file=("a.wav", wav_bytes(tone(220.0, 1.0))))
    assert heard.text == "Hallo zusammen."
    assert _translate(daemon, "whisper-1").text == "Hello everyone."
    assert _translate(daemon, "interpreter").text == "Hello everyone."


def test_a_recognizer_that_cannot_translate_is_a_400_naming_model(daemon):
    # The ledger would answer in the language spoken: asked to translate, it is refused before any audio is decoded.
    before = daemon.record.read_text() if daemon.record.exists() else ""
    with pytest.raises(openai.BadRequestError) as err:
        _translate(daemon, "ledger")
    error = err.value.body
    assert error["param"] == "model" and error["type"] == "invalid_request_error", error
    assert "cannot translate" in error["message"] and "interpreter" in error["message"], error
    assert (daemon.record.read_text() if daemon.record.exists() else "") == before, "the ledger was never asked"
    schemas = httpx.get(base_url(daemon) + "/openapi.json").json()["components"]["schemas"]
    models = schemas["CreateTranslationRequest"]["properties"]["model"]["enum"]
    assert "interpreter" in models and "ledger" not in models, "the document offers only models that translate"
