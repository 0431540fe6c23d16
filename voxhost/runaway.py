"""The bound on the audio an engine may make for one piece of work, so that a runaway engine is cut off.

Autoregressive models (Chatterbox, Qwen3-TTS) can fall into a loop and speak for minutes about "Hello there.";
a plugin can yield audio for ever. Without a bound every door streamed all of it, and the engine and the client
were held until it stopped. The bound is generous: real speech, at any speed and in any script, is never near it.
A sentence's length is estimated as the text front-end bounds it (``spoken.length.seconds``: a Chinese or Japanese
character, or a Hangul block, is a syllable).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable

import numpy as np

from .engine import PCM
from .settings import EngineHostSettings
from .spoken import length

FADE_SECONDS = 0.01
"""The cut audio fades out over this much (a hard cut clicks)."""


def text_limit(text: str, speed: float, host: EngineHostSettings) -> float | None:
    """Seconds of audio an engine may make for ``text`` at ``speed`` (None: no bound)."""
    if host.max_audio_factor is None:
        return None
    # A speed above 1 does not tighten the bound: an engine may ignore the speed, or only approximate it.
    return max(host.max_audio_floor, host.max_audio_factor * length.seconds(text, min(speed, 1.0)))


def audio_limit(seconds: float, host: EngineHostSettings) -> float | None:
    """Seconds of audio an engine may make from ``seconds`` of audio (voice conversion; None: no bound)."""
    if host.max_audio_factor is None:
        return None
    return max(host.max_audio_floor, host.max_audio_factor * seconds)


def _faded(pcm: PCM, seconds: float) -> PCM:
    """The first ``seconds`` of ``pcm``, fading out at its end."""
    samples = np.frombuffer(pcm.data, dtype="<i2")[: max(0, int(seconds * pcm.rate))].astype(np.float32)
    fade = min(len(samples), int(FADE_SECONDS * pcm.rate))
    if fade:
        samples[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return PCM(samples.astype("<i2").tobytes(), pcm.rate, last=True)


def conversion_cut(engine_id: str, seconds: float, converted: float) -> str:
    """What a conversion the bound cut at ``seconds`` tells its client (``converted``: the seconds of audio it
    converted)."""
    return (
        f"the engine made more than {seconds:.3g} s of audio for a conversion of {converted:.3g} s, as an engine "
        f"caught in a loop does; it was cut there (max_audio_factor and max_audio_floor in [engines.{engine_id}])"
    )


async def capped(
    chunks: AsyncIterator[PCM], limit: float | None, on_cut: Callable[[float], None]
) -> AsyncGenerator[PCM, None]:
    """``chunks`` up to ``limit`` seconds; past it, the rest of the chunk that crosses it is dropped, ``on_cut`` is
    called with the limit, and the stream ends (the caller closes ``chunks``, which stops the engine)."""
    if limit is None:
        async for pcm in chunks:
            yield pcm
        return
    made = 0.0
    async for pcm in chunks:
        seconds = pcm.seconds
        if made + seconds <= limit:
            made += seconds
            yield pcm
            continue
        on_cut(limit)
        yield _faded(pcm, limit - made)
        return
