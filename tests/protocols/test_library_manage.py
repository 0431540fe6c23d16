"""Managing the voice library over HTTP: metadata updates, new recordings, tags, search and pages, usage, bulk
deletes with confirmation, and export/import archives (a round trip, and tampered archives that write nothing)."""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from hashlib import sha256

import httpx2 as httpx
import openai
import pytest

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
    ):
        refused = patch(lib, voice["id"], bad)
        assert refused.status_code == 400, (bad, refused.text)
        assert refused.json()["error"]["param"].split(".")[0] == field, (bad, refused.text)
    assert patch(lib, "voice_nobody_0000", {"name": "X"}).status_code == 404
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
    }
    for label, (archive, status, words) in cases.items():
        response = import_(lib, archive)
        assert response.status_code == status, (label, response.text)
        assert words in response.json()["error"]["message"], (label, response.text)
        assert on_disk(lib) == before, f"{label}: something was written"
    assert [v["id"] for v in library(lib)["data"]] == [other]


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
