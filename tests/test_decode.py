"""Uploaded audio decoded a block at a time (voxhost.audio.decode_audio): the same samples as the file holds, however
the blocks fall, for files cut short and files that never recorded their length; made PCM without whole copies."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile

from voxhost.audio import decode_audio, decoded_pcm
from voxhost.engine import PCM

RATE = 22050
"""MPEG-2 layer III, whose frames libsndfile garbled where they straddled two reads."""


def speechlike(seconds: float, rate: int = RATE) -> np.ndarray:
    """A tone with noise: libsndfile garbled this one by up to 0.13 where MP3 frames straddled two reads."""
    t = np.arange(int(seconds * rate)) / rate
    noise = np.random.default_rng(0).standard_normal(t.size) * 0.05
    return (0.3 * np.sin(2 * np.pi * 300 * t) + noise).astype(np.float32)


def encoded(samples: np.ndarray, fmt: str, rate: int = RATE) -> bytes:
    out = io.BytesIO()
    soundfile.write(out, samples, rate, format=fmt)
    return out.getvalue()


def ffmpeg_mono(data: bytes) -> np.ndarray:
    """The file as FFmpeg decodes it, whole: the reference."""
    with av.open(io.BytesIO(data)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono")
        frames = [out.to_ndarray().reshape(-1) for f in container.decode(audio=0) for out in resampler.resample(f)]
    return np.concatenate(frames)


def test_an_mp3_decodes_to_the_samples_ffmpeg_hears() -> None:
    data = encoded(speechlike(10.0), "MP3")
    samples, rate = decode_audio(data, 60)
    reference = ffmpeg_mono(data)
    assert rate == RATE and samples.size == reference.size
    assert np.abs(samples - reference).max() < 1e-4


def test_a_file_cut_short_is_as_long_as_what_it_holds() -> None:
    """A header's length is a claim: blocks past the end of a cut-off file are not made up."""
    whole = encoded(speechlike(10.0), "MP3")
    cut = whole[: len(whole) // 2]
    samples, rate = decode_audio(cut, 60)
    assert samples.size == pytest.approx(ffmpeg_mono(cut).size, abs=rate * 0.1)
    assert samples.size / rate < 6


def test_a_flac_without_its_length_is_decoded_and_limited_as_it_goes() -> None:
    """A FLAC written to a pipe (``ffmpeg ... -f flac -``, ``flac -``) has 0 samples in its header: unknown."""
    data = bytearray(encoded(speechlike(5.0), "FLAC"))
    # STREAMINFO's last 36 bits of bytes 18-25 are the total samples.
    data[21] &= 0xF0
    data[22:26] = bytes(4)
    assert soundfile.info(io.BytesIO(bytes(data))).frames == 2**63 - 1  # libsndfile: unknown
    samples, rate = decode_audio(bytes(data), 60)
    assert (rate, samples.size) == (RATE, 5 * RATE)
    with pytest.raises(Exception, match="at most 4 s"):
        decode_audio(bytes(data), 4)


def test_an_upload_becomes_pcm_holding_little_more_than_the_pcm(tmp_path: Path) -> None:
    """A minute of 44.1 kHz stereo, mixed to mono and brought to 16 kHz: decoding it to PCM peaked at twice its
    mono float32 size (the float32 blocks and their concatenation; then float32, 16-bit and bytes copies), the
    same for every transcription or conversion. Made PCM a block at a time, what is held is the PCM (half the float32
    size) and a block's work, under one float32 copy, and the samples are those of converting the float32 result."""
    path = tmp_path / "long.wav"
    soundfile.write(path, np.repeat(speechlike(60.0, 44100)[:, None], 2, axis=1), 44100, subtype="PCM_16")
    tracemalloc.start()
    try:
        pcm = decoded_pcm(path, 70, "file", 16000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    float32 = len(pcm.data) * 2
    assert peak < float32, f"{peak / float32:.2f}x the float32 samples"
    samples, rate = decode_audio(path, 70, "file", 16000)
    assert pcm == PCM.from_float(samples, rate) and rate == 16000 and samples.size == 60 * 16000
