"""Model files on disk: find them (voxhost's models directory, then the Hugging Face cache), pull, verify, remove.

A model (``ModelSpec``) is a set of files from one Hugging Face repository. ``voxhost models pull`` puts them in
``<models_dir>/<org>--<repo>`` (or, with ``--hf-cache``, in the Hugging Face cache); engines find them in either
place, so models already downloaded by other tools are used as they are. Nothing here touches the network except
``pull``; importing this module is cheap (huggingface_hub is imported inside ``pull``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib
import json
import logging
import os
import shutil
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ModelMissingError, VoxhostError, storage_error
from .replacing import replacing, sweep

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelSpec:
    """A downloadable model an engine uses, as ``voxhost models`` lists, pulls and removes it."""

    engine: str
    """The engine's id."""
    name: str
    """Short name within the engine, e.g. a language (``fr``) or a size (``1.7b``)."""
    repo: str
    """Hugging Face repository id."""
    files: tuple[str, ...]
    """Files (or glob patterns) needed from the repository; all must be present to load."""
    revision: str | None = None
    description: str = ""
    requires: tuple[str, ...] = ()
    """Other models of the same engine this one needs (e.g. a vocoder); ``pull`` fetches them too."""
    source: str | None = None
    """Download the files from ``<source>/<file>`` (plain HTTP) instead of through the Hugging Face hub; they are
    verified against ``checksums``, which must then list every file."""
    checksums: tuple[tuple[str, int, str], ...] = ()
    """(file, size in bytes, md5) for each file of a ``source`` download, in download order."""
    after_pull: str | None = None
    """``module:function`` called as ``function(spec, directory)`` once the files are pulled and verified (e.g. to
    prune a training checkpoint); it must leave files that ``files`` still matches."""
    group: str = ""
    """A heading the model is listed under (e.g. its language)."""

    @property
    def pull_command(self) -> str:
        """The command that downloads this model."""
        return f"voxhost models pull {self.engine} {self.name}"

    @property
    def download_size(self) -> int | None:
        """Bytes a ``source`` download fetches, when the checksums say."""
        return sum(size for _, size, _ in self.checksums) if self.checksums else None


MANIFEST = ".voxhost-manifest.json"
"""Written beside pulled files: each file's size and hash as the hub reported them, to verify offline."""


class ModelDownloadError(VoxhostError):
    """A pull failed (offline, network, unknown repository, a file that does not match the hub's hash)."""

    code = "model_download_failed"
    http_status = 503


class ModelCatalogError(ModelDownloadError):
    """An engine's list of downloadable models (the Piper voice catalog) could not be fetched."""

    code = "model_catalog_unavailable"


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache, as huggingface_hub resolves it from the environment."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "huggingface"
    )
    return Path(home).expanduser() / "hub"


def is_offline() -> bool:
    """Whether the Hugging Face hub is switched off by the environment."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


HUB = "https://huggingface.co"
"""The Hugging Face hub, unless ``HF_ENDPOINT`` names a mirror or proxy."""


def hub_url(url: str) -> str:
    """``url`` with the hub's address replaced by ``$HF_ENDPOINT`` when it is set, as huggingface_hub does for its own
    downloads: a URL voxhost fetches over plain HTTP (Piper's catalog) follows a mirror like every other pull."""
    endpoint = os.environ.get("HF_ENDPOINT", "").strip().rstrip("/")
    if endpoint and (url == HUB or url.startswith(f"{HUB}/")):
        return endpoint + url[len(HUB) :]
    return url


def local_dir(spec: ModelSpec, models_dir: str | Path) -> Path:
    """Where ``pull`` puts a model in voxhost's models directory: ``<models_dir>/<org>--<repo>``."""
    return Path(models_dir, spec.repo.replace("/", "--"))


def _missing(root: Path, patterns: Iterable[str]) -> list[str]:
    return [p for p in patterns if not any(f.is_file() for f in root.glob(p))]


def hf_cache_snapshot(spec: ModelSpec, cache: Path | None = None) -> Path | None:
    """The Hugging Face cache snapshot that holds all of the model's files, or None."""
    repo_dir = (cache or hf_cache_dir()) / ("models--" + spec.repo.replace("/", "--"))
    snapshots = repo_dir / "snapshots"
    if not snapshots.is_dir():
        return None
    candidates: list[Path] = []
    ref = repo_dir / "refs" / (spec.revision or "main")
    if ref.is_file():
        candidates.append(snapshots / ref.read_text().strip())
    if spec.revision:
        candidates.append(snapshots / spec.revision)
    else:  # any snapshot will do when no revision is pinned; newest first
        candidates += sorted(snapshots.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
    for snap in candidates:
        if snap.is_dir() and not _missing(snap, spec.files):
            return snap
    return None


def find_model(spec: ModelSpec, models_dir: str | Path, *, search_hf_cache: bool = True) -> Path | None:
    """The directory holding every file of the model: voxhost's models directory first, then the HF cache."""
    root = local_dir(spec, models_dir)
    if root.is_dir() and not _missing(root, spec.files):
        return root
    if search_hf_cache:
        return hf_cache_snapshot(spec)
    return None


def require_model(spec: ModelSpec, models_dir: str | Path, *, search_hf_cache: bool = True) -> Path:
    """Like ``find_model``, but a missing model raises ``ModelMissingError`` naming the pull command."""
    found = find_model(spec, models_dir, search_hf_cache=search_hf_cache)
    if found is not None:
        return found
    root = local_dir(spec, models_dir)
    missing = _missing(root, spec.files) if root.is_dir() else list(spec.files)
    raise ModelMissingError(
        f"model {spec.engine} {spec.name} ({spec.repo}) is not installed: missing {', '.join(missing)} "
        f"in {root}{' or the Hugging Face cache' if search_hf_cache else ''}. Run: {spec.pull_command}"
    )


# -- status -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelStatus:
    """One model as ``voxhost models list`` shows it."""

    spec: ModelSpec
    path: Path | None
    """Where its files are, when all are present."""
    size: int
    """Bytes on disk of its files (0 when missing)."""
    verified: bool | None
    """True/False after checking against a pull manifest; None when there is no manifest to check with."""

    @property
    def installed(self) -> bool:
        """Whether every file is present."""
        return self.path is not None


def model_files(spec: ModelSpec, root: Path) -> list[Path]:
    """The files under ``root`` that the spec's names and patterns match."""
    found: dict[Path, None] = {}
    for pattern in spec.files:
        for f in sorted(root.glob(pattern)):
            if f.is_file():
                found[f] = None
    return list(found)


def status(
    spec: ModelSpec, models_dir: str | Path, *, search_hf_cache: bool = True, check: bool = False
) -> ModelStatus:
    """Where a model is and how big; with ``check``, hash its files against the pull manifest."""
    path = find_model(spec, models_dir, search_hf_cache=search_hf_cache)
    if path is None:
        return ModelStatus(spec, None, 0, None)
    files = model_files(spec, path)
    size = sum(f.stat().st_size for f in files)
    verified = verify_manifest(spec, path) if check else None
    return ModelStatus(spec, path, size, verified)


# -- hashing and verification ---------------------------------------------------------------------


def _digest(path: Path, algo: str) -> str:
    h = hashlib.sha1() if algo == "git-sha1" else hashlib.md5() if algo == "md5" else hashlib.sha256()
    if algo == "git-sha1":  # git's blob id: sha1 over a header and the content
        h.update(f"blob {path.stat().st_size}\0".encode())
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _read_manifest(root: Path) -> dict[str, dict[str, object]]:
    try:
        data = json.loads((root / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    files = data.get("files", {})
    return files if isinstance(files, dict) else {}


def verify_manifest(spec: ModelSpec, root: Path, *, hashes: bool = True) -> bool | None:
    """Hash the model's files against the manifest written by ``pull``; None when there is none for them.

    ``hashes=False`` compares sizes only (fast: nothing is read), which catches truncated downloads.
    """
    manifest = _read_manifest(root)
    files = model_files(spec, root)
    rel = [f.relative_to(root).as_posix() for f in files]
    if not manifest or any(r not in manifest for r in rel):
        return None
    for f, r in zip(files, rel, strict=True):
        entry = manifest[r]
        if f.stat().st_size != entry.get("size") or (hashes and _digest(f, str(entry["algo"])) != entry.get("hash")):
            _LOGGER.warning("%s does not match its manifest (%s)", f, spec.repo)
            return False
    return True


def _expected_hashes(spec: ModelSpec, paths: list[str]) -> dict[str, dict[str, object]]:
    """Sizes and hashes the hub reports for ``paths`` (sha256 for LFS files, git's blob id for others)."""
    from huggingface_hub import HfApi
    from huggingface_hub.hf_api import RepoFile

    out: dict[str, dict[str, object]] = {}
    for info in HfApi().get_paths_info(spec.repo, paths, expand=True, revision=spec.revision):
        if not isinstance(info, RepoFile):
            continue
        if info.lfs is not None:
            out[info.path] = {"size": info.lfs.size, "algo": "sha256", "hash": info.lfs.sha256}
        else:
            out[info.path] = {"size": info.size, "algo": "git-sha1", "hash": info.blob_id}
    return out


# -- pull and remove ------------------------------------------------------------------------------

Progress = Callable[[int, "int | None"], None]
"""Called with (bytes downloaded, bytes expected or None) while a pull runs, from the downloading thread."""


def progress_bar_class(report: Progress, interval: float = 0.25) -> type[Any]:
    """A tqdm class for ``snapshot_download`` that reports byte counts instead of drawing bars.

    The hub may keep two byte bars (bytes received, bytes written) over the same total: the larger count is
    reported, at most every ``interval`` seconds and once more when a bar closes.
    """
    import io

    from tqdm.auto import tqdm

    counts = {"n": 0, "total": 0}
    last = [0.0]  # when the last report went out

    class _Reporter(tqdm):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("file", io.StringIO())  # the daemon's stderr stays clean
            super().__init__(*args, **kwargs)

        def _report(self, force: bool = False) -> None:
            if self.unit != "B":  # the files-done bar; bytes are what users wait for
                return
            counts["n"] = max(counts["n"], int(self.n))
            counts["total"] = max(counts["total"], int(self.total or 0))
            now = time.monotonic()
            if force or now - last[0] >= interval:
                last[0] = now
                report(counts["n"], counts["total"] or None)

        def update(self, n: float | None = 1) -> bool | None:
            out = super().update(n)
            self._report()
            return out

        def close(self) -> None:
            if not self.disable:
                self._report(force=True)
            super().close()

    return _Reporter


def pull(
    spec: ModelSpec,
    models_dir: str | Path,
    *,
    to_hf_cache: bool = False,
    force: bool = False,
    verify: bool = True,
    progress: Progress | None = None,
) -> Path:
    """Download a model's files (with progress bars), verify them against the hub's hashes, return their directory.

    Already present files are kept unless ``force``. ``progress`` replaces the progress bars with byte counts.
    Offline (``HF_HUB_OFFLINE=1``) a missing model raises a ``ModelDownloadError`` that says so instead of waiting
    on the network.
    """
    found = find_model(spec, models_dir, search_hf_cache=spec.source is None)
    if found is not None and not force:
        _LOGGER.info("%s %s is already present in %s", spec.engine, spec.name, found)
        return found
    _refuse_offline(spec, models_dir)  # before the lock: an offline pull leaves nothing on disk
    with _pull_lock(spec, models_dir):
        if not force:  # another process may have pulled it while this one waited
            found = find_model(spec, models_dir, search_hf_cache=spec.source is None)
            if found is not None:
                return found
        if spec.source is not None:
            path = pull_direct(spec, models_dir, force=force, progress=progress)
        else:
            path = _pull_hub(spec, models_dir, to_hf_cache=to_hf_cache, force=force, verify=verify, progress=progress)
        if spec.after_pull:
            module, _, function = spec.after_pull.partition(":")
            getattr(importlib.import_module(module), function)(spec, path)
    return path


LOCKS = ".locks"
"""A folder of ``models_dir`` with one lock file per repository that a pull holds while it writes."""


@contextlib.contextmanager
def _pull_lock(spec: ModelSpec, models_dir: str | Path) -> Iterator[None]:
    """Hold the repository's pull lock: two processes (the CLI and a daemon's HTTP pull, two CLIs) writing the
    same files raced on one ``.part`` file, leaving a traceback and possibly a file the other had truncated.
    A second pull waits for the first and then finds the model there."""
    path = _lock_path(models_dir, spec.repo.replace("/", "--"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as err:  # a read-only models directory: the pull fails on its own, with its own message
        _LOGGER.debug("no pull lock at %s: %s", path, err)
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _LOGGER.warning("%s is being pulled by another process; waiting for it", spec.repo)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing drops the lock


def _lock_path(models_dir: str | Path, folder: str) -> Path:
    """The pull lock of the repository kept in ``<models_dir>/<folder>``."""
    return Path(models_dir, LOCKS, folder + ".lock")


def sweep_parts(models_dir: str | Path) -> tuple[int, int]:
    """Remove the part files a killed pull left in ``models_dir``, repository by repository, each while holding
    its pull lock: a folder a pull of another process writes now (``voxhost models pull`` beside the daemon) is
    left alone, however long its download has stalled. How many files and their bytes."""
    count = size = 0
    try:
        folders = [entry for entry in os.scandir(models_dir) if entry.is_dir(follow_symlinks=False)]
    except OSError:  # no models directory yet: nothing pulled
        return 0, 0
    for entry in folders:
        if entry.name == LOCKS:
            continue
        try:
            fd = os.open(_lock_path(models_dir, entry.name), os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:  # never pulled by this voxhost: no pull can be writing it, the lock is made first
            fd = None
        except OSError as err:
            _LOGGER.debug("%s left as it is: its pull lock cannot be read (%s)", entry.path, err)
            continue
        try:
            if fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    _LOGGER.debug("%s left as it is: a pull writes it", entry.path)
                    continue
            removed, freed = sweep(Path(entry.path))
            count, size = count + removed, size + freed
        finally:
            if fd is not None:
                os.close(fd)
    return count, size


def _refuse_offline(spec: ModelSpec, models_dir: str | Path) -> None:
    """Raise ``ModelDownloadError`` when the pull would need the Hugging Face hub and it is switched off."""
    if not is_offline():
        return
    if spec.source is None:
        raise ModelDownloadError(
            f"cannot pull {spec.engine} {spec.name} ({spec.repo}): the Hugging Face hub is offline "
            f"(HF_HUB_OFFLINE is set). Unset it on a machine with network, or copy the files "
            f"{', '.join(spec.files)} into {local_dir(spec, models_dir)}."
        )
    if (urllib.parse.urlparse(spec.source).hostname or "").endswith("huggingface.co"):
        raise ModelDownloadError(
            f"cannot pull {spec.engine} {spec.name}: the Hugging Face hub is offline (HF_HUB_OFFLINE is set)"
        )


def _pull_hub(
    spec: ModelSpec,
    models_dir: str | Path,
    *,
    to_hf_cache: bool,
    force: bool,
    verify: bool,
    progress: Progress | None,
) -> Path:
    _refuse_offline(spec, models_dir)
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
    )

    target = None if to_hf_cache else local_dir(spec, models_dir)
    try:
        path = Path(
            snapshot_download(
                spec.repo,
                revision=spec.revision,
                allow_patterns=list(spec.files),
                local_dir=target,
                force_download=force,
                tqdm_class=progress_bar_class(progress) if progress is not None else None,
            )
        )
    except RepositoryNotFoundError as exc:
        raise ModelDownloadError(f"repository {spec.repo} not found (or private): {exc}") from exc
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as exc:
        storage = _storage_problem(exc, f"{spec.repo} into {target or 'the Hugging Face cache'}")
        if storage is not None:
            raise storage from exc
        raise ModelDownloadError(f"could not download {spec.repo}: {exc}") from exc
    missing = _missing(path, spec.files)
    if missing:
        raise ModelDownloadError(f"{spec.repo} has no file matching {', '.join(missing)} (revision {spec.revision})")
    if verify:
        _verify_download(spec, path)
    return path


def pull_direct(
    spec: ModelSpec, models_dir: str | Path, *, force: bool = False, progress: Progress | None = None
) -> Path:
    """Fetch ``spec``'s files from ``spec.source`` (``hub_url``) over plain HTTP, each checked against its size and md5.

    Each file arrives beside its place (a hidden ``.part`` file) and is renamed only once it matches, in the
    checksums' order (so a model's config can come last and mark it complete). Files already there and matching are
    kept unless ``force``.
    """
    assert spec.source is not None
    _refuse_offline(spec, models_dir)
    root = local_dir(spec, models_dir)
    manifest = _read_manifest(root)
    total = spec.download_size
    done = 0
    for path, size, md5 in spec.checksums:
        target = root / path
        if not _inside(root, target):  # a catalog's file name must never write elsewhere
            raise ModelDownloadError(f"{spec.engine} {spec.name}: the file name {path!r} leads out of {root}")
        if not force and target.is_file() and target.stat().st_size == size and _digest(target, "md5") == md5:
            done += size
            manifest[path] = {"size": size, "algo": "md5", "hash": md5}
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        url = f"{hub_url(spec.source).rstrip('/')}/{urllib.parse.quote(path)}"
        digest = hashlib.md5()
        try:
            with replacing(target) as part:  # renamed into place only once it matches; removed if it fails
                with urllib.request.urlopen(url, timeout=60) as response, part.open("wb") as out:
                    while block := response.read(1 << 20):
                        out.write(block)
                        digest.update(block)
                        done += len(block)
                        if progress is not None:
                            progress(done, total)
                if (got := part.stat().st_size) != size or digest.hexdigest() != md5:
                    raise ModelDownloadError(
                        f"{path} does not match the catalog ({got} bytes, md5 {digest.hexdigest()}; expected {size} "
                        f"bytes, md5 {md5}): removed it; pull again"
                    )
        except OSError as exc:
            raise ModelDownloadError(f"could not download {url}: {exc}") from exc
        manifest[path] = {"size": size, "algo": "md5", "hash": md5}
    _write_manifest(root, spec, manifest)
    return root


def _write_manifest(root: Path, spec: ModelSpec, manifest: dict[str, dict[str, object]]) -> None:
    """Record the verified files of ``spec`` in ``root``, whole or not at all (a torn one would read as none)."""
    with replacing(root / MANIFEST) as part:
        part.write_text(json.dumps({"repo": spec.repo, "files": manifest}, indent=1))


def _inside(root: Path, target: Path) -> bool:
    """Whether ``target`` lies below ``root`` once ``..`` and absolute parts are applied (symlinks are not
    followed: a models directory may hold links to other disks)."""
    base = os.path.normpath(root)
    return os.path.normpath(target).startswith(base + os.sep)


def _storage_problem(exc: BaseException, what: str) -> VoxhostError | None:
    """A full or read-only disk behind a failed download (the hub library may wrap the ``OSError``)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and (storage := storage_error(exc, what)) is not None:
            return storage
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return None


def _verify_download(spec: ModelSpec, root: Path) -> None:
    files = model_files(spec, root)
    rel = [f.relative_to(root).as_posix() for f in files]
    expected = _expected_hashes(spec, rel)
    manifest = _read_manifest(root)
    for f, r in zip(files, rel, strict=True):
        entry = expected.get(r)
        if entry is None:
            raise ModelDownloadError(f"the hub did not describe {r} in {spec.repo}; cannot verify it")
        actual = _digest(f, str(entry["algo"]))
        if f.stat().st_size != entry["size"] or actual != entry["hash"]:
            f.unlink()
            raise ModelDownloadError(
                f"{r} from {spec.repo} does not match the hub's {entry['algo']} (removed it); pull again"
            )
        manifest[r] = entry
    try:
        _write_manifest(root, spec, manifest)
    except OSError:  # a read-only HF cache snapshot: verified all the same
        _LOGGER.debug("could not write %s in %s", MANIFEST, root)


def remove(spec: ModelSpec, models_dir: str | Path, others: Iterable[ModelSpec] = ()) -> list[Path]:
    """Delete the model's files from voxhost's models directory; files another installed model needs stay.

    The Hugging Face cache is left alone (``huggingface-cli delete-cache`` manages it). Returns what was deleted.
    """
    root = local_dir(spec, models_dir)
    if not root.is_dir():
        return []
    with _pull_lock(spec, models_dir):  # never while a pull of the repository writes its files
        return _remove(spec, root, others)


def _remove(spec: ModelSpec, root: Path, others: Iterable[ModelSpec]) -> list[Path]:
    """``remove``'s work, with the repository's lock held."""
    if not root.is_dir():  # removed by another process meanwhile
        return []
    keep: set[Path] = set()
    for other in others:
        same = (other.engine, other.name) == (spec.engine, spec.name)
        if other.repo == spec.repo and not same and not _missing(root, other.files):  # an installed neighbour
            keep.update(model_files(other, root))
    deleted = [f for f in model_files(spec, root) if f not in keep]
    manifest = _read_manifest(root)
    for f in deleted:
        f.unlink()
        manifest.pop(f.relative_to(root).as_posix(), None)
    if deleted and manifest:
        _write_manifest(root, spec, manifest)
    # drop folders left empty, and the whole directory once nothing of any model is in it
    for d in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if d.name != ".cache" and not any(d.iterdir()):
            d.rmdir()
    leftovers = [p for p in root.iterdir() if p.name not in {MANIFEST, ".cache"}]
    if not leftovers:
        shutil.rmtree(root)
    return deleted
