"""The Piper voice catalog (``voices.json`` of rhasspy/piper-voices): every voice ``voxhost models`` can pull.

The catalog names each voice's files with their sizes and md5 digests; a pull fetches the ``.onnx`` and then the
``.onnx.json`` (which marks the voice complete) into ``<models_dir>/rhasspy--piper-voices/`` in the repository's own
layout, checking each file. The Piper engine scans that directory, so a pulled voice joins the catalog at once,
and only voices on disk are ever advertised.
"""

from __future__ import annotations

import functools
import http.client
import json
import re
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from ..models import ModelDownloadError, ModelSpec, hub_url, is_offline
from ..replacing import replacing

REPO = "rhasspy/piper-voices"
DEFAULT_SOURCE = "https://huggingface.co/rhasspy/piper-voices/resolve/v1.0.0"
"""Where voices.json and the voice files are; the tag pins the catalog (the bundled joe voice comes from it)."""
CATALOG_FILE = "voices.json"


def voices_dir(models_dir: str | Path) -> Path:
    """Where pulled voices (and the cached catalog) live."""
    return Path(models_dir, REPO.replace("/", "--"))


def fetch_catalog(source: str, models_dir: str | Path) -> Path:
    """Download ``voices.json`` from ``source`` into the voices directory (atomically); returns its path."""
    if is_offline() and (urllib.parse.urlparse(source).hostname or "").endswith("huggingface.co"):
        raise ModelDownloadError(
            "cannot fetch the Piper voice catalog: the Hugging Face hub is offline (HF_HUB_OFFLINE)"
        )
    target = voices_dir(models_dir) / CATALOG_FILE
    url = f"{hub_url(source).rstrip('/')}/{CATALOG_FILE}"
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            data = response.read()
        json.loads(data)
    except (OSError, ValueError, http.client.HTTPException) as err:  # HTTPException: a transfer cut short
        raise ModelDownloadError(f"could not fetch the Piper voice catalog from {url}: {err}") from err
    target.parent.mkdir(parents=True, exist_ok=True)  # only now: a failed fetch leaves no empty folder behind
    with replacing(target) as part:
        part.write_bytes(data)
    return target


def load_catalog(models_dir: str | Path) -> dict[str, Any]:
    """The cached catalog, or an empty one when it was never fetched (or is unreadable)."""
    try:
        data = json.loads((voices_dir(models_dir) / CATALOG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def language_label(entry: dict[str, Any]) -> str:
    """``English (United States)``, from the catalog entry's language block."""
    language = entry.get("language")
    if not isinstance(language, dict):  # a careless mirror's catalog: the voice is still listed, under "?"
        language = {}
    name = language.get("name_english") or language.get("code") or "?"
    country = language.get("country_english")
    return f"{name} ({country})" if country else str(name)


_MD5 = re.compile(r"[0-9a-f]{32}")


def safe_file(path: object) -> bool:
    """Whether a catalog file name is a plain relative path inside the repository: the name is joined to the
    voices directory to write the file and globbed to find it, so ``..``, an absolute path, a backslash, NUL or
    a glob character would write, match or delete files elsewhere."""
    if not isinstance(path, str) or not path or any(c in path for c in "\\\0*?[]"):
        return False
    parts = path.split("/")
    return not path.startswith("/") and all(part not in {"", ".", ".."} for part in parts)


def _checksum(path: str, files: dict[str, Any]) -> tuple[str, int, str] | None:
    """(path, size, md5) of one catalog file, or None when the catalog gives no usable size and md5 for it."""
    info = files.get(path)
    if not isinstance(info, dict):
        return None
    size, md5 = info.get("size_bytes"), info.get("md5_digest")
    if type(size) is not int or size < 0 or not isinstance(md5, str) or not _MD5.fullmatch(md5):
        return None
    return path, size, md5


def voice_spec(key: str, entry: dict[str, Any], source: str, engine: str = "piper") -> ModelSpec | None:
    """The ``voxhost models`` entry for one catalog voice; None when the entry lacks its model or config, or names
    them unsafely or without a size and md5 (the catalog comes from the network: such a voice is left out)."""
    files = entry.get("files")
    if not isinstance(files, dict) or not all(safe_file(path) for path in files):
        return None
    model = next((path for path in files if path.endswith(".onnx")), None)
    config = next((path for path in files if path.endswith(".onnx.json")), None)
    if model is None or config is None:
        return None
    checksums = tuple(c for c in (_checksum(model, files), _checksum(config, files)) if c is not None)
    if len(checksums) != 2:
        return None
    speakers = entry.get("num_speakers")
    detail = f"{language_label(entry)}, {entry.get('quality', '?')} quality"
    if type(speakers) is int and speakers > 1:
        detail += f", {speakers} speakers"
    return ModelSpec(
        engine=engine,
        name=key,
        repo=REPO,
        files=(model, config),
        description=f"Piper voice {key}: {detail}",
        source=source,
        checksums=checksums,
        group=language_label(entry),
    )


def catalog_specs(models_dir: str | Path, source: str) -> list[ModelSpec]:
    """Every voice of the cached catalog, ordered by language, then name.

    The daemon asks on the event loop (every engine listing, every Wyoming describe), and the whole catalog is
    hundreds of kilobytes of JSON: it is read again only when the file changed (a fetch replaces it)."""
    path = voices_dir(models_dir) / CATALOG_FILE
    try:
        stat = path.stat()
    except OSError:
        return []
    return list(_specs(str(models_dir), source, (stat.st_ino, stat.st_size, stat.st_mtime_ns)))


@functools.lru_cache(maxsize=8)
def _specs(models_dir: str, source: str, version: tuple[int, int, int]) -> tuple[ModelSpec, ...]:
    """The catalog's voices as of one version of its file (``version``: inode, size, mtime)."""
    catalog = load_catalog(models_dir)
    specs = (voice_spec(key, entry, source) for key, entry in catalog.items() if isinstance(entry, dict))
    return tuple(sorted((spec for spec in specs if spec is not None), key=lambda spec: (spec.group, spec.name)))
