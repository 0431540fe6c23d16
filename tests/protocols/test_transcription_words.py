"""Word timestamps are computed only when they are returned: OpenAI honours ``timestamp_granularities[]`` with
``verbose_json`` alone, so the recognizer is asked to time words for that answer only. Seen through the official
client against the HTTP door, with a recognizer that writes down what it is asked (tests/recognition_plugins)."""

from __future__ import annotations

import json
import shutil

import pytest

from ..conftest import REPO, make_settings, running_daemon
from .http_helpers import client, tone, wav_bytes

LEDGER = REPO / "tests" / "recognition_plugins" / "ledger.py"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    plugins = tmp_path_factory.mktemp("plugins")
    shutil.copy(LEDGER, plugins / LEDGER.name)  # alone: a plugins folder loads every file in it
    record = tmp_path_factory.mktemp("ledger") / "asked.jsonl"
    settings = make_settings(
        tmp_path_factory.mktemp("state"),
        plugins_dirs=[str(plugins)],
        engines={"ledger": {"enabled": True, "record": str(record)}},
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
