"""The runaway bound: generous for real speech at any speed and in any script, exact where it cuts."""

from __future__ import annotations

import numpy as np
import pytest

from voxhost.engine import PCM
from voxhost.runaway import FADE_SECONDS, audio_limit, capped, text_limit
from voxhost.settings import EngineHostSettings


def test_the_default_bound_never_cuts_real_speech():
    host = EngineHostSettings()
    # "Hello there." is about 1 s of speech: 30 s, however slow.
    assert text_limit("Hello there.", 1.0, host) == host.max_audio_floor == 30.0
    # The longest sentence the text front-end gives an engine (text.max_sentence_seconds: 15 s estimated) may take
    # 120 s; at a quarter of normal speed 4 times that. Chinese spoken slowly (3 characters a second) stays far below:
    # the estimate counts each character as a syllable (spoken.length.seconds), not as a letter of prose.
    prose = "word " * 40
    assert text_limit(prose, 1.0, host) == pytest.approx(8 * 40 * 5 * 0.075)
    assert text_limit(prose, 0.25, host) == pytest.approx(4 * text_limit(prose, 1.0, host))
    assert text_limit(prose, 4.0, host) == text_limit(prose, 1.0, host)  # an engine may ignore the speed
    chinese = "今天天气很好我们去公园散步吧" * 10
    assert text_limit(chinese, 1.0, host) > 4 * len(chinese) / 3
    assert text_limit("Hello there.", 1.0, EngineHostSettings(max_audio_factor=None)) is None


async def _chunks(count: int, seconds: float, rate: int = 16000):
    for _ in range(count):
        yield PCM(b"\x10\x27" * int(seconds * rate), rate)  # 10000


async def test_capped_cuts_mid_chunk_with_a_fade_and_says_so_once():
    cuts: list[float] = []
    out = [pcm async for pcm in capped(_chunks(100, 0.3), 1.0, cuts.append)]
    samples = np.frombuffer(b"".join(p.data for p in out), dtype="<i2")
    assert len(samples) == 16000 and cuts == [1.0]
    fade = int(FADE_SECONDS * 16000)
    assert (samples[:-fade] == 10000).all() and samples[-1] < 100 and out[-1].last


async def test_capped_passes_what_is_within_the_bound_and_no_bound_at_all():
    assert sum([p.seconds async for p in capped(_chunks(3, 0.3), 1.0, pytest.fail)]) == pytest.approx(0.9)
    assert sum([p.seconds async for p in capped(_chunks(50, 1.0), None, pytest.fail)]) == pytest.approx(50)


def test_a_conversion_may_make_its_input_length_and_more():
    host = EngineHostSettings()
    assert audio_limit(1.0, host) == 30.0 and audio_limit(600.0, host) == 4800.0
