"""``voxhost models pull piper <voice>`` from the Piper voice catalog, offline: a catalog fixture (voices.json with
real sizes and md5s of tiny voices) served by a file server on 127.0.0.1 standing in for the Hub."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import pty
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import openai
import pytest

from voxhost import models
from voxhost.cli import main
from voxhost.operations import SpeechRequest
from voxhost.plugins.piper_catalog import CATALOG_FILE, catalog_specs, fetch_catalog, voices_dir

from .conftest import ServeProcess, free_port, make_settings, run_cli, running_daemon, wait_for
from .piper_fixture import build_multispeaker_voice
from .protocols.http_helpers import base_url

VOICES = {
    # key: (language code, English name, country, quality)
    "en_GB-twins-medium": ("en_GB", "English", "Great Britain", "medium"),
    "de_DE-twins-low": ("de_DE", "German", "Germany", "low"),
}


def _entry(key: str, folder: Path, root: Path) -> dict:
    code, name, country, quality = VOICES[key]
    family, region = code.split("_")
    files = {}
    (folder / "MODEL_CARD").write_text(f"{key} model card\n")
    for path in (folder / f"{key}.onnx", folder / f"{key}.onnx.json", folder / "MODEL_CARD"):
        data = path.read_bytes()
        files[str(path.relative_to(root))] = {"size_bytes": len(data), "md5_digest": hashlib.md5(data).hexdigest()}
    return {
        "key": key,
        "name": "twins",
        "language": {
            "code": code,
            "family": family,
            "region": region,
            "name_native": name,
            "name_english": name,
            "country_english": country,
        },
        "quality": quality,
        "num_speakers": 2,
        "speaker_id_map": {"alice": 0, "bob": 1},
        "files": files,
        "aliases": [],
    }


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A directory in the rhasspy/piper-voices layout with voices.json, served on 127.0.0.1."""
    root = tmp_path / "hub"
    catalog = {}
    for key in VOICES:
        code = VOICES[key][0]
        folder = root / code.split("_")[0] / code / "twins" / VOICES[key][3]
        folder.mkdir(parents=True)
        model = build_multispeaker_voice(folder, key)
        config = json.loads(Path(f"{model}.json").read_text())
        config["language"] = {"code": code}
        Path(f"{model}.json").write_text(json.dumps(config))
        catalog[key] = _entry(key, folder, root)
    (root / "voices.json").write_text(json.dumps(catalog))
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def config(tmp_path, hub) -> Path:
    url, _ = hub
    path = tmp_path / "voxhost.toml"
    path.write_text(f'state_dir = "{tmp_path / "state"}"\n[engines.piper]\ncatalog_url = "{url}"\n')
    return path


def test_list_shows_the_catalog_by_language(config, capsys):
    assert main(["models", "list", "piper", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.index("# English (Great Britain)") < out.index("en_GB-twins-medium") < out.index("# German (Germany)")
    assert out.index("# German (Germany)") < out.index("de_DE-twins-low")
    rows = {line.split()[1]: line for line in out.splitlines() if line.startswith("piper ")}
    assert set(rows) == set(VOICES) and all(" missing " in row for row in rows.values())


def test_pull_verifies_installs_and_lists(config, tmp_path, capsys):
    assert main(["models", "pull", "piper", "en_GB-twins-medium", "-c", str(config)]) == 0
    installed = voices_dir(tmp_path / "state" / "models") / "en" / "en_GB" / "twins" / "medium"
    assert (installed / "en_GB-twins-medium.onnx").is_file() and (installed / "en_GB-twins-medium.onnx.json").is_file()
    assert not list(installed.glob("*.part"))
    capsys.readouterr()
    assert main(["models", "list", "piper", "--check", "-c", str(config)]) == 0
    rows = {line.split()[1]: line for line in capsys.readouterr().out.splitlines() if line.startswith("piper ")}
    assert " verified " in rows["en_GB-twins-medium"] and " missing " in rows["de_DE-twins-low"]
    # the pulled voice is offered by the engine; the one not pulled is not
    assert main(["voices", "--json", "-c", str(config)]) == 0
    ids = {voice["id"] for voice in json.loads(capsys.readouterr().out)}
    assert "piper:en_GB-twins-medium" in ids and "piper:de_DE-twins-low" not in ids


def test_the_catalog_and_voices_come_from_hf_endpoint(hub, tmp_path, monkeypatch, capsys):
    # huggingface_hub sends every other engine's pull to $HF_ENDPOINT (a mirror, an air-gapped proxy); Piper's
    # catalog and voices still went to huggingface.co.
    url, root = hub
    pinned = root / "rhasspy" / "piper-voices" / "resolve"
    pinned.mkdir(parents=True)
    (pinned / "v1.0.0").symlink_to(root, target_is_directory=True)  # the mirror serves the hub's own paths
    monkeypatch.setenv("HF_ENDPOINT", f"{url}/")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    config = tmp_path / "voxhost.toml"
    config.write_text(f'state_dir = "{tmp_path / "state"}"\n')  # catalog_url: the hub's, by default
    assert main(["models", "pull", "piper", "en_GB-twins-medium", "-c", str(config)]) == 0, capsys.readouterr().err
    installed = voices_dir(tmp_path / "state" / "models") / "en" / "en_GB" / "twins" / "medium"
    assert (installed / "en_GB-twins-medium.onnx").is_file() and (installed / "en_GB-twins-medium.onnx.json").is_file()


def test_a_file_that_does_not_match_the_catalog_is_refused(config, hub, tmp_path, capsys):
    _, root = hub
    model = next(root.rglob("de_DE-twins-low.onnx"))
    model.write_bytes(model.read_bytes()[:-10] + b"0123456789")  # same size, other bytes
    assert main(["models", "pull", "piper", "de_DE-twins-low", "-c", str(config)]) == 1
    assert "does not match the catalog" in capsys.readouterr().err
    pulled = voices_dir(tmp_path / "state" / "models")
    assert not list(pulled.rglob("de_DE-twins-low.onnx*"))


def test_unknown_voice_names_the_catalog(config, capsys):
    assert main(["models", "pull", "piper", "xx_XX-nobody-low", "-c", str(config)]) == 1
    assert "de_DE-twins-low" in capsys.readouterr().err


def _pull_all(config: Path, answer: str | None = None) -> subprocess.CompletedProcess[str]:
    """``voxhost models pull piper all`` with standard input a pipe, or a terminal that types ``answer``."""
    command = [sys.executable, "-m", "voxhost", "models", "pull", "piper", "all", "-c", str(config)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    if answer is None:
        return subprocess.run(command, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120)
    terminal, typed = pty.openpty()
    try:
        os.write(terminal, answer.encode())
        return subprocess.run(command, capture_output=True, text=True, env=env, stdin=typed, timeout=120)
    finally:
        os.close(terminal)
        os.close(typed)


def test_pulling_the_whole_catalog_is_asked_first(config, tmp_path):
    # `models pull piper all` downloaded every voice of the catalog (hundreds, gigabytes) without a word.
    files = [file for voice in json.loads(_catalog(config)).values() for file in voice["files"].items()]
    size = sum(entry["size_bytes"] for name, entry in files if name.endswith((".onnx", ".onnx.json")))  # what is pulled
    pulled = voices_dir(tmp_path / "state" / "models")
    refused = _pull_all(config)
    assert refused.returncode == 1 and refused.stderr.startswith(
        "voxhost: `models pull piper all` would download 2 "
    ), refused.stderr
    assert f"(about {size / 1024:.1f} KB); add --yes" in refused.stderr and not list(pulled.rglob("*.onnx"))
    declined = _pull_all(config, answer="n\n")
    assert declined.returncode == 1 and "pull 2 model(s) of piper (about" in declined.stderr, declined.stderr
    assert declined.stderr.endswith("nothing pulled\n") and not list(pulled.rglob("*.onnx"))
    accepted = _pull_all(config, answer="y\n")
    assert accepted.returncode == 0 and sorted(p.name for p in pulled.rglob("*.onnx")) == sorted(
        f"{key}.onnx" for key in VOICES
    ), accepted.stderr


def _catalog(config: Path) -> str:
    """The served catalog (voices.json) of the hub ``config`` names."""
    url = config.read_text().split('catalog_url = "')[1].split('"')[0]
    return httpx.get(f"{url}/{CATALOG_FILE}").text


def test_pulled_voice_joins_a_running_daemon_without_restart(tmp_path, hub):
    url, _ = hub
    settings = make_settings(tmp_path / "state", engines={"piper": {"catalog_url": url}})
    with running_daemon(settings) as daemon:
        before = {voice.id for voice in daemon.core.voices()}
        assert "piper:en_GB-twins-medium" not in before
        fetch_catalog(url, settings.models_path)
        spec = next(s for s in catalog_specs(settings.models_path, url) if s.name == "en_GB-twins-medium")
        models.pull(spec, settings.models_path)
        deadline = time.monotonic() + 10
        while "piper:en_GB-twins-medium" not in {v.id for v in daemon.core.voices()}:
            assert time.monotonic() < deadline, "the pulled voice never joined the catalog"
            time.sleep(0.2)
        voice = next(v for v in daemon.core.voices() if v.id == "piper:en_GB-twins-medium")
        assert voice.speakers == ("alice", "bob") and voice.languages == ("en_GB",)
        pcm, rate = daemon.call(
            daemon.core.speak(SpeechRequest(text="Hello there.", voice="piper:en_GB-twins-medium", speaker="bob"))
        )
        assert rate == 22050 and len(pcm) > 0
        assert "piper:de_DE-twins-low" not in {v.id for v in daemon.core.voices()}


def test_the_hub_is_not_asked_when_offline(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    config = tmp_path / "voxhost.toml"
    config.write_text(f'state_dir = "{tmp_path / "state"}"\n[engines.piper]\nbundled_voice = false\n')
    # Nothing to list (no voice installed here either) is said as such, with why and what to do (not "no engine
    # declares models"), and nothing is written for a catalog that was never fetched.
    assert main(["models", "list", "piper", "-c", str(config)]) == 1
    captured = capsys.readouterr()
    assert "no models of piper to list" in captured.err and "HF_HUB_OFFLINE" in captured.err
    assert not (tmp_path / "state" / "models" / "rhasspy--piper-voices").exists()
    shutil.rmtree(tmp_path / "state", ignore_errors=True)


def _file(data: bytes) -> dict:
    return {"size_bytes": len(data), "md5_digest": hashlib.md5(data).hexdigest()}


def test_catalog_entries_that_escape_or_are_malformed_are_left_out(hub, config, tmp_path):
    # The catalog comes from the network (a mirror, HF_ENDPOINT): a file name climbing out of the voices directory
    # was written there by a pull (and its folder made); an absolute one or a size that is no number broke
    # `models list` and every HTTP route that lists engines or models (500).
    url, root = hub
    data = b"not a voice"
    (root / "escaped.onnx").write_bytes(data)
    (root / "escaped.onnx.json").write_bytes(data)
    catalog = json.loads((root / "voices.json").read_text())
    catalog["en_GB-escape-low"] = {
        "language": {"code": "en_GB"},
        "files": {"../../../escaped.onnx": _file(data), "../../../escaped.onnx.json": _file(data)},
    }
    catalog["en_GB-absolute-low"] = {
        "files": {str(tmp_path / "abs.onnx"): _file(data), str(tmp_path / "abs.onnx.json"): _file(data)}
    }
    catalog["en_GB-careless-low"] = {
        "language": "en_GB",
        "num_speakers": "two",
        "files": {"c/c.onnx": {"size_bytes": "big", "md5_digest": None}, "c/c.onnx.json": None},
    }
    (root / "voices.json").write_text(json.dumps(catalog))
    state = tmp_path / "state"
    listed = run_cli(state, "models", "list", "piper", "-c", str(config), check=False)
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[1] for line in listed.stdout.splitlines() if line.startswith("piper ")}
    assert rows == set(VOICES)
    pulled = run_cli(state, "models", "pull", "piper", "en_GB-escape-low", "-c", str(config), check=False)
    assert pulled.returncode == 1 and "has no model 'en_GB-escape-low'" in pulled.stderr, pulled.stderr
    assert not (tmp_path / "escaped.onnx").exists() and not (tmp_path / "escaped.onnx.json").exists()
    assert sorted(p.name for p in voices_dir(state / "models").iterdir()) == ["voices.json"]
    settings = make_settings(state, engines={"piper": {"catalog_url": url}}, http={"enabled": True, "port": 0})
    with running_daemon(settings) as daemon, httpx.Client(base_url=base_url(daemon)) as client:
        for path in ("/v1/models", "/v1/engines", "/v1/engines/piper/models"):
            assert client.get(path).status_code == 200, path
        names = {model["name"] for model in client.get("/v1/engines/piper/models").json()["data"]}
        assert names == set(VOICES)
        refused = client.post("/v1/engines/piper/models/en_GB-escape-low/pull")
        assert refused.status_code == 404 and refused.json()["error"]["code"] == "model_not_found"


class SlowHandler(QuietHandler):
    """Sends voice files 128 bytes at a time, so that a pull takes seconds."""

    def copyfile(self, source, outputfile):
        if self.path.endswith(CATALOG_FILE):
            return super().copyfile(source, outputfile)
        while block := source.read(128):
            outputfile.write(block)
            outputfile.flush()
            time.sleep(0.2)
        return None


def test_two_pulls_of_one_voice_at_once_both_end_with_it_verified(hub, tmp_path):
    # Two processes (two CLIs, or the CLI and a daemon's HTTP pull) wrote one <file>.part at once: the second
    # truncated what the first had written, and one of them ended in a traceback.
    _, root = hub
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SlowHandler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        config = tmp_path / "slow.toml"
        config.write_text(
            f'state_dir = "{tmp_path / "state"}"\n'
            f'[engines.piper]\ncatalog_url = "http://127.0.0.1:{server.server_address[1]}"\n'
        )
        state = tmp_path / "state"
        run_cli(state, "models", "list", "piper", "-c", str(config))  # fetches the catalog
        command = [sys.executable, "-m", "voxhost", "models", "pull", "piper", "en_GB-twins-medium", "-c", str(config)]
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        assert first.stdout is not None and "pulling piper en_GB-twins-medium" in first.stdout.readline()
        second = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        out, err = first.communicate(timeout=120)
    finally:
        server.shutdown()
        server.server_close()
    assert first.returncode == 0 and "Traceback" not in err, err
    assert second.returncode == 0 and "Traceback" not in second.stderr, second.stderr
    assert "being pulled by another process" in second.stderr
    installed = voices_dir(state / "models")
    assert not list(installed.rglob("*.part"))
    listed = run_cli(state, "models", "list", "piper", "--check", "-c", str(config))
    rows = {line.split()[1]: line for line in listed.stdout.splitlines() if line.startswith("piper ")}
    assert " verified " in rows["en_GB-twins-medium"]


# -- the HTTP door (what the voice lab and scripts use) of a real `voxhost serve` -------------------------------------


def _serve(tmp_path: Path, catalog_url: str) -> tuple[ServeProcess, str]:
    """``voxhost serve`` with Piper reading its catalog from ``catalog_url`` and the HTTP door on; its root URL."""
    port = free_port()
    config = tmp_path / "serve.toml"
    config.write_text(
        f"""state_dir = "{tmp_path / "state"}"
[engines.whisper]
enabled = false
[engines.piper]
catalog_url = "{catalog_url}"
[doors.wyoming]
enabled = false
[doors.mqtt]
enabled = false
[doors.http]
host = "127.0.0.1"
port = {port}
"""
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("VOXHOST_LOAD_PLUGINS", None)
    serve = ServeProcess(config, env)
    try:
        serve.wait_ready()
    except BaseException:
        serve.close()
        raise
    return serve, f"http://127.0.0.1:{port}"


def test_a_fresh_daemon_pulls_a_catalog_voice_over_http_and_speaks_it(hub, tmp_path):
    # The pull route looked only at a catalog the CLI had fetched before: on a fresh install it answered 404
    # "models: none", so neither the voice lab nor a script could get a Piper voice without the CLI.
    url, _ = hub
    serve, root = _serve(tmp_path, url)
    try:
        with httpx.Client(base_url=root, timeout=60) as http:
            started = http.post("/v1/engines/piper/models/en_GB-twins-medium/pull")
            assert started.status_code == 202, started.text
            assert started.json()["models"] == ["en_GB-twins-medium"]
            piper = next(e for e in http.get("/v1/engines").json()["data"] if e["id"] == "piper")
            assert piper["fetches_models"] is True and piper["models"] == len(VOICES)  # what the lab shows
            # fetched and kept where `voxhost models` keeps it
            assert (voices_dir(tmp_path / "state" / "models") / CATALOG_FILE).is_file()

            def installed() -> dict[str, bool]:
                listed = http.get("/v1/engines/piper/models")
                assert listed.status_code == 200, listed.text
                return {model["name"]: model["installed"] for model in listed.json()["data"]}

            wait_for(lambda: installed().get("en_GB-twins-medium") is True, timeout=60)
            assert installed() == {"en_GB-twins-medium": True, "de_DE-twins-low": False}
        client = openai.OpenAI(base_url=root + "/v1", api_key="not-needed", max_retries=0, timeout=60)
        wait_for(lambda: _voice(root), 10)  # the voices directories are watched: it joins without a restart
        speech = client.audio.speech.create(
            model="piper", voice="piper:en_GB-twins-medium", input="Hello there.", response_format="pcm"
        )
        assert len(speech.content) > 0
    finally:
        serve.close()


def _voice(root: str) -> bool:
    """Whether the pulled voice is in the daemon's catalog yet (the voices directories are watched)."""
    voices = httpx.get(f"{root}/v1/audio/voices", timeout=30).json()["voices"]
    return any(voice["id"] == "piper:en_GB-twins-medium" for voice in voices)


def test_the_http_door_says_why_it_has_no_catalog_and_fetches_it_once_it_can(hub, tmp_path):
    # Offline (nothing answers at the catalog's address) listing and pulling are 503s that say why, in OpenAI's
    # error form, not an empty list or "unknown model"; once the catalog can be had, listing fetches it.
    _, hub_root = hub
    port = free_port()
    serve, root = _serve(tmp_path, f"http://127.0.0.1:{port}")
    try:
        client = openai.OpenAI(base_url=root + "/v1", api_key="not-needed", max_retries=0, timeout=60)
        for method, path in (("get", "/engines/piper/models"), ("post", "/engines/piper/models/de_DE-twins-low/pull")):
            with pytest.raises(openai.APIStatusError) as caught:
                getattr(client, method)(path, cast_to=object)
            assert caught.value.status_code == 503, path
            error = caught.value.body
            assert isinstance(error, dict) and error["code"] == "model_catalog_unavailable", error
            assert f"127.0.0.1:{port}" in error["message"] and "Piper voice catalog" in error["message"], error
        assert not (voices_dir(tmp_path / "state" / "models") / CATALOG_FILE).exists()
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", port), functools.partial(QuietHandler, directory=str(hub_root))
        )
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            listed = client.get("/engines/piper/models", cast_to=object)
        finally:
            server.shutdown()
            server.server_close()
        assert isinstance(listed, dict)
        assert {model["name"] for model in listed["data"]} == set(VOICES)
        assert not any(model["installed"] for model in listed["data"])
    finally:
        serve.close()


class CutHandler(QuietHandler):
    """Sends half of every file it promises (Content-Length says all of it), then closes: a network that drops."""

    def copyfile(self, source, outputfile):
        data = source.read()
        outputfile.write(data[: len(data) // 2])
        self.close_connection = True


def test_a_catalog_cut_short_is_one_line(hub, tmp_path, capsys):
    # The catalog cut off mid-transfer (http.client.IncompleteRead) ended in a traceback (a voice file cut short
    # fails its size and md5 check).
    _, root = hub
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(CutHandler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        cut = f"http://127.0.0.1:{server.server_address[1]}"
        config = tmp_path / "voxhost.toml"
        piper = f'[engines.piper]\nbundled_voice = false\ncatalog_url = "{cut}"\n'  # no voice here to list instead
        config.write_text(f'state_dir = "{tmp_path / "state"}"\n{piper}')
        assert main(["models", "list", "piper", "-c", str(config)]) == 1
        err = capsys.readouterr().err
        assert err.startswith(
            f"voxhost: no models of piper to list: could not fetch the Piper voice catalog from {cut}/"
        )
        assert "IncompleteRead" in err and len(err.splitlines()) == 1, err
    finally:
        server.shutdown()
        server.server_close()
