"""PCM helpers shared by the doors: WAV framing, streaming resampling, chunking, decoding uploads."""

from __future__ import annotations

import asyncio
import io
import struct
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import soxr

from .engine import PCM
from .errors import InvalidAudioError

AudioSource = bytes | Path | BinaryIO
"""Audio to decode: an upload's bytes, a file on disk, or a stream read once as it is decoded (standard input)."""

STREAMING_SIZE = 0xFFFFFFFF
"""RIFF and data sizes of a WAV whose length is unknown while it streams."""
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 8000, 192000
"""Sample rates accepted in uploaded audio: telephone speech to studio recordings; anything else is not speech a
person recorded (a "2 s" voice of 20 samples at 10 Hz, 655 kHz audio that decodes to tens of megabytes)."""
RECOGNIZER_RATE = 16000
"""The most speech for a recognizer is kept at: what Whisper hears (and Home Assistant sends). Other rates only cost
memory (a recognizer resamples what it is given; lower ones are kept as they are), and a small file may claim 30
minutes of 192 kHz audio."""
MAX_SPEECH_RATE = 48000
"""The most a conversion's source or a stored reference is kept at: speech holds nothing above it that an engine
keeps (they work at 16-24 kHz), and a small file may claim minutes of 192 kHz audio."""


def check_rate(rate: int, param: str = "audio") -> None:
    """Refuse a sample rate outside ``MIN_SAMPLE_RATE``-``MAX_SAMPLE_RATE``."""
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise InvalidAudioError(
            f"the audio's sample rate is {rate} Hz; {MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz is accepted", param=param
        )


def wav_header(rate: int, data_bytes: int | None = None, channels: int = 1, width: int = 2) -> bytes:
    """A 44-byte PCM WAV header; ``data_bytes=None`` writes the streaming sizes (0xFFFFFFFF)."""
    if data_bytes is None:
        riff, data = STREAMING_SIZE, STREAMING_SIZE
    else:
        riff, data = 36 + data_bytes, data_bytes
    return (
        b"RIFF"
        + struct.pack("<I", riff)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * channels * width, channels * width, width * 8)
        + b"data"
        + struct.pack("<I", data)
    )


def to_wav(pcm: bytes, rate: int) -> bytes:
    """A complete WAV file of mono s16le PCM."""
    return wav_header(rate, len(pcm)) + pcm


def pcm_to_float(pcm: bytes) -> np.ndarray:
    """s16le bytes to float32 samples in [-1, 1]."""
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def rms(pcm: bytes) -> float:
    """Root mean square level of s16le audio, 0..1."""
    samples = pcm_to_float(pcm)
    return float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0


class Resampler:
    """Streaming mono s16le resampler (soxr keeps filter state across chunks, so there are no seams)."""

    def __init__(self, rate_in: int, rate_out: int) -> None:
        self.rate_in, self.rate_out = rate_in, rate_out
        self._stream = None if rate_in == rate_out else soxr.ResampleStream(rate_in, rate_out, 1, dtype="int16")

    def process(self, pcm: bytes, last: bool = False) -> bytes:
        """Resample a chunk; pass ``last=True`` once at the end to flush."""
        if self._stream is None:
            return pcm
        samples = np.frombuffer(pcm, dtype="<i2")
        return self._stream.resample_chunk(samples, last=last).astype("<i2").tobytes()


def chunked(pcm: bytes, max_bytes: int) -> Iterator[bytes]:
    """Split PCM into pieces of at most ``max_bytes`` (an even number, so samples stay whole)."""
    step = max(2, max_bytes - max_bytes % 2)
    for start in range(0, len(pcm), step):
        yield pcm[start : start + step]


def decode_audio(
    data: AudioSource, max_seconds: float | None = None, param: str = "audio", max_rate: int | None = None
) -> tuple[np.ndarray, int]:
    """Decode an uploaded file (WAV, FLAC, OGG, MP3, ...), a file on disk, or a stream read once (standard input) to
    mono float32; clear errors for bad input (a file that cannot be opened is the OSError of opening it).

    Audio longer than ``max_seconds`` is rejected without decoding all of it (a small compressed file can
    hold hours of audio). It is decoded a block at a time and mixed to mono as it goes, and with ``max_rate``
    brought down to that rate as it goes, so memory follows the mono result, not the channels or rate the file
    claims (a 3 MB FLAC of silence holds 30 minutes of 8-channel 192 kHz audio: 14 GB as float32). A file on disk
    or a stream is read as it is decoded, never whole (a WAV of an hour at 192 kHz is 1.4 GB), and a stream that
    goes on past ``max_seconds`` (a recorder never stopped) is refused once that much of it is decoded.
    """
    samples = _FloatSamples()
    rate = _decode(data, max_seconds, param, max_rate, samples)
    return samples.array(), rate


def decoded_pcm(data: AudioSource, max_seconds: float, param: str, max_rate: int) -> PCM:
    """An uploaded file (or a file on disk) as 16-bit mono PCM at most ``max_rate``, as ``decode_audio`` decodes it
    and ``PCM.from_float`` converts it; blocking, so call it in a thread (half an hour of samples takes a quarter of
    a second to convert, which the event loop must not spend)."""
    pcm = _PcmSamples()
    rate = _decode(data, max_seconds, param, max_rate, pcm)
    return PCM(pcm.data(), rate)


class _Samples(ABC):
    """Where decoded mono blocks go, as they come: a block at a time, so that no whole copy of the audio is made in
    one form on the way to another (float32 blocks, their concatenation, then 16-bit and a copy as bytes held four
    copies' worth at once: twice the float32 size of the audio)."""

    def __init__(self) -> None:
        self.frames = 0

    def add(self, block: np.ndarray, param: str) -> None:
        """Keep a block of float32 samples (refused where one is not finite: NaN or infinity)."""
        if not np.isfinite(block).all():
            raise InvalidAudioError("the audio contains invalid samples", param=param)
        self.frames += block.size
        self._keep(block)

    def clear(self) -> None:
        """Forget what was kept (the file is decoded again by another decoder)."""
        self.frames = 0

    @abstractmethod
    def _keep(self, block: np.ndarray) -> None:
        """Add a block of finite float32 samples to what is kept."""


class _FloatSamples(_Samples):
    """Float32 samples in one growing buffer, handed out as an array over it (no copy)."""

    def __init__(self) -> None:
        super().__init__()
        self._buffer = bytearray()

    def _keep(self, block: np.ndarray) -> None:
        self._buffer += np.ascontiguousarray(block, np.float32).data

    def clear(self) -> None:
        super().clear()
        self._buffer = bytearray()

    def array(self) -> np.ndarray:
        """The samples kept, writable (the caller's own)."""
        return np.frombuffer(self._buffer, np.float32)


class _PcmSamples(_Samples):
    """16-bit samples in one growing buffer, each block converted as ``PCM.from_float`` would convert the whole."""

    def __init__(self) -> None:
        super().__init__()
        self._buffer = io.BytesIO()

    def _keep(self, block: np.ndarray) -> None:
        scaled = np.clip(block, -1.0, 1.0)
        scaled *= 32767.0
        self._buffer.write(scaled.astype("<i2").data)

    def clear(self) -> None:
        super().clear()
        self._buffer = io.BytesIO()

    def data(self) -> bytes:
        """The PCM kept: the buffer itself, not a copy (CPython's ``getvalue`` hands it over where it is unshared)."""
        return self._buffer.getvalue()


def _decode(data: AudioSource, max_seconds: float | None, param: str, max_rate: int | None, out: _Samples) -> int:
    """``decode_audio`` into ``out``: libsndfile where it reads the file, else FFmpeg; the rate of what was kept."""
    if isinstance(data, Path) and not data.is_file():  # a named pipe (bash's `<(arecord ...)`, a FIFO): a stream
        with data.open("rb") as stream:
            rate = _decode_with_av(stream, max_seconds, param, max_rate, out)
    elif isinstance(data, (bytes, Path)):
        rate = _decode_file(data, max_seconds, param, max_rate, out)
    else:  # a pipe cannot seek, which libsndfile does (to its header's end, and back for FFmpeg): FFmpeg reads it once
        rate = _decode_with_av(data, max_seconds, param, max_rate, out)
    if out.frames == 0:
        raise InvalidAudioError("the audio contains no samples", param=param)
    check_rate(rate, param)
    _check_length(out.frames, rate, max_seconds, param)
    return rate


def _decode_file(data: bytes | Path, max_seconds: float | None, param: str, max_rate: int | None, out: _Samples) -> int:
    """A file's (or an upload's) audio into ``out``: libsndfile where it reads it, else FFmpeg."""
    import soundfile

    with open(data, "rb") if isinstance(data, Path) else io.BytesIO(data) as source:
        try:
            with soundfile.SoundFile(source) as sound:
                if sound.format == "MP3":  # libsndfile garbles MP3 frames that straddle two reads; FFmpeg does not
                    raise ValueError("MP3 is decoded by FFmpeg")
                check_rate(sound.samplerate, param)
                if sound.frames != _UNKNOWN_FRAMES:  # a length unknown is checked as the audio is decoded
                    _check_length(sound.frames, sound.samplerate, max_seconds, param)
                rate: int | None = _decode_blocks(sound, max_seconds, param, max_rate, out)
        except InvalidAudioError:
            raise
        except Exception:
            rate = None  # decoded again below, outside this handler: its traceback would keep the first try's blocks
        if rate is None:
            out.clear()
            source.seek(0)
            rate = _decode_with_av(source, max_seconds, param, max_rate, out)
    return rate


@dataclass(frozen=True)
class EncodedAudio:
    """An uploaded file for an engine (the recognizer, a converter), decoded only when its request is granted the
    engine: requests waiting their turn hold the file as it was sent (a few MB, counted by the door's upload
    budget), not the minutes of samples it decodes to (half an hour for the recognizer is 58 MB of PCM; two minutes
    to convert at 48 kHz, 12 MB)."""

    data: bytes | Path
    max_seconds: float
    param: str
    max_rate: int = RECOGNIZER_RATE
    """The most the audio is kept at: the recognizer's rate, or ``MAX_SPEECH_RATE`` for a conversion's source."""
    seconds: float | None = None
    """The length its header states (None where it states none: a FLAC written to a pipe, a format only FFmpeg
    reads)."""

    @classmethod
    async def received(
        cls, data: bytes | Path, max_seconds: float, param: str, max_rate: int = RECOGNIZER_RATE
    ) -> EncodedAudio:
        """An upload with its header read now, on a thread and without decoding: a file that is no audio, empty or
        too long is refused at once (``InvalidAudioError``), not once it has waited for the engine behind every
        request queued before it."""
        return cls(data, max_seconds, param, max_rate, await asyncio.to_thread(probe_seconds, data, max_seconds, param))

    def decode(self) -> PCM:
        """16-bit mono PCM at ``max_rate`` at most; blocking, so call it in a thread."""
        return decoded_pcm(self.data, self.max_seconds, self.param, self.max_rate)


def probe_seconds(data: bytes | Path, max_seconds: float, param: str) -> float | None:
    """The length in seconds a file's header states, or None: libsndfile's header (exact), else FFmpeg's look at the
    container (no length is taken from it, since an MP3's is guessed from its first frame's bit rate, but a file it
    cannot open is refused); blocking."""
    import soundfile

    with open(data, "rb") if isinstance(data, Path) else io.BytesIO(data) as source:
        try:
            with soundfile.SoundFile(source) as sound:
                if sound.format != "MP3":  # decoded by FFmpeg (see decode_audio)
                    check_rate(sound.samplerate, param)
                    if sound.frames == _UNKNOWN_FRAMES:
                        return None
                    if sound.frames == 0:
                        raise InvalidAudioError("the audio contains no samples", param=param)
                    _check_length(sound.frames, sound.samplerate, max_seconds, param)
                    return float(sound.frames / sound.samplerate)
        except InvalidAudioError:
            raise
        except Exception:
            pass
        source.seek(0)
        _open_with_av(source, param)
    return None


def _open_with_av(source: BinaryIO, param: str) -> None:
    """Refuse a file FFmpeg cannot open or that holds no audio stream (its packets are not read)."""
    import av

    try:
        with av.open(source, mode="r") as container:
            audio = bool(container.streams.audio)
    except Exception as err:
        reason = getattr(err, "strerror", None) or "not a format voxhost reads (wav, flac, ogg, mp3, aac, m4a, webm)"
        raise InvalidAudioError(f"the audio could not be decoded: {reason}", param=param) from None
    if not audio:
        raise InvalidAudioError("the file holds no audio (an image, a video without sound?)", param=param)


_BLOCK_FRAMES = 65536
"""Frames decoded at a time: about 2 MB of float32 for 8 channels."""
_UNKNOWN_FRAMES = 2**63 - 1
"""libsndfile's length of a stream that did not record it (a FLAC written to a pipe by ffmpeg or flac)."""


def _decode_blocks(sound: Any, max_seconds: float | None, param: str, max_rate: int | None, out: _Samples) -> int:
    """A libsndfile file's audio, read a block at a time, each block mixed to mono (and resampled) before the next."""
    rate_in = int(sound.samplerate)
    rate = min(rate_in, max_rate) if max_rate else rate_in
    stream = soxr.ResampleStream(rate_in, rate, 1, dtype="float32") if rate != rate_in else None
    # read() rather than blocks(): blocks() trusts the header's length and pads a cut-off file with stale frames.
    while len(block := sound.read(_BLOCK_FRAMES, dtype="float32", always_2d=True)):
        mono = block.mean(axis=1, dtype=np.float32)
        out.add(stream.resample_chunk(mono) if stream else mono, param)
        _check_length(out.frames, rate, max_seconds, param)  # a header that understates the length
    if stream:
        out.add(stream.resample_chunk(np.zeros(0, np.float32), last=True), param)
    return rate


def _check_length(frames: int, rate: int, max_seconds: float | None, param: str) -> None:
    if max_seconds is not None and rate and frames / rate > max_seconds:
        raise InvalidAudioError(
            f"the audio is {frames / rate:.1f} s long; at most {max_seconds:g} s is accepted", param=param
        )


def _decode_with_av(
    source: BinaryIO, max_seconds: float | None, param: str, max_rate: int | None, out: _Samples
) -> int:
    """Fallback for formats libsndfile lacks (MP3 in older builds, AAC, Opus in MP4/WebM), and the decoder of streams
    (a pipe): mono (and at most ``max_rate``) frame by frame."""
    import av

    frames = 0
    try:
        with av.open(source, mode="r") as container:
            if not container.streams.audio:
                raise InvalidAudioError("the file holds no audio (an image, a video without sound?)", param=param)
            stream = container.streams.audio[0]
            rate = stream.rate or stream.codec_context.sample_rate
            if rate:
                check_rate(rate, param)
                rate = min(rate, max_rate) if max_rate else rate
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate or None)
            for packet in container.demux(stream):
                for frame in packet.decode():
                    for resampled in resampler.resample(frame):
                        out.add(resampled.to_ndarray().reshape(-1), param)
                        frames += 1
                if rate:
                    _check_length(out.frames, rate, max_seconds, param)
            for resampled in resampler.resample(None):  # a rate change's tail
                out.add(resampled.to_ndarray().reshape(-1), param)
                frames += 1
    except InvalidAudioError:
        raise
    except Exception as err:
        # FFmpeg's own words where it has them ("Invalid data found when processing input"), not a Python class name.
        reason = getattr(err, "strerror", None) or "not a format voxhost reads (wav, flac, ogg, mp3, aac, m4a, webm)"
        raise InvalidAudioError(f"the audio could not be decoded: {reason}", param=param) from None
    if not frames or not rate:
        raise InvalidAudioError("the audio could not be decoded", param=param)
    return int(rate)
