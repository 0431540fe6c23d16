"""Zip archives in and out: written to a temporary file on a thread and streamed from it; read with every name,
size and hash checked before anything is used.

An archive voxhost writes has ``manifest.json`` first, listing every other member with its size and SHA-256.
Reading one refuses absolute paths, ``..``, backslashes, links, encrypted or duplicate members, and members
larger than their limit (by the size the archive claims and by the bytes actually read).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import tempfile
import time
import zipfile
from collections.abc import AsyncGenerator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from . import __version__
from .errors import InvalidArchiveError

MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 1024 * 1024
STREAM_BYTES = 256 * 1024
"""Bytes read from the temporary file per step while an archive streams out."""

Source = Path | bytes
"""A member's content: a file to copy, or bytes."""


def sha256(data: bytes) -> str:
    """Hex SHA-256."""
    return hashlib.sha256(data).hexdigest()


def _read_source(source: Source) -> bytes:
    return source if isinstance(source, bytes) else source.read_bytes()


def write_zip(target: Path, kind: str, members: Iterable[tuple[str, Source]], extra: dict[str, Any]) -> None:
    """Write an archive (blocking): the manifest (``kind``, ``extra`` and every member's size and hash) first.

    Audio is stored as it is (it does not compress); text is deflated.
    """
    contents = [(name, _read_source(source)) for name, source in members]
    manifest = {
        "format": kind,
        "version": 1,
        "created_at": int(time.time()),
        "voxhost": __version__,
        **extra,
        "files": {name: {"size": len(data), "sha256": sha256(data)} for name, data in contents},
    }
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1), zipfile.ZIP_DEFLATED)
        for name, data in contents:
            method = zipfile.ZIP_STORED if name.endswith(".wav") else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, method)


def _temporary(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix=".archive-", suffix=".zip", delete=False)  # noqa: SIM115
    handle.close()
    return Path(handle.name)


async def stream_zip(
    folder: Path, build: Callable[[Path], None], chunk: int = STREAM_BYTES
) -> AsyncGenerator[bytes, None]:
    """Build an archive into a temporary file of ``folder`` (on a thread), then yield it; the file is removed."""
    path = await asyncio.to_thread(_temporary, folder)
    try:
        await asyncio.to_thread(build, path)
        stream = await asyncio.to_thread(path.open, "rb")
        try:
            while data := await asyncio.to_thread(stream.read, chunk):
                yield data
        finally:
            stream.close()
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)


@dataclass(frozen=True)
class Member:
    """An archive member whose bytes matched the manifest."""

    name: str
    data: bytes


def _unsafe(name: str) -> str | None:
    """Why a member's name is unsafe, or None."""
    if not name or len(name) > 255:
        return "an empty or overlong name"
    if "\\" in name or "\0" in name:
        return "a backslash or NUL in the name"
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith("/"):
        return "an absolute path"
    if any(part in ("..", ".", "") for part in name.rstrip("/").split("/")):
        return "a '..' or empty path part"
    return None


def read_zip(
    data: bytes,
    kind: str,
    limit_for: Callable[[str], int | None],
    max_total: int,
) -> tuple[dict[str, Any], dict[str, Member]]:
    """Open an archive of ``kind`` and check it in full: names, sizes, hashes. ``limit_for(name)`` is a member's
    largest size, or None for a name that has no place in such an archive. Returns the manifest and members."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise InvalidArchiveError("the archive is not a zip file", param="archive") from None
    with archive:
        infos = archive.infolist()
        names: set[str] = set()
        files = []
        total = 0
        for info in infos:
            name = info.filename
            if problem := _unsafe(name):
                raise InvalidArchiveError(f"unsafe member {name[:80]!r}: {problem}", param="archive")
            if name in names:
                raise InvalidArchiveError(f"member {name!r} appears twice", param="archive")
            names.add(name)
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise InvalidArchiveError(f"member {name!r} is a link", param="archive")
            if info.flag_bits & 0x1:
                raise InvalidArchiveError(f"member {name!r} is encrypted", param="archive")
            if info.is_dir():
                continue
            limit = MAX_MANIFEST_BYTES if name == MANIFEST else limit_for(name)
            if limit is None:
                raise InvalidArchiveError(f"member {name!r} has no place in a {kind} archive", param="archive")
            if info.file_size > limit:
                raise InvalidArchiveError(
                    f"member {name!r} is {info.file_size} bytes; at most {limit} are accepted", param="archive"
                )
            total += info.file_size
            if total > max_total:
                raise InvalidArchiveError(f"the archive unpacks to more than {max_total} bytes", param="archive")
            files.append((info, limit))
        if MANIFEST not in names:
            raise InvalidArchiveError(f"the archive has no {MANIFEST}", param="archive")
        contents: dict[str, bytes] = {}
        for info, limit in files:
            contents[info.filename] = _read_member(archive, info, limit)
    manifest = _manifest(contents.pop(MANIFEST), kind)
    listed: dict[str, Any] = manifest["files"]
    if set(listed) != set(contents):
        missing, extra = sorted(set(listed) - set(contents)), sorted(set(contents) - set(listed))
        raise InvalidArchiveError(
            f"the archive does not match its manifest (missing: {missing[:5]}, not listed: {extra[:5]})",
            param="archive",
        )
    members = {}
    for name, content in contents.items():
        entry = listed[name]
        if not isinstance(entry, dict) or entry.get("size") != len(content):
            raise InvalidArchiveError(f"member {name!r} has another size than its manifest says", param="archive")
        if entry.get("sha256") != sha256(content):
            raise InvalidArchiveError(f"member {name!r} does not match its hash in the manifest", param="archive")
        members[name] = Member(name, content)
    return manifest, members


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """A member's bytes, reading at most one byte past its limit (its claimed size may lie)."""
    try:
        with archive.open(info) as member:
            content = member.read(limit + 1)
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, EOFError, NotImplementedError) as err:
        raise InvalidArchiveError(f"member {info.filename!r} cannot be read: {err}", param="archive") from None
    if len(content) > limit:
        raise InvalidArchiveError(f"member {info.filename!r} is larger than {limit} bytes", param="archive")
    return content


def _manifest(content: bytes, kind: str) -> dict[str, Any]:
    try:
        manifest = json.loads(content)
    except ValueError:
        raise InvalidArchiveError(f"{MANIFEST} is not JSON", param="archive") from None
    if not isinstance(manifest, dict) or manifest.get("format") != kind:
        raise InvalidArchiveError(f"this is not a {kind} archive", param="archive")
    version = manifest.get("version")
    if type(version) is not int or version != 1:  # JSON's 1.0 and true are not version 1
        raise InvalidArchiveError(f"unknown {kind} archive version {version!r:.40}", param="archive")
    created = manifest.get("created_at")
    if created is not None and (type(created) is not int or created < 0):
        raise InvalidArchiveError(f"{MANIFEST}: created_at must be Unix seconds; got {created!r:.40}", param="archive")
    if not isinstance(manifest.get("files"), dict):
        raise InvalidArchiveError(f"{MANIFEST} lists no files", param="archive")
    return manifest
