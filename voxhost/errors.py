"""Typed errors shared by the core, the engines and the doors.

Every door maps these to its own error form once (a Wyoming ``error`` event, an OpenAI-shaped JSON body
with an HTTP status, an MQTT error reply), using ``code`` and ``http_status``.
"""

from __future__ import annotations

import errno


class VoxhostError(Exception):
    """Base class: an error whose message is safe and useful to show to a client."""

    code: str = "voxhost_error"
    http_status: int = 500

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class InvalidRequestError(VoxhostError):
    """The request is malformed: empty text, a value out of range, an unknown option."""

    code = "invalid_request"
    http_status = 400


class TextTooLongError(InvalidRequestError):
    """The text is longer than the configured limit."""

    code = "text_too_long"
    http_status = 400


class InvalidAudioError(InvalidRequestError):
    """Uploaded audio cannot be used: it does not decode, is silent, or is too short or too long."""

    code = "invalid_audio"
    http_status = 422


class InvalidPatternError(InvalidRequestError):
    """A well-formed lexicon entry whose regular expression does not compile."""

    code = "invalid_pattern"
    http_status = 422


class TooLargeError(InvalidRequestError):
    """An upload is larger than the configured limit."""

    code = "too_large"
    http_status = 413


class NotFoundError(VoxhostError, KeyError):
    """Base class: nothing has the id or name asked for (a 404 that is also a ``KeyError``)."""

    code = "not_found"
    http_status = 404

    def __str__(self) -> str:
        # KeyError would otherwise quote the message.
        return self.message


class UnknownVoiceError(NotFoundError):
    """No voice (or speaker) matches the request."""

    code = "voice_not_found"


class UnknownEngineError(NotFoundError):
    """No engine has that id."""

    code = "engine_not_found"


class UnsupportedError(VoxhostError):
    """No loaded engine can do what was asked (e.g. voice conversion)."""

    code = "not_supported"
    http_status = 501


class BusyError(VoxhostError):
    """The engine's queue is full; try again shortly."""

    code = "busy"
    http_status = 503

    def __init__(self, message: str, *, retry_after: float = 1.0, param: str | None = None) -> None:
        super().__init__(message, param=param)
        self.retry_after = retry_after


class EngineError(VoxhostError):
    """An engine failed while loading or synthesizing."""

    code = "engine_error"
    http_status = 500


class ModelMissingError(EngineError):
    """The engine's model files are not on disk; the message names the pull command."""

    code = "model_missing"
    http_status = 503


class WorkerCrashedError(EngineError):
    """An engine's worker process died while serving a job."""

    code = "worker_crashed"


class EngineTimeoutError(EngineError):
    """An engine gave no audio for its ``progress_timeout``: the request failed and the engine was replaced."""

    code = "engine_timeout"
    http_status = 504


class ConflictError(VoxhostError):
    """Another change came in between: what a request was checked against is no longer stored; nothing changed."""

    code = "conflict"
    http_status = 409


class StorageFullError(VoxhostError):
    """The disk (or a quota) has no room for what was to be stored; nothing was stored."""

    code = "no_space"
    http_status = 507


class StorageReadOnlyError(VoxhostError):
    """A directory voxhost writes to is read-only (or not writable for its user); nothing was stored."""

    code = "read_only"
    http_status = 500


class StorageError(VoxhostError):
    """A file voxhost keeps could not be changed for another reason than a full or read-only disk (something in the
    way, a busy mount point); the message says what, and nothing changed."""

    code = "storage_error"
    http_status = 500


class LibraryFullError(StorageFullError):
    """The voice library holds as many voices, or as many bytes, as its quota allows."""

    code = "library_full"


def storage_error(err: OSError, what: str = "") -> VoxhostError | None:
    """A full or read-only disk as an error that says so (``what``: the thing being written), else None."""
    where = f" ({err.filename})" if err.filename else ""
    doing = f"could not write {what}" if what else "could not write to disk"
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFullError(f"{doing}: no space left on the device{where}")
    if err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        reason = "the file system is read-only" if err.errno == errno.EROFS else "permission denied"
        return StorageReadOnlyError(f"{doing}: {reason}{where}")
    return None


class CancelledError(VoxhostError):
    """The job was cancelled (its client went away, or a stop command)."""

    code = "cancelled"
    http_status = 499


class ConfigError(VoxhostError):
    """The configuration is invalid; the message names the key."""

    code = "config_error"


class StartupError(VoxhostError):
    """The daemon could not start (a duplicate engine id, a port in use, ...)."""

    code = "startup_error"


class AddressInUseError(StartupError):
    """A door could not listen on its address: another program (or another voxhost) listens there."""

    def __init__(self, message: str, *, door: str) -> None:
        super().__init__(message)
        self.door = door


class UnknownJobError(NotFoundError):
    """No job (or stored output) has that id: it never existed, was removed, or has expired."""

    code = "job_not_found"


class UnknownLexiconEntryError(NotFoundError):
    """No lexicon entry has that id."""

    code = "lexicon_entry_not_found"


class NoAudioError(UnknownJobError):
    """The job kept no audio (it was not asked to), or it failed or was cancelled before its audio was complete."""

    code = "no_audio"


class InvalidArchiveError(InvalidRequestError):
    """An uploaded archive cannot be used: unreadable, tampered with (a hash, a size), or unsafe (a path)."""

    code = "invalid_archive"
    http_status = 422
