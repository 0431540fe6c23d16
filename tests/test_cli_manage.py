"""The command line's library and job commands: ``voices export | import`` on the state directory, and
``jobs list`` against a running daemon."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import httpx2 as httpx
import numpy as np

from voxhost.library import VoiceLibrary
from voxhost.operations import VoiceCreate, VoiceUpdate

from .conftest import free_port, make_settings, running_daemon


def _speechlike(seconds: float, rate: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 180 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def voxhost(*args: str, state=None, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOXHOST_")}
    if state is not None:
        env["VOXHOST_STATE_DIR"] = str(state)
    return subprocess.run(
        [sys.executable, "-m", "voxhost", *args], capture_output=True, text=True, env=env, timeout=120, check=check
    )


def files(root) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_voices_export_and_import(tmp_path):
    source = VoiceLibrary(tmp_path / "a" / "voices")
    rose = source.add(VoiceCreate(name="Rose", transcript="Hello dear.", language="en"), _speechlike(2), 16000)
    source.update(rose.id, VoiceUpdate(tags=["family"]))
    tom = source.add(VoiceCreate(name="Tom"), _speechlike(3), 22050)
    archive = tmp_path / "voices.zip"
    out = voxhost("voices", "export", "-o", str(archive), state=tmp_path / "a")
    assert "2 voice(s)" in out.stderr
    with zipfile.ZipFile(archive) as z:
        assert {f"{rose.id}/reference.wav", f"{tom.id}/voice.json", "manifest.json"} <= set(z.namelist())
    one = tmp_path / "one.zip"
    voxhost("voices", "export", tom.id, "-o", str(one), state=tmp_path / "a")
    assert len(zipfile.ZipFile(one).namelist()) == 3
    imported = voxhost("voices", "import", str(archive), state=tmp_path / "b")
    assert imported.stdout.count("imported") == 2 and "Rose" in imported.stdout
    assert files(tmp_path / "b" / "voices") == files(tmp_path / "a" / "voices")
    again = json.loads(voxhost("voices", "import", str(archive), "--json", state=tmp_path / "b").stdout)
    assert again["imported"] == [] and sorted(again["skipped"]) == sorted([rose.id, tom.id])
    listed = voxhost("voices", state=tmp_path / "b").stdout
    assert "piper:en_US-joe-medium" in listed  # plain `voxhost voices` still lists the catalog


def test_a_bad_archive_is_refused_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("manifest.json", json.dumps({"format": "voxhost-voices", "version": 1, "files": {}}))
        z.writestr("../escape/voice.json", "{}")
    result = voxhost("voices", "import", str(bad), state=tmp_path / "state", check=False)
    assert result.returncode == 1 and "unsafe member" in result.stderr
    assert not list((tmp_path / "state" / "voices").iterdir())
    missing = voxhost("voices", "export", "voice_nobody_1", "-o", str(tmp_path / "x.zip"), state=tmp_path, check=False)
    assert missing.returncode == 1 and "no voice 'voice_nobody_1'" in missing.stderr


def test_jobs_list_asks_the_running_daemon(tmp_path):
    port = free_port()
    settings = make_settings(tmp_path / "state", http={"enabled": True, "port": port, "api_key": "k"})
    with running_daemon(settings) as d:
        url = f"http://127.0.0.1:{port}"
        response = httpx.post(
            url + "/v1/audio/speech",
            json={"input": "Listed on the command line.", "response_format": "pcm"},
            headers={"Authorization": "Bearer k"},
        )
        job_id = response.headers["x-voxhost-job"]
        out = voxhost("jobs", "list", "--url", url, "--api-key", "k").stdout
        assert job_id in out and "http" in out and "finished" in out and "piper:en_US-joe-medium" in out
        page = json.loads(voxhost("jobs", "list", "--url", url, "--api-key", "k", "--json", "--door", "http").stdout)
        assert page["data"][0]["id"] == job_id
        refused = voxhost("jobs", "list", "--url", url, check=False)
        assert refused.returncode == 1 and "401" in refused.stderr
        assert d.core.jobs() == []
    gone = voxhost("jobs", "list", "--url", f"http://127.0.0.1:{free_port()}", check=False)
    assert gone.returncode == 1 and "cannot reach the daemon" in gone.stderr
