"""What a listener hears: texts written the way LLMs and automations write them, spoken through every door and
transcribed by a real Whisper model. No markup word, emoji name or spelled-out URL may be heard; the content is.

The daemon here, as every test daemon, speaks without Piper's sampling noise (``engines.piper.noise_scale`` and
``noise_w_scale`` at 0, from ``make_settings``), so a text is the same audio on every run and what the listener hears
of it does not change from run to run."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from wyoming.audio import AudioChunk
from wyoming.client import AsyncTcpClient
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop

from ..conftest import free_port, make_settings, running_daemon, wyoming_speak
from ..listener import hear, heard_words
from ..protocols import http_helpers
from ..protocols.mqtt_helpers import Probe, audio_of, broker, is_terminal, new_id  # noqa: F401 (fixture)

pytestmark = [pytest.mark.slow, pytest.mark.mqtt]

NODE = "hall"

# (name, text, words that must be heard, words that must not be)
CASES = [
    (
        "heading and emphasis",
        "## Weather today\nIt will be **sunny** with a high of 21°C. 🌞",
        ["today", "sunny", "high", "degrees", "celsius"],  # ("weather" is heard as "whether")
        ["hash", "hashtag", "asterisk", "sun", "face"],
    ),
    (
        "bullet list and emoji",
        "Here is your list:\n- Buy milk\n- Call mom\n- Water the plants ✅",
        ["milk", "call", "mom", "water", "plants"],  # ("buy" is heard as "by")
        ["dash", "hyphen", "check", "mark", "heavy"],
    ),
    (
        "links and urls",
        "Check the [forecast](https://example.com/forecast) or visit https://www.home-assistant.io/docs/ today.",
        ["check", "forecast", "visit", "today"],
        ["https", "http", "slash", "colon", "www", "docs", "example"],
    ),
    (
        "emoji",
        "Great job! 🎉👍 The dishwasher is done.",
        ["great", "job", "dishwasher", "done"],
        ["party", "popper", "thumbs", "up"],
    ),
    (
        "code",
        "Use the `light.turn_on` service:\n```yaml\nservice: light.turn_on\nentity_id: light.kitchen\n```\nThat's all.",
        ["use", "light", "turn", "service", "all"],
        ["yaml", "entity", "id", "kitchen", "backtick", "colon"],
    ),
    (
        "times and money",
        "The package costs $3.50 and arrives at 9:00.",
        ["package", "costs", "$3.50", "arrives"],
        ["zero", "dollar sign"],
    ),
    (
        "table",
        "| Room | Temperature |\n|---|---|\n| Kitchen | 21 |\n| Bedroom | 19 |",
        ["room", "temperature", "kitchen", "bedroom"],
        ["pipe", "dash", "bar", "vertical"],
    ),
    (
        "entities and html",
        "Tom &amp; Jerry *really* love ~~cheese~~ pizza. #dinner",
        ["tom", "jerry", "really", "love", "pizza", "dinner"],
        ["amp", "ampersand", "asterisk", "tilde", "hash", "hashtag"],
    ),
]
IDS = [case[0] for case in CASES]


@pytest.fixture(scope="module")
def daemon(broker, tmp_path_factory):
    state = tmp_path_factory.mktemp("state")
    settings = make_settings(
        state,
        http={"enabled": True, "port": 0},
        wyoming={"enabled": True, "uri": [f"tcp://127.0.0.1:{free_port()}"]},
        mqtt={"enabled": True, "host": "127.0.0.1", "port": broker.port, "node_id": NODE, "discovery": False},
    )
    with running_daemon(settings) as d:
        yield d


def check(say: Callable[[], tuple[bytes, int]], must: list[str], never: list[str]) -> None:
    """No markup word is heard in what ``say`` speaks, and the content is (nearly every word of it)."""
    transcript = hear(*say())
    words = heard_words(transcript)
    text = " ".join(words)
    said = [word for word in never if f" {word} " in f" {text} "]
    assert not said, f"heard {said} in {transcript!r}"
    missing = [word for word in must if not any(heard.startswith(word) for heard in words)]
    assert len(missing) <= len(must) // 4, f"missing {missing} in {transcript!r}"


@pytest.mark.parametrize(("name", "text", "must", "never"), CASES, ids=IDS)
def test_http(daemon, name, text, must, never):
    def say() -> tuple[bytes, int]:
        audio = http_helpers.client(daemon).audio.speech.create(
            model="tts-1", voice="alloy", input=text, response_format="pcm"
        )
        return audio.content, 24000

    check(say, must, never)


def test_http_reads_faces_durations_and_prices(daemon):
    """A kaomoji, a duration and a price per unit as an assistant writes them: heard as what they mean, not as
    "japanese letter slash", "thirty meters" and "or kWh"."""
    text = "Sure ¯\\_(ツ)_/¯ the wash takes 1h 30m and power costs 0.25 €/kWh."

    def say() -> tuple[bytes, int]:
        audio = http_helpers.client(daemon).audio.speech.create(
            model="tts-1", voice="alloy", input=text, response_format="pcm"
        )
        return audio.content, 24000

    check(
        say,
        ["wash", "takes", "hour", "minutes", "power", "costs", "per", "kilowatt"],
        ["japanese", "letter", "slash", "meters", "or", "kwh"],
    )


NUMBERS_HEARD = [
    # "555-0199" was a range, heard "555 to 199" (with "555-1234" Whisper writes the "to" as a hyphen, so this one).
    ("phone number", "Call 555-0199 today.", ["call", "555", "199", "today"], ["to", "hundred"]),
    # 5'7" was "5'7" to the engine, heard "5 7".
    ("feet and inches", 'He is 5\'7" tall, with a 12" pizza.', ["feet", "inches", "tall", "inch", "pizza"], []),
    # espeak read "John 3:1" "John three colon one" and "10+ km" "ten plus K M".
    ("verse and more", "Read John 3:1, then run 10+ km.", ["read", "john", "run", "more", "than"], ["colon", "km"]),
    # "->" was dropped: "home work".
    ("arrow", "Go from home -> work.", ["home", "to", "work"], []),
    # Piper read the years of a range as years already (engines that read numbers as words did not): kept so.
    ("year range", "It ran from 1990-1995.", ["ran", "1990", "to", "1995"], ["thousand", "hundred"]),
    # espeak read "the 80's" "the eighty", heard "the 80" (Whisper hears "the nineties" as "the 90s").
    ("decades", "It was big in the 80's and the 90's.", ["big", "80s", "90s"], ["80", "90"]),
    # A digit made plural was seconds: "two 6s" was "two six seconds".
    ("digit plural", "He rolled two 6s in a row.", ["rolled", "row"], ["seconds", "second"]),
    # A goal's minute was feet: "Saka twelve feet, Havertz ninety plus three feet".
    (
        "goals' minutes",
        "Arsenal beat Chelsea 2–1 (Saka 12', Havertz 90+3').",
        ["arsenal", "chelsea", "minute", "plus"],
        ["feet", "foot"],
    ),
    # espeak read "30s" "thirty z" and "2m" "two meters": heard "2 meters 30s … in 45s".
    (
        "seconds",
        "Wait 2m 30s, then try again in 45s.",
        ["wait", "minutes", "seconds", "try", "again"],
        ["meters", "30s", "45s"],
    ),
]


@pytest.mark.parametrize(("name", "text", "must", "never"), NUMBERS_HEARD, ids=[c[0] for c in NUMBERS_HEARD])
def test_http_reads_phone_numbers_lengths_arrows_and_years(daemon, name, text, must, never):
    def say() -> tuple[bytes, int]:
        audio = http_helpers.client(daemon).audio.speech.create(
            model="tts-1", voice="alloy", input=text, response_format="pcm"
        )
        return audio.content, 24000

    check(say, must, never)


@pytest.mark.parametrize(("name", "text", "must", "never"), CASES, ids=IDS)
def test_wyoming(daemon, name, text, must, never):
    port = int(daemon.settings.doors["wyoming"]["uri"][0].rsplit(":", 1)[1])

    check(lambda: asyncio.run(wyoming_speak(port, text, voice=None)), must, never)


@pytest.mark.parametrize(("name", "text", "must", "never"), CASES, ids=IDS)
def test_mqtt(daemon, broker, name, text, must, never):
    def say() -> tuple[bytes, int]:
        probe = Probe(broker.port, "5")
        try:
            rid = new_id()
            root = f"voxhost/{NODE}"
            probe.subscribe(f"{root}/response", f"{root}/audio/{rid}/#")
            probe.publish(f"{root}/say", {"text": text, "id": rid})
            messages = probe.collect(lambda m: m.topic == f"{root}/audio/{rid}/stop", timeout=90)
            pcm, rate, _ = audio_of(messages, f"{root}/audio/{rid}")
        finally:
            probe.close()
        return pcm, rate

    check(say, must, never)


def test_wyoming_streams_markup_token_by_token(daemon):
    """An LLM's answer in 3-character tokens (markup split across them, a fence over several sentences): the first
    sentence is heard while text still arrives, and nothing of the markup or code is heard."""
    text = (
        "**Sure!** Here are the steps:\n1. Open the *garage* door.\n2. Turn on the `light.porch` lamp.\n"
        "```python\nprint('Do not say this. Or this.')\nx = 1\n```\nThe porch is now lit. 🎉"
    )
    tokens = [text[i : i + 3] for i in range(0, len(text), 3)]
    port = int(daemon.settings.doors["wyoming"]["uri"][0].rsplit(":", 1)[1])

    async def stream() -> tuple[bytes, int, float, float]:
        loop = asyncio.get_running_loop()
        async with AsyncTcpClient("127.0.0.1", port) as c:
            started = loop.time()
            sent: list[float] = []

            async def write() -> None:
                await c.write_event(SynthesizeStart().event())
                for token in tokens:
                    await c.write_event(SynthesizeChunk(text=token).event())
                    await asyncio.sleep(0.05)
                sent.append(loop.time() - started)
                await c.write_event(Synthesize(text=text).event())
                await c.write_event(SynthesizeStop().event())

            writer = asyncio.create_task(write())
            pcm, rate, first = b"", 22050, 0.0
            while (event := await asyncio.wait_for(c.read_event(), 60)) is not None:
                if AudioChunk.is_type(event.type):
                    chunk = AudioChunk.from_event(event)
                    first = first or loop.time() - started
                    pcm, rate = pcm + chunk.audio, chunk.rate
                elif event.type == "synthesize-stopped":
                    break
            await writer
            return pcm, rate, first, sent[0]

    def say() -> tuple[bytes, int]:
        pcm, rate, first, last_token = asyncio.run(stream())
        assert first < last_token - 1.0, "the first sentence is heard while the answer still streams in"
        return pcm, rate

    check(
        say,
        ["sure", "steps", "open", "garage", "door", "turn", "light", "porch", "lamp", "lit"],
        ["asterisk", "backtick", "print", "python", "say", "one", "two", "party", "popper"],
    )
