"""Engine fidelity rules that need no heavy environment: precision choice, F5 default voices, checkpoint pruning."""

from __future__ import annotations

import gc
import logging
import threading
import time

import pytest


def test_half_precision_only_from_compute_capability_7():
    from voxhost.plugins.f5.runtime import half_allowed

    assert half_allowed("cuda", 8) and half_allowed("cuda:1", 7)
    assert not half_allowed("cuda", 6)  # Pascal (e.g. a GTX 1080, Jetson TX2) stays float32
    assert not half_allowed("cpu", None) and not half_allowed("mps", None) and not half_allowed("cuda", None)


# -- F5's built-in voices speak with a reference in their own language ----------------------------------------


def _f5(tmp_path, **settings):
    from voxhost.engine import EngineContext
    from voxhost.plugins.f5 import F5Engine, F5Settings

    context = EngineContext(str(tmp_path), str(tmp_path / "models"), str(tmp_path / "cache"))
    return F5Engine(F5Settings(**settings), context)


def test_f5_offers_builtin_voices_only_with_a_native_reference(tmp_path):
    engine = _f5(tmp_path, languages=["en", "zh", "hi", "ja", "fr"])
    ids = {voice.id: voice for voice in engine.voices()}
    assert set(ids) == {"default", "default-en", "default-zh"}  # Piper's English, f5-tts's own Chinese clip
    assert ids["default"].languages == ("en_US", "zh_CN")
    withheld = {voice.id: voice for voice in engine.withheld_voices()}
    assert set(withheld) == {"default-hi", "default-ja", "default-fr"}
    assert "[engines.f5.models.hi] reference" in withheld["default-hi"].reason
    assert "voxhost models list piper" in withheld["default-hi"].reason


def test_f5_refuses_a_withheld_voice_with_the_reason(tmp_path):
    from voxhost.engine import SynthesisRequest
    from voxhost.errors import UnknownVoiceError

    engine = _f5(tmp_path, languages=["en", "ru"])
    with pytest.raises(UnknownVoiceError, match="no reference in ru_RU"):
        engine.validate_request(SynthesisRequest(text="Привет.", voice="default-ru"))


def test_f5_configured_reference_offers_the_voice(tmp_path):
    table = {"repo": "hotstone228/F5-TTS-Russian", "checkpoint": "model_last.safetensors", "vocab": "vocab.txt"}
    entry = {**table, "arch": "base", "locale": "ru_RU", "reference": "/srv/ru.wav", "reference_text": "Привет."}
    engine = _f5(tmp_path, languages=["ru"], models={"ru": entry})
    assert [voice.id for voice in engine.voices()] == ["default", "default-ru"]
    assert engine.native_source("ru").kind == "configured"


def test_f5_engine_wide_reference_serves_its_own_language_only(tmp_path):
    engine = _f5(
        tmp_path,
        languages=["fi", "fr"],
        default_reference="/srv/fi.wav",
        default_reference_text="Hei.",
        default_reference_language="fi_FI",
    )
    assert {voice.id for voice in engine.voices()} == {"default", "default-fi"}


def test_f5_derives_a_reference_from_an_installed_piper_voice(tmp_path):
    from voxhost.plugins.piper_catalog import voices_dir

    folder = voices_dir(tmp_path / "models") / "fr" / "fr_FR" / "siwis" / "medium"
    folder.mkdir(parents=True)
    (folder / "fr_FR-siwis-medium.onnx").write_bytes(b"onnx")
    (folder / "fr_FR-siwis-medium.onnx.json").write_text("{}")
    engine = _f5(tmp_path, languages=["fr"])
    assert "default-fr" in {voice.id for voice in engine.voices()}
    source = engine.native_source("fr")
    assert source.kind == "piper" and source.path.endswith("fr_FR-siwis-medium.onnx")


def test_f5_offers_a_piper_voice_pulled_while_running_within_the_rescan_time(tmp_path, monkeypatch):
    # The catalog asks for the voices on every request: F5 looks at the disk on a watcher thread, so a Piper voice
    # pulled while it runs (French for French) turns the withheld voice into an offered one within the rescan time,
    # and a request's lookup reads what was found; the engine dropped, its watcher ends.
    from voxhost import watching
    from voxhost.plugins.piper_catalog import voices_dir

    monkeypatch.setattr(watching, "RESCAN_SECONDS", 0.2)
    before = set(threading.enumerate())
    engine = _f5(tmp_path, languages=["en", "fr"])
    assert "default-fr" not in {voice.id for voice in engine.voices()}
    assert [voice.id for voice in engine.withheld_voices()] == ["default-fr"]
    folder = voices_dir(tmp_path / "models") / "fr" / "fr_FR" / "siwis" / "medium"
    folder.mkdir(parents=True)
    (folder / "fr_FR-siwis-medium.onnx").write_bytes(b"onnx")
    (folder / "fr_FR-siwis-medium.onnx.json").write_text("{}")
    deadline = time.monotonic() + 3
    while "default-fr" not in {voice.id for voice in engine.voices()} and time.monotonic() < deadline:
        time.sleep(0.05)
    assert {voice.id for voice in engine.voices()} == {"default", "default-en", "default-fr"}
    assert engine.withheld_voices() == []
    watchers = [thread for thread in set(threading.enumerate()) - before if thread.name == "f5-models"]
    assert len(watchers) == 1
    del engine
    gc.collect()
    for watcher in watchers:
        watcher.join(3)
    assert not any(watcher.is_alive() for watcher in watchers)


def test_f5_warns_once_about_a_configured_language_it_has_no_model_for(tmp_path, caplog):
    # The engine's own logger at warning: an in-process CLI test may have left the root logger at error.
    caplog.set_level(logging.WARNING, logger="voxhost.plugins.f5.engine")
    engine = _f5(tmp_path, languages=["en", "xx"])
    for _ in range(5):  # as the catalog asks, once per request
        assert [voice.id for voice in engine.voices()] == ["default", "default-en"]
        assert engine.offered_languages() == ["en"]
    warnings = [r for r in caplog.records if "no registry entry" in r.getMessage()]
    assert len(warnings) == 1 and "xx" in warnings[0].getMessage()


def test_withheld_voices_in_the_http_engine_object_and_voxhost_voices(tmp_path, capsys):
    import httpx2 as httpx

    from voxhost.cli import main

    from .conftest import make_settings, running_daemon
    from .protocols.http_helpers import base_url

    # F5 enabled but never loaded: what it offers is decided without its worker
    f5 = {"enabled": True, "preload": False, "python": "/nonexistent/python", "languages": ["en", "hi"]}
    settings = make_settings(tmp_path / "state", http={"enabled": True, "port": 0}, engines={"f5": f5})
    with running_daemon(settings) as daemon:
        engines = httpx.get(base_url(daemon) + "/v1/engines", timeout=30).json()["data"]
        voices = {v["id"] for v in httpx.get(base_url(daemon) + "/v1/audio/voices", timeout=30).json()["voices"]}
    f5_object = next(engine for engine in engines if engine["id"] == "f5")
    assert [w["id"] for w in f5_object["withheld_voices"]] == ["f5:default-hi"]
    assert f5_object["withheld_voices"][0]["languages"] == ["hi_IN"]
    assert "f5:default-en" in voices and "f5:default-hi" not in voices
    config = tmp_path / "voxhost.toml"
    config.write_text(
        f'state_dir = "{tmp_path / "state"}"\n[engines.f5]\nenabled = true\npython = "/x"\nlanguages = ["en", "hi"]\n'
    )
    assert main(["voices", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert "not offered:" in out and "f5:default-hi" in out.split("not offered:")[1]
