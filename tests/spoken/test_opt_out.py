"""``normalize``: per request (HTTP body, MQTT JSON) and per door (its settings); the spoken text is in job events."""

from __future__ import annotations

import threading

from voxhost.events import JobSentence
from voxhost.operations import SpeechParams, parse
from voxhost.protocols.mqtt.schemas import SayCommand

from ..conftest import make_settings, running_daemon
from ..protocols import http_helpers

TEXT = "It is **warm**: 21 °C at 9:00."


class Sentences:
    """Every ``job_sentence`` event of the daemon."""

    def __init__(self, d) -> None:
        self.events: list[JobSentence] = []
        self._lock = threading.Lock()
        self._d = d
        d.loop.call_soon_threadsafe(d.core.bus.subscribe, self._record)

    def _record(self, event) -> None:
        if isinstance(event, JobSentence):
            with self._lock:
                self.events.append(event)

    def of(self, job_id: str) -> list[str]:
        self._d.settle()
        with self._lock:
            return [e.text for e in self.events if e.job_id == job_id]


def speak(d, **extra) -> str:
    client = http_helpers.client(d)
    with client.audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input=TEXT, response_format="pcm", extra_body=extra or None
    ) as response:
        response.read()
        return response.headers["x-voxhost-job"]


def test_per_request_and_per_door(state_dir):
    with running_daemon(make_settings(state_dir, http={"enabled": True, "port": 0})) as d:
        seen = Sentences(d)
        normalized = speak(d)
        as_written = speak(d, normalize=False)
        assert seen.of(normalized) == ["It is warm: twenty-one degrees Celsius at nine o'clock."]
        assert seen.of(as_written) == ["It is warm: 21 °C at 9:00."]  # (the splitter always drops *…* asterisks)


def test_a_door_that_does_not_normalize(tmp_path):
    settings = make_settings(tmp_path, http={"enabled": True, "port": 0, "normalize": False})
    with running_daemon(settings) as d:
        seen = Sentences(d)
        plain = speak(d)
        asked = speak(d, normalize=True)
        assert seen.of(plain) == ["It is warm: 21 °C at 9:00."]
        assert seen.of(asked) == ["It is warm: twenty-one degrees Celsius at nine o'clock."]


def test_every_door_model_takes_the_field():
    assert parse(SpeechParams, {"normalize": False}).normalize is False
    say = parse(SayCommand, {"text": TEXT, "normalize": False})
    assert say.speech_request("piper:en_US-joe-medium").normalize is False
