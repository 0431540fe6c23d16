"""The command line's library and job commands: ``voices export | import`` on the state directory, and
``jobs list`` against a running daemon."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx2 as httpx
import numpy as np

from voxhost.library import VoiceLibrary
from voxhost.operations import VoiceCreate, VoiceUpdate

from .conftest import free_port, make_settings, run_cli, running_daemon


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
    # `-o -` is standard output, as for `say` (it wrote a file named "-"), and `import -` reads standard input.
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("VOXHOST_")},
        "VOXHOST_STATE_DIR": str(tmp_path / "a"),
    }
    piped = subprocess.run(
        f"{sys.executable} -m voxhost voices export {tom.id} -o - | tee {tmp_path / 'one.zip'} | "
        f"VOXHOST_STATE_DIR={tmp_path / 'c'} {sys.executable} -m voxhost voices import -",
        shell=True, capture_output=True, text=True, env=env, timeout=120, check=True, cwd=tmp_path,
    )  # fmt: skip
    assert len(zipfile.ZipFile(tmp_path / "one.zip").namelist()) == 3 and not (tmp_path / "-").exists()
    assert piped.stdout.count("imported") == 1 and "Tom" in piped.stdout, piped
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
    # `import -` at a terminal would wait for an end of file nobody means to type; an empty pipe (an export that
    # failed before it) is said as such, not as "not a zip file"; a folder named is said to be one.
    # A stream that never ends (`yes | voxhost voices import -`) is refused once past the most an import takes: it
    # was read into memory to its end.
    primary, terminal = pty.openpty()
    try:
        for given, said in (
            (terminal, "standard input is a terminal, not a voice archive: pipe it (voxhost voices export -o - | "),
            (subprocess.DEVNULL, "standard input is empty: no archive came"),
            (zeros := open("/dev/zero", "rb"), "standard input: the archive is larger than 272 MiB"),
        ):
            refused = run_cli(tmp_path / "state", "voices", "import", "-", check=False, stdin=given, timeout=60)
            assert refused.returncode == 1 and refused.stderr.startswith(f"voxhost: {said}"), refused
            assert refused.stderr.count("\n") == 1 and refused.stdout == "", refused
    finally:
        os.close(primary)
        os.close(terminal)
        zeros.close()
    folder = voxhost("voices", "import", str(tmp_path), state=tmp_path / "state", check=False)
    assert folder.returncode == 1 and folder.stderr == f"voxhost: no archive {tmp_path} (it is a directory)\n", folder
    assert not list((tmp_path / "state" / "voices").iterdir())


def test_broken_voices_are_listed_and_voices_removed(tmp_path):
    library = VoiceLibrary(tmp_path / "voices")
    kept, damaged, lost = (library.add(VoiceCreate(name=n), _speechlike(2), 16000) for n in ("Kept", "Damaged", "Lost"))
    (library.root / damaged.id / "voice.json").write_text("{not json")
    (library.root / lost.id / "reference.wav").write_bytes(b"RIFF, but no more")
    listed = voxhost("voices", state=tmp_path).stdout
    catalog, _, broken = listed.partition("\nbroken")
    assert "piper:en_US-joe-medium" in catalog and damaged.id not in catalog and lost.id not in catalog, listed
    rows = {line.split()[0]: line for line in broken.splitlines()[1:]}
    assert set(rows) == {damaged.id, lost.id}, listed
    assert "broken: voice.json is not JSON" in rows[damaged.id] and "reference.wav is not readable" in rows[lost.id]
    entries = {v["id"]: v for v in json.loads(voxhost("voices", "--json", state=tmp_path).stdout)}
    assert entries[damaged.id]["kind"] == "broken"
    # No cloning engine runs: listed in text, and was left out of the JSON.
    assert entries[kept.id]["kind"] == "unspoken" and entries[kept.id]["name"] == "Kept"
    assert entries[kept.id]["reason"].startswith("no running engine clones voices; enable a cloning engine: ")
    assert set(entries[kept.id]) >= set(entries["piper:en_US-joe-medium"]), "every key a catalog entry has"
    config = tmp_path / "scribe.toml"  # a cloning engine that needs the transcript Kept lacks
    config.write_text("[engines.pitchshift]\nenabled = false\n[engines.scribe]\nenabled = true\n")
    plugins = ("--plugins-dir", str(Path(__file__).parent / "plugins" / "http"), "-c", str(config))
    scribed = {v["id"]: v for v in json.loads(voxhost("voices", "--json", *plugins, state=tmp_path).stdout)}
    assert scribed[kept.id]["reason"].startswith("it has no transcript, which scribe needs; "), scribed[kept.id]
    assert "not JSON" in entries[damaged.id]["problem"] and entries[lost.id]["bytes"] > 0
    builtin = entries["piper:en_US-joe-medium"]
    assert set(entries[damaged.id]) >= set(builtin), "a broken entry has every key a catalog entry has"
    # All or none: one id that names no library voice removes nothing.
    before = files(library.root)
    for stranger in ("voice_nobody_1", "piper:en_US-joe-medium"):
        refused = voxhost("voices", "remove", damaged.id, stranger, state=tmp_path, check=False)
        assert refused.returncode == 1 and f"no voice {stranger!r}" in refused.stderr, refused.stderr
        assert "nothing removed" in refused.stderr and files(library.root) == before
    # A voice's name given for its id, or a typo of an id: the id meant is named (it was only "no voice").
    for given, said in ((" kept", f"' kept' is the name of {kept.id}: give the id"), (kept.id[:-1] + "x", kept.id)):
        refused = voxhost("voices", "remove", given, state=tmp_path, check=False)
        assert refused.returncode == 1 and said in refused.stderr and "nothing removed" in refused.stderr, refused
    exported = voxhost("voices", "export", "Kept", "-o", str(tmp_path / "kept.zip"), state=tmp_path, check=False)
    assert exported.returncode == 1 and f"'Kept' is the name of {kept.id}: give the id" in exported.stderr, exported
    # One that cannot be moved away (something not voxhost's in its way): named, and nothing removed either.
    (library.root / f".tmp-del-{lost.id}").write_text("someone else's")
    refused = voxhost("voices", "remove", damaged.id, lost.id, state=tmp_path, check=False)
    assert refused.returncode == 1 and f"could not delete voice {lost.id!r}" in refused.stderr, refused.stderr
    assert "nothing deleted" in refused.stderr and "Traceback" not in refused.stderr, refused.stderr
    (library.root / f".tmp-del-{lost.id}").unlink()
    assert files(library.root) == before
    removed = voxhost("voices", "remove", damaged.id, lost.id, state=tmp_path).stdout
    assert removed.count("removed") == 2 and damaged.id in removed and lost.id in removed, removed
    assert sorted(p.name for p in library.root.iterdir()) == [kept.id], "no folder left, not even half of one"
    assert "broken" not in voxhost("voices", state=tmp_path).stdout
    deleted = json.loads(voxhost("voices", "delete", kept.id, "--json", state=tmp_path).stdout)
    assert deleted == {"removed": [kept.id]} and not list(library.root.iterdir())
    again = voxhost("voices", "remove", kept.id, state=tmp_path, check=False)
    assert again.returncode == 1 and "no voice" in again.stderr


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
