"""Stored outputs: the folders of jobs whose audio is kept, and the history of finished ones with its limits.

Each kept job has ``<state>/outputs/<job id>/`` with ``audio.wav`` and ``record.json`` (the job's record as
JSON). Records are replaced atomically (a temporary file renamed over the old one); a folder is renamed away before
it is deleted, so it vanishes at once. The history (finished jobs kept as outputs) is held in memory for search and
paging, and kept within its size, count and age limits, oldest first. All file work here blocks: the job store
runs it on its writer thread.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import re
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .api import JobRecord, OutputsStatus, Page
from .operations import JOB_ID_PATTERN, OutputFilter, OutputQuery, OutputSelection
from .replacing import replacing
from .settings import OutputSettings

_LOGGER = logging.getLogger(__name__)

RECORD = "record.json"
AUDIO = "audio.wav"
INTERRUPTED = "interrupted"
"""Error code of a job that was running when the daemon stopped."""
INTERRUPTED_MESSAGE = "the daemon stopped before the job finished; ask for it again"

_ID_RE = re.compile(JOB_ID_PATTERN)
_TEXT_INDEXED = 4096
"""Characters of a text the history keeps in memory for search (the full text stays in the record on disk)."""


def valid_id(job_id: str) -> bool:
    """Whether a string can be a job id (checked before it names a folder)."""
    return bool(_ID_RE.match(job_id))


def record_to_json(record: JobRecord) -> dict[str, Any]:
    """A record as stored."""
    return dataclasses.asdict(record)


def record_from_json(data: dict[str, Any]) -> JobRecord:
    """A stored record (keys of other versions are ignored)."""
    fields = {f.name for f in dataclasses.fields(JobRecord)}
    return JobRecord(**{key: value for key, value in data.items() if key in fields})


class OutputFiles:
    """The folder of kept jobs: one sub-folder per job."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, job_id: str) -> Path:
        """A job's folder (the id is checked: it never names anything outside the root)."""
        if not valid_id(job_id):
            raise ValueError(f"not a job id: {job_id!r}")
        return self.root / job_id

    def audio(self, job_id: str) -> Path:
        """A job's WAV file."""
        return self.folder(job_id) / AUDIO

    def load(self, now: float) -> list[JobRecord]:
        """Every stored record; a job that was still running is recorded as failed (the daemon stopped)."""
        self.root.mkdir(parents=True, exist_ok=True)
        records = []
        for folder in sorted(self.root.iterdir()):
            if folder.name.startswith(".") and folder.is_dir():
                shutil.rmtree(folder, ignore_errors=True)  # a removal or a write that was cut off
                continue
            if not valid_id(folder.name):
                continue
            try:
                record = record_from_json(json.loads((folder / RECORD).read_text()))
            except (OSError, ValueError, TypeError) as err:
                _LOGGER.warning("Removing %s: its record cannot be read (%s)", folder, err)
                shutil.rmtree(folder, ignore_errors=True)
                continue
            if not record.done:
                record = dataclasses.replace(
                    record,
                    state="failed",
                    ended_at=now,
                    error_code=INTERRUPTED,
                    error_message=INTERRUPTED_MESSAGE,
                    size=self._size(folder),
                )
                self.write(record)
                _LOGGER.info("Job %s was running when the daemon stopped: recorded as failed", record.id)
            records.append(record)
        return records

    @staticmethod
    def _size(folder: Path) -> int:
        try:
            return (folder / AUDIO).stat().st_size
        except OSError:
            return 0

    def write(self, record: JobRecord) -> None:
        """Store a record (its folder is made if needed)."""
        folder = self.folder(record.id)
        folder.mkdir(parents=True, exist_ok=True)
        with replacing(folder / RECORD) as part:
            part.write_text(json.dumps(record_to_json(record), ensure_ascii=False, indent=1))

    def remove(self, job_id: str) -> None:
        """Delete a job's folder (renamed away first, so it vanishes at once)."""
        folder = self.folder(job_id)
        doomed = self.root / f".del-{job_id}"
        try:
            folder.rename(doomed)
        except FileNotFoundError:
            return
        shutil.rmtree(doomed, ignore_errors=True)


def _words(text: str | None) -> list[str]:
    return (text or "").lower().split()


def _matches(record: JobRecord, where: OutputFilter, texts: str) -> bool:
    if where.door and record.door != where.door:
        return False
    if where.engine and record.engine != where.engine:
        return False
    if where.voice and where.voice.lower() not in record.voice.lower():
        return False
    if where.since is not None and record.accepted_at < where.since:
        return False
    if where.until is not None and record.accepted_at >= where.until:
        return False
    return all(word in texts for word in _words(where.q))


class History:
    """The stored outputs in memory: search, paging, and the limits (oldest first)."""

    def __init__(self, settings: OutputSettings, clock: Callable[[], float]) -> None:
        self.settings = settings
        self.clock = clock
        self._records: dict[str, JobRecord] = {}
        self._texts: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._records)

    @property
    def max_bytes(self) -> int:
        """The size limit in bytes."""
        return int(self.settings.max_mb * 1024 * 1024)

    @property
    def bytes(self) -> int:
        """Bytes of audio kept."""
        return sum(record.size for record in self._records.values())

    def add(self, record: JobRecord) -> None:
        """Index a stored output."""
        self._records[record.id] = record
        self._texts[record.id] = " ".join((record.text or "", record.spoken or ""))[: 2 * _TEXT_INDEXED].lower()

    def remove(self, output_id: str) -> JobRecord | None:
        """Forget a stored output; returns it if it was there."""
        self._texts.pop(output_id, None)
        return self._records.pop(output_id, None)

    def get(self, output_id: str) -> JobRecord | None:
        """One stored output."""
        return self._records.get(output_id)

    def _newest_first(self, records: Iterable[JobRecord]) -> list[JobRecord]:
        return sorted(records, key=lambda r: (r.accepted_at, r.id), reverse=True)

    def query(self, query: OutputQuery) -> Page[JobRecord]:
        """A page of the outputs that match, newest first."""
        found = self._newest_first(r for r in self._records.values() if _matches(r, query, self._texts[r.id]))
        return Page(found[query.offset : query.offset + query.limit], len(found))

    def select(self, selection: OutputSelection) -> list[JobRecord]:
        """The outputs a selection names, newest first."""
        pool: Iterable[JobRecord] = self._records.values()
        if selection.ids is not None:
            pool = [self._records[i] for i in dict.fromkeys(selection.ids) if i in self._records]
        elif not selection.all and not selection.conditions():
            return []  # nothing chosen: nothing selected, never everything
        return self._newest_first(r for r in pool if _matches(r, selection, self._texts[r.id]))

    def over_limits(self) -> list[str]:
        """The outputs to remove now: older than the age limit, then the oldest beyond the count and size limits."""
        oldest_first = sorted(self._records.values(), key=lambda r: (r.accepted_at, r.id))
        cutoff = self.clock() - self.settings.max_age_days * 86400
        doomed = [r.id for r in oldest_first if r.accepted_at < cutoff]
        rest = [r for r in oldest_first if r.accepted_at >= cutoff]
        count, size = len(rest), sum(r.size for r in rest)
        for record in rest:
            if count <= self.settings.max_count and size <= self.max_bytes:
                break
            doomed.append(record.id)
            count -= 1
            size -= record.size
        return doomed

    def status(self) -> OutputsStatus:
        """The outputs against their limits."""
        count, size = len(self._records), self.bytes
        near = []
        if size >= self.settings.near_limit * self.max_bytes:
            near.append("size")
        if count >= self.settings.near_limit * self.settings.max_count:
            near.append("count")
        oldest = min((r.accepted_at for r in self._records.values()), default=None)
        return OutputsStatus(
            count=count,
            bytes=size,
            oldest_at=oldest,
            max_count=self.settings.max_count,
            max_bytes=self.max_bytes,
            max_age_days=self.settings.max_age_days,
            near=tuple(near),
        )


def remove_quietly(path: Path) -> None:
    """Delete a file that may already be gone."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
