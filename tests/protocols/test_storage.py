"""A full or read-only disk under a real ``voxhost serve``: the answer says what failed, nothing stored is lost or
half-written, and the daemon keeps serving.

The daemon runs in a user and mount namespace of its own (``unshare -rm``) with a tiny tmpfs as its state
directory: a real full, or really read-only, file system for it alone, gone with the process, that needs no root
and touches nothing outside.
"""

from __future__ import annotations

import errno
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest

from voxhost.errors import StorageFullError, StorageReadOnlyError, storage_error
from voxhost.library import VoiceLibrary
from voxhost.models import _storage_problem
from voxhost.operations import VoiceCreate

from ..conftest import free_port, namespaces_work
from .http_helpers import tone, wav_bytes

pytestmark = pytest.mark.skipif(not namespaces_work(), reason="no user namespaces here (unshare -rm)")


class SmallDiskDaemon:
    """``voxhost serve`` (HTTP only) on a tmpfs state directory of ``size`` in its own mount namespace."""

    def __init__(self, tmp: Path, size: str, prepare: str) -> None:
        self.state = tmp / "state"
        self.state.mkdir()
        self.port = free_port()
        self.log = tmp / "voxhost.log"
        serve = shlex.join(
            [
                sys.executable,
                "-m",
                "voxhost",
                "serve",
                "--state-dir",
                str(self.state),
                "--no",
                "wyoming",
                "--http-port",
                str(self.port),
                "--http-host",
                "127.0.0.1",
            ]  # fmt: skip
        )
        script = f"mount -t tmpfs -o size={size} tmpfs {shlex.quote(str(self.state))} && {prepare} exec {serve}"
        # No recognizer: the test uploads tones, which a recognizer would rightly refuse for their transcripts.
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "VOXHOST_LOAD_PLUGINS": "",
            "VOXHOST_ENGINES__WHISPER__ENABLED": "false",
        }
        self.proc = subprocess.Popen(["unshare", "-rm", "sh", "-c", script], env=env, stderr=open(self.log, "wb"))
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"voxhost did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.2)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def upload(self, name: str, seconds: float = 3.0) -> httpx.Response:
        return httpx.post(
            self.url + "/v1/audio/voices",
            data={"name": name, "transcript": "A test reference."},
            files={"audio_sample": ("ref.wav", wav_bytes(tone(220, seconds)), "audio/wav")},
            timeout=60,
        )

    def voices(self) -> list[str]:
        return [v["name"] for v in httpx.get(self.url + "/v1/library/voices").json()["data"]]

    def speaks(self) -> bool:
        body = {"model": "tts-1", "voice": "alloy", "input": "Still speaking.", "response_format": "wav"}
        return httpx.post(self.url + "/v1/audio/speech", json=body, timeout=60).content[:4] == b"RIFF"

    def stop(self) -> int:
        self.proc.terminate()
        return self.proc.wait(30)


def test_full_disk_is_a_507_that_says_so_and_leaves_nothing_behind(tmp_path):
    # 400 KiB of file system, 300 KiB taken: a 3 s voice (144 KiB) does not fit, a 1 s one (48 KiB) does.
    filler = "head -c 307200 /dev/zero > {state}/filler &&".format(state=shlex.quote(str(tmp_path / "state")))
    d = SmallDiskDaemon(tmp_path, "400k", filler)
    try:
        full = d.upload("Too Big")
        assert full.status_code == 507, full.text
        error = full.json()["error"]
        assert error["code"] == "no_space" and "no space left" in error["message"]
        assert d.voices() == []  # nothing half-written is visible
        fits = d.upload("Small", seconds=1.0)
        assert fits.status_code == 200, fits.text
        assert d.voices() == ["Small"]
        assert d.speaks()
    finally:
        assert d.stop() == 0


def test_read_only_state_is_a_clear_error_and_keeps_what_is_stored(tmp_path):
    # A voice stored earlier, then the file system turned read-only under the daemon.
    prepared = tmp_path / "prepared"
    library = VoiceLibrary(prepared / "voices")
    kept = library.add(VoiceCreate(name="Kept", transcript="Hello."), tone(220, 2.0), 24000)
    state = shlex.quote(str(tmp_path / "state"))
    prepare = f"cp -r {shlex.quote(str(prepared / 'voices'))} {state}/ && mount -o remount,ro {state} &&"
    d = SmallDiskDaemon(tmp_path, "1m", prepare)
    try:
        refused = d.upload("New")
        assert refused.status_code == 500, refused.text
        error = refused.json()["error"]
        assert error["code"] == "read_only" and "read-only" in error["message"]
        delete = httpx.delete(d.url + f"/v1/audio/voices/{kept.id}")
        assert delete.status_code == 500 and delete.json()["error"]["code"] == "read_only"
        assert d.voices() == ["Kept"]  # still there, whole
        # A lexicon entry was a bare 500 ("internal error"), and listed all the same (and stored by the next change).
        entry = httpx.post(d.url + "/v1/lexicon", json={"match": "voxhost", "say": "vox host"})
        assert entry.status_code == 500 and entry.json()["error"]["code"] == "read_only", entry.text
        assert "lexicon" in entry.json()["error"]["message"]
        assert httpx.get(d.url + "/v1/lexicon").json()["data"] == []
        assert d.speaks()
    finally:
        assert d.stop() == 0


def test_storage_errors_name_the_cause():
    full = storage_error(OSError(errno.ENOSPC, "No space left on device", "/var/lib/voxhost/x"), "the model")
    assert isinstance(full, StorageFullError) and full.http_status == 507
    assert full.message == "could not write the model: no space left on the device (/var/lib/voxhost/x)"
    read_only = storage_error(OSError(errno.EROFS, "Read-only file system"))
    assert isinstance(read_only, StorageReadOnlyError) and "read-only" in read_only.message
    assert storage_error(OSError(errno.ECONNRESET, "reset")) is None
    # A download library that wraps the disk's error still gets it named.
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("download failed") from inner
    except RuntimeError as outer:
        problem = _storage_problem(outer, "org/model into /models")
    assert isinstance(problem, StorageFullError) and "org/model" in problem.message
