"""Managing the voice library over HTTP: metadata updates, new recordings, tags, search and pages, usage, bulk
deletes with confirmation, and export/import archives (a round trip, and tampered archives that write nothing)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import threading
import time
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor
from hashlib import sha256
from pathlib import Path

import httpx2 as httpx
import numpy as np
import openai
import pytest
import soundfile

from voxhost import library as library_module
from voxhost import watching
from voxhost.library import VoiceLibrary, fingerprint
from voxhost.operations import VoiceCreate, VoiceUpdate
from voxhost.voice_archive import write_archive

from .http_helpers import base_url, client, cloning_daemon, decode, dominant_frequency, tone, wav_bytes


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    """Piper plus the pitchshift cloning engine; archives up to 1 MiB."""
    with cloning_daemon(tmp_path_factory, "manage-state", max_import_mb=1.0) as d:
        yield d


def add_voice(d, name: str, freq: float = 300.0, **extra) -> dict:
    """A new library voice through the openai client."""
    return (
        client(d)
        .audio.voices.create(
            name=name,
            audio_sample=("sample.wav", wav_bytes(tone(freq, 2.0)), "audio/wav"),
            consent="cons_test",
            extra_body=extra or None,
        )
        .model_dump()
    )


def patch(d, voice_id: str, body: dict) -> httpx.Response:
    """``PATCH /v1/audio/voices/{id}``."""
    return httpx.patch(f"{base_url(d)}/v1/audio/voices/{voice_id}", json=body)


def library(d, **params) -> dict:
    """``GET /v1/library/voices``."""
    response = httpx.get(base_url(d) + "/v1/library/voices", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def on_disk(d) -> dict[str, bytes]:
    """Every file of the library folder, by its path."""
    root = d.core.library.root
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def clear(d) -> None:
    """Delete every library voice."""
    httpx.post(base_url(d) + "/v1/library/voices/delete", json={"all": True, "confirm": True})


def test_update_metadata_without_a_new_recording(lib):
    voice = add_voice(lib, "Aunt May", language="en")
    reference = (lib.core.library.root / voice["id"] / "reference.wav").read_bytes()
    fingerprint = lib.core.library.get(voice["id"]).fingerprint
    changed = patch(
        lib,
        voice["id"],
        {"name": "Aunt May (old)", "language": "de-ch", "tags": ["Family", "family", "old"], "notes": "from 1998"},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["id"] == voice["id"] and body["name"] == "Aunt May (old)" and body["language"] == "de_CH"
    assert body["tags"] == ["family", "old"] and body["notes"] == "from 1998" and body["updated_at"]
    assert body["created_at"] == voice["created_at"] and body["seconds"] == voice["seconds"]
    assert (lib.core.library.root / voice["id"] / "reference.wav").read_bytes() == reference
    assert lib.core.library.get(voice["id"]).fingerprint == fingerprint  # same audio, same transcript
    transcript = patch(lib, voice["id"], {"transcript": "Hello there.", "notes": None}).json()
    assert transcript["transcript"] == "Hello there." and transcript["notes"] is None and transcript["tags"]
    assert lib.core.library.get(voice["id"]).fingerprint != fingerprint  # engines' caches follow the transcript
    catalog = httpx.get(base_url(lib) + "/v1/audio/voices").json()["voices"]
    assert any(v["id"] == f"pitchshift:{voice['id']}" for v in catalog)
    assert any("Aunt May (old)" in v["name"] for v in catalog)
    for bad, field in (
        ({"name": None}, "name"),
        ({"name": "../x"}, "name"),
        ({"tags": [" spaced"]}, "tags"),
        ({"tags": ["x"] * 21}, "tags"),
        ({"language": "klingon!"}, "language"),
        ({"colour": "red"}, "colour"),
        ({"notes": 5}, "notes"),
        ({"notes": "a\x00b"}, "notes"),
        ({"notes": "bell\x07"}, "notes"),
    ):
        refused = patch(lib, voice["id"], bad)
        assert refused.status_code == 400, (bad, refused.text)
        assert refused.json()["error"]["param"].split(".")[0] == field, (bad, refused.text)
    assert patch(lib, "voice_nobody_0000", {"name": "X"}).status_code == 404
    named = patch(lib, "Aunt May (old)", {"name": "X"})  # its name where its id belongs: the id is named
    assert named.status_code == 404 and f"is the name of {voice['id']}: give the id" in named.text, named.text
    assert lib.core.library.get(voice["id"]).name == "Aunt May (old)"


def test_replace_the_recording(lib):
    voice = add_voice(lib, "Cousin Tom", freq=300.0)
    replaced = httpx.put(
        f"{base_url(lib)}/v1/audio/voices/{voice['id']}/audio",
        files={"audio_sample": ("new.wav", wav_bytes(tone(440.0, 3.0)), "audio/wav")},
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["id"] == voice["id"] and replaced.json()["name"] == "Cousin Tom"
    assert abs(replaced.json()["seconds"] - 3.0) < 0.01
    with client(lib).audio.speech.with_streaming_response.create(
        model="pitchshift", voice=voice["id"], input="Do I sound different now?", response_format="wav"
    ) as response:
        pcm, rate = decode("wav", response.read())
    assert abs(dominant_frequency(pcm, rate) - 440) < 10, "the new recording speaks"
    bad = httpx.put(
        f"{base_url(lib)}/v1/audio/voices/{voice['id']}/audio",
        files={"audio_sample": ("short.wav", wav_bytes(tone(440.0, 0.3)), "audio/wav")},
    )
    assert bad.status_code == 422
    assert abs(lib.core.library.get(voice["id"]).seconds - 3.0) < 0.01
    assert not list((lib.core.library.root / voice["id"]).glob("*.new"))


def test_tags_search_pages_and_usage(lib):
    clear(lib)
    ids = [add_voice(lib, f"Kid {i}", tags=None)["id"] for i in range(5)]
    for voice_id in ids[:3]:
        patch(lib, voice_id, {"tags": ["kids"], "notes": "school choir"})
    patch(lib, ids[3], {"transcript": "Twinkle twinkle little star."})
    assert library(lib)["total"] == 5
    tagged = library(lib, tag="kids", limit=2)
    assert tagged["total"] == 3 and [v["id"] for v in tagged["data"]] == ids[2:0:-1] and tagged["has_more"]
    assert [v["id"] for v in library(lib, tag="kids", limit=2, offset=2)["data"]] == [ids[0]]
    assert [v["id"] for v in library(lib, q="TWINKLE star")["data"]] == [ids[3]]
    assert library(lib, q="choir kid")["total"] == 3
    assert library(lib, q="nobody")["total"] == 0
    assert httpx.get(base_url(lib) + "/v1/library/voices", params={"limit": 0}).status_code == 400
    # Usage: speech and conversion with the voice count, with the time of the last use.
    c = client(lib)
    for _ in range(2):
        c.audio.speech.create(model="pitchshift", voice=ids[4], input="Counting my uses.", response_format="pcm")
    used = httpx.get(f"{base_url(lib)}/v1/audio/voices/{ids[4]}").json()
    assert used["uses"] == 2 and used["last_used"] > used["created_at"]
    assert httpx.get(f"{base_url(lib)}/v1/audio/voices/{ids[0]}").json()["uses"] == 0


def test_bulk_delete_needs_confirmation(lib):
    clear(lib)
    keep = add_voice(lib, "Keeper")["id"]
    doomed = [add_voice(lib, f"Temp {i}")["id"] for i in range(3)]
    for voice_id in doomed:
        patch(lib, voice_id, {"tags": ["temporary"]})
    url = base_url(lib) + "/v1/library/voices/delete"
    dry = httpx.post(url, json={"tag": "temporary"}).json()
    assert not dry["confirmed"] and sorted(dry["matched"]) == sorted(doomed) and dry["deleted"] == []
    assert library(lib)["total"] == 4
    assert httpx.post(url, json={}).json()["matched"] == []
    unknown = httpx.post(url, json={"ids": [doomed[0], "voice_nobody_1234"], "confirm": True})
    assert unknown.status_code == 404 and library(lib)["total"] == 4  # one unknown id: nothing deleted
    assert "voice_nobody_1234" in unknown.json()["error"]["message"] and "nothing deleted" in unknown.text
    done = httpx.post(url, json={"tag": "temporary", "confirm": True}).json()
    assert done["confirmed"] and sorted(done["deleted"]) == sorted(doomed)
    assert [v["id"] for v in library(lib)["data"]] == [keep]
    assert not any((lib.core.library.root / v).exists() for v in doomed)


# -- export and import ---------------------------------------------------------------------------------------


def export(d, ids: list[str] | None = None) -> bytes:
    """``GET /v1/library/export``."""
    response = httpx.get(base_url(d) + "/v1/library/export", params={"ids": ",".join(ids)} if ids else None)
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip", response.text
    return response.content


def import_(d, archive: bytes, duplicates: str | None = None) -> httpx.Response:
    """``POST /v1/library/import``."""
    data = {"duplicates": duplicates} if duplicates else None
    return httpx.post(
        base_url(d) + "/v1/library/import", files={"archive": ("voices.zip", archive, "application/zip")}, data=data
    )


def test_export_delete_import_restores_identical_voices(lib):
    clear(lib)
    first = add_voice(lib, "Grandma Rose", transcript="Hello, dear.", language="en")["id"]
    second = add_voice(lib, "Grandpa Joe", freq=220.0)["id"]
    patch(lib, first, {"tags": ["family"], "notes": "kitchen"})
    before = on_disk(lib)
    metadata = {v: lib.core.library.get(v) for v in (first, second)}
    archive = export(lib)
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        manifest = json.loads(z.read("manifest.json"))
        assert manifest["format"] == "voxhost-voices" and {v["id"] for v in manifest["voices"]} == {first, second}
        assert z.read(f"{first}/transcript.txt") == b"Hello, dear."
        for name, entry in manifest["files"].items():
            assert sha256(z.read(name)).hexdigest() == entry["sha256"] and len(z.read(name)) == entry["size"]
    assert len(zipfile.ZipFile(io.BytesIO(export(lib, [second]))).namelist()) == 3  # manifest, wav, json
    assert httpx.get(base_url(lib) + "/v1/library/export", params={"ids": "voice_nobody_1"}).status_code == 404
    clear(lib)
    assert library(lib)["total"] == 0
    imported = import_(lib, archive)
    assert imported.status_code == 200, imported.text
    assert sorted(v["id"] for v in imported.json()["imported"]) == sorted([first, second])
    assert on_disk(lib) == before, "the same files, byte for byte"
    assert {v: lib.core.library.get(v) for v in (first, second)} == metadata
    assert f"pitchshift:{first}" in {v["id"] for v in httpx.get(base_url(lib) + "/v1/audio/voices").json()["voices"]}
    # Again: the stated rule for ids already in the library.
    patch(lib, first, {"name": "Renamed"})
    skipped = import_(lib, archive).json()
    assert skipped["imported"] == [] and sorted(skipped["skipped"]) == sorted([first, second])
    assert lib.core.library.get(first).name == "Renamed"
    replaced = import_(lib, archive, "replace").json()
    assert (
        sorted(replaced["replaced"]) == sorted([first, second]) and lib.core.library.get(first).name == "Grandma Rose"
    )
    assert on_disk(lib) == before


def _tamper(archive: bytes, change) -> bytes:
    """Rewrite an archive member by member; ``change(name, data)`` returns the new (name, data) or None."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            replaced = change(info.filename, src.read(info))
            if replaced is not None:
                dst.writestr(replaced[0], replaced[1])
    return out.getvalue()


def _manifest_entry(archive: bytes, name: str, data: bytes) -> bytes:
    """Add a member with a matching manifest entry (so only its name or size is wrong)."""

    def change(member: str, content: bytes):
        if member == "manifest.json":
            manifest = json.loads(content)
            manifest["files"][name] = {"size": len(data), "sha256": sha256(data).hexdigest()}
            return member, json.dumps(manifest).encode()
        return member, content

    out = io.BytesIO(_tamper(archive, change))
    with zipfile.ZipFile(out, "a") as z:
        z.writestr(name, data)
    return out.getvalue()


def test_tampered_archives_write_nothing(lib):
    clear(lib)
    voice = add_voice(lib, "Original", transcript="Hi.")["id"]
    good = export(lib)
    clear(lib)
    other = add_voice(lib, "Bystander")["id"]
    before = on_disk(lib)
    flipped = _tamper(good, lambda n, d: (n, d[:-10] + bytes(10)) if n.endswith("reference.wav") else (n, d))
    big_wav = wav_bytes(tone(300.0, 25.0, rate=48000), rate=48000)  # 2.4 MB: more than the 1 MiB upload limit
    cases = {
        "a changed recording (bad hash)": (flipped, 422, "hash"),
        "a ../ name": (_manifest_entry(good, f"../{voice}/reference.wav", b"x"), 422, "unsafe"),
        "an absolute name": (_manifest_entry(good, "/etc/passwd", b"x"), 422, "unsafe"),
        "an unknown member": (_manifest_entry(good, f"{voice}/voice.json.big", b"x"), 422, "no place"),
        "an oversize metadata file": (
            _tamper(good, lambda n, d: (n, d + b" " * 70_000) if n.endswith("voice.json") else (n, d)),
            422,
            "bytes",
        ),
        "an upload over the limit": (_tamper(good, lambda n, d: (n, big_wav if n.endswith(".wav") else d)), 413, ""),
        "no manifest": (_tamper(good, lambda n, d: None if n == "manifest.json" else (n, d)), 422, "manifest"),
        "not a zip": (b"PK\x03\x04 not really", 422, "not a zip"),
        "a bad name in voice.json": (_rehash(_tamper(good, _rename_to("../etc"))), 422, "name"),
        "a member twice": (_append(good, f"{voice}/transcript.txt", b"sneaky"), 422, "appears twice"),
        "an extra voice not in the manifest": (_append(good, "voice_extra_0000/voice.json", b"{}"), 422, "manifest"),
        # Taken as the HTTP door takes JSON: 1.0 and true are not 1, notes are plain text.
        "a manifest version of 1.0": (_tamper(good, _in_manifest(version=1.0)), 422, "version"),
        "a manifest version of true": (_tamper(good, _in_manifest(version=True)), 422, "version"),
        "a manifest created_at of true": (_tamper(good, _in_manifest(created_at=True)), 422, "created_at"),
        "a created_at of true": (_rehash(_tamper(good, _in_meta(created_at=True))), 422, "created_at"),
        "a created_at of 1.0": (_rehash(_tamper(good, _in_meta(created_at=1.0))), 422, "created_at"),
        "a NUL in the notes": (_rehash(_tamper(good, _in_meta(notes="a\x00b"))), 422, "NUL"),
        "a control character in the notes": (_rehash(_tamper(good, _in_meta(notes="bell\x07"))), 422, "control"),
        "a lone surrogate in the notes": (_rehash(_tamper(good, _in_meta(notes="a\ud800b"))), 422, "notes"),
        # Past what a file's time can hold (a 500 from the time the file was given, before).
        "an audio_mark of 10**30 ns": (_rehash(_tamper(good, _in_meta(audio_mark=[1, 10**30]))), 422, "audio_mark"),
        "a created_ns of 10**40": (_rehash(_tamper(good, _in_meta(created_ns=10**40))), 422, "created_ns"),
    }
    for label, (archive, status, words) in cases.items():
        response = import_(lib, archive)
        assert response.status_code == status, (label, response.text)
        assert words in response.json()["error"]["message"], (label, response.text)
        assert on_disk(lib) == before, f"{label}: something was written"
    assert [v["id"] for v in library(lib)["data"]] == [other]


def _in_manifest(**fields):
    """Set fields of the manifest (which no hash covers)."""

    def change(member: str, content: bytes):
        if member == "manifest.json":
            return member, json.dumps({**json.loads(content), **fields}).encode()
        return member, content

    return change


def _in_meta(**fields):
    """Set fields of every voice.json (the manifest's hashes need ``_rehash`` after)."""

    def change(member: str, content: bytes):
        if member.endswith("/voice.json"):
            return member, json.dumps({**json.loads(content), **fields}).encode()  # a lone surrogate as its escape
        return member, content

    return change


def _rename_to(name: str):
    def change(member: str, content: bytes):
        if member.endswith("/voice.json"):
            data = json.loads(content)
            data["name"] = name
            return member, json.dumps(data).encode()
        return member, content

    return change


def _append(archive: bytes, name: str, data: bytes) -> bytes:
    """Add a member without telling the manifest (a name already there too, as a hostile archive may)."""
    out = io.BytesIO(archive)
    with warnings.catch_warnings(), zipfile.ZipFile(out, "a") as z:
        warnings.simplefilter("ignore")  # zipfile warns of a duplicate name: that is the point
        z.writestr(name, data)
    return out.getvalue()


def _rehash(archive: bytes) -> bytes:
    """Make the manifest match the members again (so a check past the hashes is what refuses it)."""
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        contents = {name: z.read(name) for name in z.namelist()}

    def change(member: str, content: bytes):
        if member == "manifest.json":
            manifest = json.loads(content)
            for name in manifest["files"]:
                data = contents[name]
                manifest["files"][name] = {"size": len(data), "sha256": sha256(data).hexdigest()}
            return member, json.dumps(manifest).encode()
        return member, content

    return _tamper(archive, change)


def test_library_routes_use_the_openai_error_shape(lib):
    with pytest.raises(openai.NotFoundError):
        client(lib).audio.voices.delete("voice_nobody_4321")
    refused = import_(lib, b"")
    assert refused.status_code == 400 and set(refused.json()["error"]) == {"message", "type", "param", "code"}


# -- concurrent changes, stored tags, export and import edge cases ---------------------------------------------


def _at_once(calls: list) -> list:
    """Run calls on threads started together; their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_concurrent_changes_of_one_voice_are_serialized(lib):
    clear(lib)
    voice = add_voice(lib, "Busy", transcript="Hello there.")["id"]
    url = f"{base_url(lib)}/v1/audio/voices/{voice}"
    patches = [lambda i=i: patch(lib, voice, {"name": f"Busy {i}", "tags": [f"t{i}"]}) for i in range(12)]
    recordings = [
        lambda s=s: httpx.put(url + "/audio", files={"audio_sample": ("r.wav", wav_bytes(tone(300.0, s)), "audio/wav")})
        for s in (2.5, 3.5, 4.5)
    ]
    answers = _at_once(patches + recordings)
    assert [r.status_code for r in answers] == [200] * len(answers), [r.text for r in answers if r.status_code != 200]
    stored = lib.core.library.get(voice)  # still readable: no interleaved voice.json
    assert httpx.get(url).status_code == 200 and stored.name.startswith("Busy ")
    folder = lib.core.library.root / voice
    wav = (folder / "reference.wav").read_bytes()
    # The metadata describes the recording stored, whichever change came last.
    assert stored.fingerprint == fingerprint(wav, stored.transcript)
    assert abs(stored.seconds - soundfile.info(io.BytesIO(wav)).duration) < 0.01
    assert not list(folder.glob("*.new")) and not list(folder.glob(".*"))
    assert httpx.delete(url).status_code == 200


def test_concurrent_imports_of_one_archive(lib, tmp_path):
    clear(lib)
    source = VoiceLibrary(tmp_path / "source")
    for i in range(30):
        source.add(VoiceCreate(name=f"Twin {i}"), tone(200.0 + 10 * i, 1.2, rate=8000), 8000)
    archive = tmp_path / "voices.zip"
    write_archive(archive, source.root, source.list())
    ids = sorted(v.id for v in source.list())
    expected = {str(p.relative_to(source.root)): p.read_bytes() for p in sorted(source.root.rglob("*")) if p.is_file()}
    for duplicates in ("skip", "replace"):
        answers = _at_once([lambda d=duplicates: import_(lib, archive.read_bytes(), d)] * 4)
        assert [r.status_code for r in answers] == [200] * 4, [r.text for r in answers if r.status_code != 200]
        placed = [v["id"] for r in answers for v in r.json()["imported"] if v["id"] not in r.json()["replaced"]]
        assert duplicates == "replace" or sorted(placed) == ids, "each voice is new to exactly one import"
        assert on_disk(lib) == expected and sorted(v.id for v in lib.core.library.list()) == ids
        assert not [p for p in lib.core.library.root.iterdir() if p.name.startswith(".")], "nothing left over"
    clear(lib)


def test_tags_are_checked_as_stored(lib):
    clear(lib)
    voice = add_voice(lib, "Tagged")["id"]
    for tags in (["İstanbul"], ["İ" * 32], ["x\n"]):
        refused = patch(lib, voice, {"tags": tags})
        assert refused.status_code == 400 and refused.json()["error"]["param"].startswith("tags"), refused.text
    assert patch(lib, voice, {"tags": ["ÄRGER", "Straße"]}).json()["tags"] == ["ärger", "straße"]
    assert library(lib, tag="ärger")["total"] == 1
    again = import_(lib, export(lib, [voice]), "replace")
    assert again.status_code == 200 and again.json()["replaced"] == [voice], again.text


def test_export_names_each_voice_once(lib):
    clear(lib)
    voice = add_voice(lib, "Once", transcript="Hi.")["id"]
    archive = export(lib, [voice, voice])
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        names = z.namelist()
        assert len(names) == len(set(names)) == 4 and len(json.loads(z.read("manifest.json"))["voices"]) == 1
    assert import_(lib, archive, "replace").status_code == 200


def _with_recording(archive: bytes, wav: bytes) -> bytes:
    """The archive with every voice's recording replaced (the manifest made to match)."""
    return _rehash(_tamper(archive, lambda n, d: (n, wav if n.endswith("reference.wav") else d)))


def _raw_wav(samples: np.ndarray, rate: int, subtype: str = "PCM_16") -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, format="WAV", subtype=subtype)
    return buffer.getvalue()


def test_imported_audio_is_checked_as_an_upload(lib):
    clear(lib)
    voice = add_voice(lib, "Checked")["id"]
    good = export(lib)
    clear(lib)
    nan = tone(300.0, 2.0)
    nan[100] = np.nan
    for label, wav, words in (
        ("NaN samples", _raw_wav(nan, 24000, "FLOAT"), "invalid samples"),
        ("1 Hz", _raw_wav(np.array([0.5, -0.5], dtype=np.float32), 1), "sample rate"),
        ("384 kHz", _raw_wav(tone(300.0, 1.1, rate=384000), 384000), "sample rate"),
    ):
        refused = import_(lib, _with_recording(good, wav))
        assert refused.status_code == 422, (label, refused.text)
        assert words in refused.json()["error"]["message"], (label, refused.text)
        assert on_disk(lib) == {}, label
    high = import_(lib, _with_recording(good, _raw_wav(tone(300.0, 1.5, rate=96000), 96000)))
    assert high.status_code == 200 and high.json()["imported"][0]["sample_rate"] == 48000, high.text
    info = soundfile.info(str(lib.core.library.root / voice / "reference.wav"))
    assert info.samplerate == 48000 and info.subtype == "PCM_16" and abs(info.duration - 1.5) < 0.01


def test_a_broken_voice_is_listed_counted_and_deletable(lib):
    clear(lib)
    kept = add_voice(lib, "Kept")["id"]
    damaged, cut, lost = (add_voice(lib, name)["id"] for name in ("Damaged", "Cut", "Lost"))
    root = lib.core.library.root
    (root / damaged / "voice.json").write_text("{not json")
    (root / cut / "voice.json").write_bytes((root / cut / "voice.json").read_bytes()[:40])
    (root / lost / "voice.json").unlink()
    late = add_voice(lib, "Late")["id"]  # the folder changed: read again, as at a start
    listing = library(lib)
    assert [v["id"] for v in listing["data"]] == [late, kept] and listing["total"] == 2
    broken = {v["id"]: v for v in listing["broken"]}
    assert set(broken) == {damaged, cut, lost}
    assert "not JSON" in broken[damaged]["problem"] and "not JSON" in broken[cut]["problem"]
    assert "missing" in broken[lost]["problem"] and broken[damaged]["object"] == "audio.voice.broken"
    assert broken[damaged]["bytes"] > 50_000 and broken[damaged]["modified_at"] > 0
    shown = httpx.get(f"{base_url(lib)}/v1/audio/voices/{damaged}")
    assert shown.status_code == 404 and "broken" in shown.json()["error"]["message"], shown.text
    refused = patch(lib, cut, {"name": "Fixed"})
    assert refused.status_code == 404 and "broken" in refused.json()["error"]["message"], refused.text
    # Its files take space, so it counts towards the quota; deleting it makes room.
    assert lib.core.library.usage()[0] == 5
    lib.core.library.max_voices = 5
    try:
        with pytest.raises(openai.InternalServerError) as full:
            add_voice(lib, "One too many")
        assert full.value.status_code == 507
        deleted = client(lib).audio.voices.delete(damaged)
        assert deleted.id == damaged and deleted.deleted
        add_voice(lib, "Room again")
    finally:
        lib.core.library.max_voices = None
    assert not (root / damaged).exists()
    assert httpx.delete(f"{base_url(lib)}/v1/audio/voices/{damaged}").status_code == 404
    bulk = httpx.post(base_url(lib) + "/v1/library/voices/delete", json={"ids": [cut], "confirm": True})
    assert bulk.status_code == 200 and bulk.json()["deleted"] == [cut], bulk.text
    everything = httpx.post(base_url(lib) + "/v1/library/voices/delete", json={"all": True, "confirm": True})
    assert lost in everything.json()["deleted"], everything.text
    assert library(lib)["data"] == [] and library(lib)["broken"] == []
    assert lib.core.library.usage() == (0, 0)


def test_a_broken_voice_is_restored_by_importing_its_export(lib):
    clear(lib)
    voice = add_voice(lib, "Restored", transcript="Hello there.")
    archive = export(lib)
    (lib.core.library.root / voice["id"] / "voice.json").write_text("")
    add_voice(lib, "Bystander")  # the folder changed: read again, as at a start
    assert [v["id"] for v in library(lib)["broken"]] == [voice["id"]]
    restored = import_(lib, archive)
    assert restored.status_code == 200 and [v["id"] for v in restored.json()["imported"]] == [voice["id"]], (
        restored.text
    )
    assert library(lib)["broken"] == [] and lib.core.library.get(voice["id"]).transcript == "Hello there."
    assert not [p.name for p in lib.core.library.root.iterdir() if p.name.startswith(".")]


def test_a_delete_cut_off_before_its_files_went_does_not_block_the_next_delete_of_that_id(lib):
    clear(lib)
    voice = add_voice(lib, "Back Again")["id"]
    archive = export(lib)
    root = lib.core.library.root
    # A delete cut off between its rename and the removal of the files (a crash, a power cut) leaves this behind;
    # the voice comes back with an import of its export, and is deleted again while the daemon still runs.
    (root / voice).rename(root / f".tmp-del-{voice}")
    (root / f".tmp-del-{voice}" / "voice.json").unlink()  # part of its files already gone
    assert import_(lib, archive).status_code == 200
    deleted = client(lib).audio.voices.delete(voice)  # a bare 500 "internal error" until the daemon restarted
    assert deleted.id == voice and deleted.deleted
    assert httpx.get(f"{base_url(lib)}/v1/audio/voices/{voice}").status_code == 404
    assert [p.name for p in root.iterdir()] == [], "the voice and what the cut-off delete left are gone"


def test_a_delete_that_cannot_move_the_voice_away_says_why_and_changes_nothing(lib):
    clear(lib)
    voice = add_voice(lib, "Stuck")["id"]
    # Not a folder an interrupted delete left (voxhost only renames voice folders there): it is left alone.
    in_the_way = lib.core.library.root / f".tmp-del-{voice}"
    in_the_way.write_text("someone else's")
    try:
        with pytest.raises(openai.InternalServerError) as refused:
            client(lib).audio.voices.delete(voice)
        assert refused.value.status_code == 500 and refused.value.code == "storage_error", refused.value.body
        assert in_the_way.name in refused.value.message and "move it away" in refused.value.message
        assert in_the_way.read_text() == "someone else's"
        assert httpx.get(f"{base_url(lib)}/v1/audio/voices/{voice}").status_code == 200  # still there, whole
    finally:
        in_the_way.unlink()
    assert client(lib).audio.voices.delete(voice).deleted


def _speak(d, voice_id: str) -> httpx.Response:
    """``POST /v1/audio/speech`` with a library voice."""
    body = {"model": "pitchshift", "voice": voice_id, "input": "Is it still me?", "response_format": "pcm"}
    return httpx.post(base_url(d) + "/v1/audio/speech", json=body, timeout=60)


def _broken_within(d, seconds: float, wanted: set[str]) -> dict[str, str]:
    """The broken voices' problems, by id, once exactly ``wanted`` are broken (polled for up to ``seconds``)."""
    deadline = time.monotonic() + seconds
    while {v["id"] for v in library(d)["broken"]} != wanted and time.monotonic() < deadline:
        time.sleep(0.05)
    return {v["id"]: v["problem"] for v in library(d)["broken"]}


def test_files_changed_inside_a_voice_folder_are_seen_within_the_watchers_interval(lib, monkeypatch):
    """Nothing but the voice's own files changes (the library folder's mtime stays): what is listed and spoken still
    follows the disk within the watcher's interval, and only the watcher's thread compares the voice folders' files
    (a request's lookup stats the library folder alone)."""
    clear(lib)
    damaged, edited = add_voice(lib, "Damaged")["id"], add_voice(lib, "Edited")["id"]
    rerecorded = add_voice(lib, "Rerecorded", transcript="Good evening.")["id"]
    root = lib.core.library.root
    assert {v["id"] for v in library(lib)["data"]} == {damaged, edited, rerecorded}
    assert _speak(lib, damaged).status_code == 200
    comparers: list[str] = []
    compare = library_module._signature

    def noted(folder: str) -> library_module.Signature:
        comparers.append(threading.current_thread().name)
        return compare(folder)

    monkeypatch.setattr(library_module, "_signature", noted)
    within = watching.RESCAN_SECONDS * 3
    stamp = root.stat().st_mtime_ns
    with open(root / damaged / "reference.wav", "r+b") as audio:  # damaged in place: same file, same size
        audio.write(b"\0" * 64)
    meta = (root / edited / "voice.json").read_bytes()
    (root / edited / "voice.json").write_text("{not json")  # in place too
    assert root.stat().st_mtime_ns == stamp
    broken = _broken_within(lib, within, {damaged, edited})
    assert set(broken) == {damaged, edited} and [v["id"] for v in library(lib)["data"]] == [rerecorded], broken
    assert "reference.wav is not readable audio" in broken[damaged] and "not JSON" in broken[edited]
    refused = _speak(lib, damaged)
    assert refused.status_code == 400 and "unknown voice" in refused.json()["error"]["message"], refused.text
    shown = httpx.get(f"{base_url(lib)}/v1/audio/voices/{damaged}")
    assert shown.status_code == 404 and "broken (reference.wav" in shown.json()["error"]["message"], shown.text
    # Mended in place: a voice again.
    (root / edited / "voice.json").write_bytes(meta)
    assert set(_broken_within(lib, within, {damaged})) == {damaged}
    assert {v["id"] for v in library(lib)["data"]} == {edited, rerecorded} and _speak(lib, edited).status_code == 200
    # Re-recorded by hand at the same rate and length (a same-size file): what engines keep of the old recording
    # (keyed by its fingerprint) is derived anew, and the old recording's word timings go.
    kept = lib.core.library.get(rerecorded)
    other = root / rerecorded / "other.wav"
    soundfile.write(other, tone(450.0, 2.0, kept.sample_rate), kept.sample_rate, subtype="PCM_16")
    assert other.stat().st_size == (root / rerecorded / "reference.wav").stat().st_size
    os.replace(other, root / rerecorded / "reference.wav")
    # Another recording put in its place by hand: not the one its metadata (and transcript) describe.
    other = root / edited / "other.wav"
    soundfile.write(other, tone(500.0, 3.5), 24000, subtype="PCM_16")
    os.replace(other, root / edited / "reference.wav")
    assert root.stat().st_mtime_ns == stamp
    broken = _broken_within(lib, within, {damaged, edited})
    assert "not the recording voice.json describes" in broken[edited], broken
    assert _speak(lib, edited).status_code == 400
    now = lib.core.library.get(rerecorded)  # usable still, as the recording it now is
    assert now.fingerprint == fingerprint((root / rerecorded / "reference.wav").read_bytes(), "Good evening.")
    assert now.fingerprint != kept.fingerprint and now.words is None and kept.transcript == now.transcript
    assert lib.core.catalog.resolve(rerecorded).reference.fingerprint == now.fingerprint
    assert comparers and set(comparers) == {"voice-library"}, comparers
    for voice_id in (damaged, edited, rerecorded):  # deletable, as every broken voice
        assert httpx.delete(f"{base_url(lib)}/v1/audio/voices/{voice_id}").status_code == 200
    assert library(lib)["broken"] == [] and lib.core.library.usage() == (0, 0)


def test_a_voice_lookup_stats_the_library_folder_alone(lib, monkeypatch):
    """With a library of voices, a lookup on the event loop (a library voice by its id, every voice listed) stats
    only the library folder, whatever the number of voices; a voice written by this process is seen at once."""
    clear(lib)
    voices = [add_voice(lib, f"Many {i}")["id"] for i in range(5)]
    lib.core.voices()  # the folder changed: listed again once
    stats: list[str] = []
    stat = os.stat

    def noted(path, *args, **kwargs):
        if threading.current_thread() is threading.main_thread():
            stats.append(str(path))
        return stat(path, *args, **kwargs)

    monkeypatch.setattr(library_module.os, "stat", noted)
    for _ in range(3):
        assert lib.core.catalog.resolve(voices[2]).voice.voice == voices[2]
        assert {v.voice for v in lib.core.voices() if v.kind == "cloned"} == set(voices)
    monkeypatch.setattr(library_module.os, "stat", stat)
    assert stats and set(stats) == {str(lib.core.library.root)}, stats
    # Another process adds a voice (``voxhost voices add``): the next lookup reads that voice alone, never the
    # others' files (the watcher compares those), and sees it at once.
    newcomer = VoiceLibrary(lib.core.library.root).add(VoiceCreate(name="Newcomer"), tone(300.0, 2.0), 24000).id
    stats.clear()
    monkeypatch.setattr(library_module.os, "stat", noted)
    assert lib.core.catalog.resolve(newcomer).voice.voice == newcomer
    assert {v.voice for v in lib.core.voices() if v.kind == "cloned"} == {*voices, newcomer}
    monkeypatch.setattr(library_module.os, "stat", stat)
    assert not [path for path in stats if any(voice_id in path for voice_id in voices)], stats
    lib.core.library.update(voices[2], VoiceUpdate(name="Renamed"))  # in place: the folder's mtime stays
    assert lib.core.library.get(voices[2]).name == "Renamed"
    clear(lib)


HEARD = ((0.1, 0.5, "Good"), (0.6, 1.2, "evening."))


def _written_metadata(monkeypatch) -> list[dict]:
    """Every voice.json renamed into place from now on: what a reader, or a crash, could meet."""
    written: list[dict] = []
    rename = os.replace

    def recording(src, dst, *args, **kwargs):
        if os.fspath(dst).endswith("/voice.json"):
            written.append(json.loads(Path(src).read_text()))
        return rename(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", recording)
    return written


def test_a_change_and_the_word_timings_it_was_checked_with_are_written_at_once(lib, monkeypatch):
    clear(lib)
    voice = add_voice(lib, "Timed", transcript="Hello there.")["id"]
    bare = add_voice(lib, "Untold")["id"]

    async def recognizer(create, samples, rate, priority=0):
        return (create if create.transcript else create.model_copy(update={"transcript": "Good evening."})), HEARD

    monkeypatch.setattr(lib.core.recognition, "reference", recognizer)
    written = _written_metadata(monkeypatch)
    changed = patch(lib, voice, {"transcript": "Good evening.", "tags": ["timed"]})
    assert changed.status_code == 200, changed.text
    heard = [list(word) for word in HEARD]
    assert [(w["transcript"], w["tags"], w["words"]) for w in written] == [("Good evening.", ["timed"], heard)]
    written.clear()
    url = f"{base_url(lib)}/v1/audio/voices/{bare}/audio"
    replaced = httpx.put(url, files={"audio_sample": ("new.wav", wav_bytes(tone(440.0, 3.0)), "audio/wav")})
    assert replaced.status_code == 200 and replaced.json()["transcript"] == "Good evening.", replaced.text
    assert [(w["transcript"], w["seconds"], w["words"]) for w in written] == [("Good evening.", 3.0, heard)]
    stored = lib.core.library.get(bare)
    wav = (lib.core.library.root / bare / "reference.wav").read_bytes()
    assert stored.fingerprint == fingerprint(wav, "Good evening.")


def test_a_transcript_checked_against_a_recording_replaced_meanwhile_is_refused(lib, monkeypatch):
    clear(lib)
    voice = add_voice(lib, "Raced", transcript="Hello there.")["id"]

    async def slow_recognizer(create, samples, rate, priority=0):
        # Another change gives the voice a new recording while this one's audio is heard.
        await asyncio.to_thread(lib.core.library.replace_audio, voice, tone(440.0, 3.0), 24000)
        return create, HEARD

    monkeypatch.setattr(lib.core.recognition, "reference", slow_recognizer)
    refused = patch(lib, voice, {"transcript": "Good evening."})
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "conflict" and refused.json()["error"]["param"] == "transcript"
    stored = lib.core.library.get(voice)
    assert stored.transcript == "Hello there." and stored.words is None and abs(stored.seconds - 3.0) < 0.01


def test_voices_added_in_one_second_are_numbered_in_the_order_they_were_added(lib, monkeypatch):
    """Two recordings named alike in the same second: the first keeps the name, the second is ``(2)``, whatever
    their random ids, and so after a restart (a library read afresh) and after an export and import."""
    clear(lib)
    second = int(time.time())
    # The same second for every add (the nanoseconds run on): ids whose order is the reverse of the adds'.
    monkeypatch.setattr(library_module, "time", type("Clock", (), {"time": lambda: second, "time_ns": time.time_ns}))
    first = add_voice(lib, "Grandma")["id"]
    later = add_voice(lib, "Grandma")["id"]
    while later > first:  # an id that sorts before the first one's
        httpx.delete(f"{base_url(lib)}/v1/audio/voices/{later}")
        later = add_voice(lib, "Grandma")["id"]

    def shown() -> dict[str, str]:
        voices = httpx.get(base_url(lib) + "/v1/audio/voices").json()["voices"]
        cloned = [v for v in voices if v["id"].startswith("pitchshift:")]
        return {v["id"].partition(":")[2]: v["name"].removesuffix(" (Pitch shift (test))") for v in cloned}

    assert shown() == {first: "Grandma", later: "Grandma (2)"}
    assert [v["id"] for v in library(lib)["data"]] == [later, first]  # newest first
    assert [v.id for v in VoiceLibrary(lib.core.library.root).list()] == [first, later]  # after a restart
    archive = export(lib)
    clear(lib)
    assert import_(lib, archive).status_code == 200
    assert shown() == {first: "Grandma", later: "Grandma (2)"}
    httpx.delete(f"{base_url(lib)}/v1/audio/voices/{first}")
    assert shown() == {later: "Grandma"}  # the older one gone: the plain name is the later one's


def test_a_bulk_delete_that_cannot_delete_one_voice_deletes_none(lib):
    clear(lib)
    ids = [add_voice(lib, f"Bulk {i}")["id"] for i in range(3)]
    before = on_disk(lib)
    in_the_way = lib.core.library.root / f".tmp-del-{ids[1]}"  # not voxhost's: the middle voice cannot move away
    in_the_way.write_text("someone else's")
    url = base_url(lib) + "/v1/library/voices/delete"
    try:
        refused = httpx.post(url, json={"ids": ids, "confirm": True})
        assert refused.status_code == 500, refused.text
        error = refused.json()["error"]
        assert error["code"] == "storage_error" and ids[1] in error["message"], error
        assert "nothing deleted" in error["message"] and in_the_way.name in error["message"], error
        assert {v["id"] for v in library(lib)["data"]} == set(ids)
        on_disk_now = on_disk(lib)
        on_disk_now.pop(in_the_way.name)
        assert on_disk_now == before, "every voice whole, in its place"
    finally:
        in_the_way.unlink()
    done = httpx.post(url, json={"ids": ids, "confirm": True}).json()
    assert sorted(done["deleted"]) == sorted(ids) and library(lib)["total"] == 0


def test_names_that_read_alike_in_another_unicode_form_are_told_apart(lib):
    """A name typed decomposed (``e`` and a combining accent, as macOS may send it) is the same name: stored
    composed, and numbered after the one already there; so is a full-width one."""
    clear(lib)
    composed = add_voice(lib, "Café")["id"]
    decomposed = add_voice(lib, "Cafe\u0301")  # refused as an invalid name before
    wide = add_voice(lib, "ＣＡＦÉ")["id"]
    assert decomposed["name"] == "Café"
    voices = httpx.get(base_url(lib) + "/v1/audio/voices").json()["voices"]
    shown = {v["id"].partition(":")[2]: v["name"].removesuffix(" (Pitch shift (test))") for v in voices}
    assert [shown[composed], shown[decomposed["id"]], shown[wide]] == ["Café", "Café (2)", "ＣＡＦÉ (3)"]
    clear(lib)
