"""The voice library's changes and archives on disk: interrupted changes finished or dropped, imports all or
nothing, and archive members refused for their names, kinds and sizes."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from hashlib import sha256

import numpy as np
import pytest

from voxhost.errors import InvalidArchiveError
from voxhost.library import VoiceLibrary
from voxhost.operations import VoiceCreate, VoiceUpdate
from voxhost.voice_archive import read_archive, write_archive


def _speechlike(seconds: float, rate: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 180 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def _files(root) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_update_and_new_audio_keep_the_id(tmp_path):
    lib = VoiceLibrary(tmp_path)
    voice = lib.add(VoiceCreate(name="Rose", transcript="Hello dear."), _speechlike(2), 16000)
    (tmp_path / voice.id / "cache").mkdir()
    (tmp_path / voice.id / "cache" / "prompt.pt").write_bytes(b"old")
    updated = lib.update(voice.id, VoiceUpdate(tags=["family"], notes="kitchen"))
    assert updated.tags == ("family",) and updated.fingerprint == voice.fingerprint
    replaced = lib.replace_audio(voice.id, _speechlike(3, 22050), 22050)
    assert replaced.sample_rate == 22050 and replaced.seconds == 3.0 and replaced.tags == ("family",)
    assert replaced.fingerprint != voice.fingerprint and not (tmp_path / voice.id / "cache").exists()
    assert VoiceLibrary(tmp_path).get(voice.id) == replaced


def test_an_interrupted_change_is_finished_or_dropped(tmp_path):
    lib = VoiceLibrary(tmp_path)
    voice = lib.add(VoiceCreate(name="Rose"), _speechlike(2), 16000)
    folder = tmp_path / voice.id
    audio = (folder / "reference.wav").read_bytes()
    # The new audio went in, the new metadata did not yet: it goes in at the next start.
    meta = json.loads((folder / "voice.json").read_text())
    (folder / "voice.json.new").write_text(json.dumps({**meta, "name": "Rose (new)"}))
    assert VoiceLibrary(tmp_path).get(voice.id).name == "Rose (new)"
    # Both new files still beside the old ones: the change never began.
    (folder / "reference.wav.new").write_bytes(b"RIFF half")
    (folder / "voice.json.new").write_text(json.dumps({**meta, "name": "Never"}))
    again = VoiceLibrary(tmp_path)
    assert again.get(voice.id).name == "Rose (new)" and (folder / "reference.wav").read_bytes() == audio
    # New metadata cut off while it was written: dropped.
    (folder / "voice.json.new").write_text('{"id": "voice_')
    assert VoiceLibrary(tmp_path).get(voice.id).name == "Rose (new)"
    assert not list(folder.glob("*.new"))


def test_an_import_is_all_or_nothing(tmp_path):
    source = VoiceLibrary(tmp_path / "a")
    voices = [source.add(VoiceCreate(name=f"Voice {i}"), _speechlike(2), 16000) for i in range(3)]
    archive = tmp_path / "voices.zip"
    write_archive(archive, source.root, voices)
    incoming = read_archive(archive.read_bytes())
    target = VoiceLibrary(tmp_path / "b")
    keep = target.add(VoiceCreate(name="Already here"), _speechlike(2), 16000)
    # Something else claims the last voice's name meanwhile (a file, not a voice folder: a broken voice would be
    # replaced): its rename fails, and so does the whole import.
    (target.root / voices[2].id).write_bytes(b"squatter")
    before = _files(target.root)
    with pytest.raises(OSError):
        target.install([(item.voice, item.wav) for item in incoming], False)
    assert _files(target.root) == before
    assert [v.id for v in target.list()] == [keep.id]


def _zip(members: dict[str, bytes], manifest: dict | None = None, link: str | None = None) -> bytes:
    out = io.BytesIO()
    files = {name: {"size": len(data), "sha256": sha256(data).hexdigest()} for name, data in members.items()}
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("manifest.json", json.dumps(manifest or {"format": "voxhost-voices", "version": 1, "files": files}))
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            if name == link:
                info.external_attr = 0o120777 << 16  # a symbolic link
            z.writestr(info, data)
    return out.getvalue()


@pytest.mark.parametrize(
    "members, link, message",
    [
        ({"voice_a_1/reference.wav": b"x", "voice_a_1/voice.json": b"{}"}, "voice_a_1/reference.wav", "link"),
        ({"voice_a_1/../../x/voice.json": b"{}"}, None, "unsafe"),
        ({"voice_a_1\\voice.json": b"{}"}, None, "unsafe"),
        ({"voice_a_1/sub/voice.json": b"{}"}, None, "no place"),
        ({"Voice_A/voice.json": b"{}"}, None, "no place"),
        ({"voice_a_1/voice.json": b"{}"}, None, "lacks"),
        ({"voice_a_1/reference.wav": b"x" * (16 * 1024 * 1024 + 1), "voice_a_1/voice.json": b"{}"}, None, "bytes"),
    ],
)
def test_archive_members_are_checked(members, link, message):
    with pytest.raises(InvalidArchiveError, match=message):
        read_archive(_zip(members, link=link))


def test_archive_kind_and_version_are_checked():
    with pytest.raises(InvalidArchiveError, match="not a voxhost-voices archive"):
        read_archive(_zip({}, manifest={"format": "voxhost-outputs", "version": 1, "files": {}}))
    for version in (9, 1.0, True, "1"):  # JSON's 1.0 and true are not version 1
        with pytest.raises(InvalidArchiveError, match="version"):
            read_archive(_zip({}, manifest={"format": "voxhost-voices", "version": version, "files": {}}))
    for created in (True, -1, "today"):
        with pytest.raises(InvalidArchiveError, match="created_at"):
            read_archive(
                _zip({}, manifest={"format": "voxhost-voices", "version": 1, "created_at": created, "files": {}})
            )
    assert read_archive(_zip({})) == []


_CRASHING_IMPORT = """
import os, pathlib, signal, sys
from voxhost.library import VoiceLibrary
from voxhost.voice_archive import import_archive
library = VoiceLibrary(pathlib.Path(sys.argv[1]))
left, rename = int(sys.argv[3]), pathlib.Path.rename
def crash_at_a_rename(self, target):
    global left
    left -= 1
    if left < 0:
        os.kill(os.getpid(), signal.SIGKILL)  # kill -9 at this point of the import: nothing is cleaned up
    return rename(self, target)
pathlib.Path.rename = crash_at_a_rename
import_archive(library, pathlib.Path(sys.argv[2]).read_bytes(), sys.argv[4])
"""


@pytest.mark.parametrize(
    "duplicates, renames",
    # Renames done before the kill: skip places two new voices; replace moves one aside and places three.
    [("skip", 0), ("skip", 1), ("replace", 0), ("replace", 1), ("replace", 2), ("replace", 3)],
)
def test_an_import_killed_midway_is_rolled_back_at_the_next_start(tmp_path, duplicates, renames):
    source = VoiceLibrary(tmp_path / "a")
    voices = [source.add(VoiceCreate(name=f"Voice {i}"), _speechlike(2), 16000) for i in range(3)]
    archive = tmp_path / "voices.zip"
    write_archive(archive, source.root, voices)
    target = VoiceLibrary(tmp_path / "b")
    (target.root / voices[0].id).mkdir()  # the first voice is in the library already, with other metadata
    for name in ("reference.wav", "voice.json"):
        (target.root / voices[0].id / name).write_bytes((source.root / voices[0].id / name).read_bytes())
    target.update(voices[0].id, VoiceUpdate(name="Changed since"))
    before = _files(target.root)
    killed = subprocess.run(
        [sys.executable, "-c", _CRASHING_IMPORT, str(target.root), str(archive), str(renames), duplicates],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert _files(target.root) != before or renames == 0, "the import was cut off half done"
    again = VoiceLibrary(target.root)
    assert _files(target.root) == before, "all or nothing across a crash"
    assert [v.name for v in again.list()] == ["Changed since"]
    assert sorted(p.name for p in target.root.iterdir()) == [voices[0].id]


def test_a_sweep_waits_for_another_process_writing(tmp_path):
    library = VoiceLibrary(tmp_path / "state" / "voices")
    voice = library.add(VoiceCreate(name="Rose"), _speechlike(2), 16000)
    staging = library.root / ".tmp-import-1234" / "voice_x_0000"
    with library.locked():  # a write in progress in this process: its files must survive another process's start
        staging.mkdir(parents=True)
        (library.root / voice.id / "reference.wav.new").write_bytes(b"RIFF")
        cli = subprocess.Popen(
            [sys.executable, "-m", "voxhost", "voices", "export", "-o", str(tmp_path / "out.zip")],
            env={**os.environ, "VOXHOST_STATE_DIR": str(tmp_path / "state")},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(3)
        assert cli.poll() is None, "the CLI waits for the lock"
        assert staging.is_dir() and (library.root / voice.id / "reference.wav.new").exists()
        shutil.rmtree(staging.parent)
        (library.root / voice.id / "reference.wav.new").unlink()
    out, err = cli.communicate(timeout=120)
    assert cli.returncode == 0, err
    assert zipfile.ZipFile(tmp_path / "out.zip").namelist()[1:] == [
        f"{voice.id}/reference.wav",
        f"{voice.id}/voice.json",
    ]


def test_an_export_leaves_out_a_voice_deleted_meanwhile(tmp_path):
    library = VoiceLibrary(tmp_path / "a")
    kept, gone = (library.add(VoiceCreate(name=f"Voice {i}"), _speechlike(2), 16000) for i in range(2))
    listed = library.list()
    library.remove(gone.id)  # after the list was taken, before the files are read
    write_archive(tmp_path / "voices.zip", library.root, listed)
    assert [item.voice.id for item in read_archive((tmp_path / "voices.zip").read_bytes())] == [kept.id]
