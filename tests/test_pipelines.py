"""Pipeline voices: settings validation and segmenting source audio for a converting engine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
import pytest
from pydantic import ValidationError

from voxhost.engine import PCM
from voxhost.pipelines import PipelineSettings, check_pipelines, convert_stream
from voxhost.settings import load_settings


def _tone(seconds: float, rate: int, value: int = 1000) -> PCM:
    return PCM(np.full(int(seconds * rate), value, dtype="<i2").tobytes(), rate)


class Recorder:
    """A converter that halves the level and records the segments it was given."""

    def __init__(self) -> None:
        self.segments: list[PCM] = []

    async def __call__(self, segment: PCM) -> AsyncIterator[PCM]:
        self.segments.append(segment)
        await asyncio.sleep(0)
        samples = np.frombuffer(segment.data, dtype="<i2") // 2
        yield PCM(samples.astype("<i2").tobytes(), 24000)


async def _run(source, recorder, **kw) -> list[PCM]:
    return [pcm async for pcm in convert_stream(source, recorder, **kw)]


def test_pipelines_table_in_settings():
    settings = load_settings(
        None,
        pipelines=[
            {
                "id": "grandma-piper",
                "source": "piper:en_US-joe-medium",
                "convert_to": "voice_grandma",
                "engine": "chatterbox",
            }
        ],
    )
    (pipeline,) = settings.pipelines
    assert pipeline.engine == "chatterbox" and pipeline.display_name == "piper:en_US-joe-medium as voice_grandma"


@pytest.mark.parametrize("bad", [{"id": "a:b"}, {"id": ""}, {"source": " "}, {"colour": "red"}])
def test_pipeline_settings_reject_bad_values(bad):
    fields = {"id": "p", "source": "piper:x", "convert_to": "voice_x", **bad}
    with pytest.raises(ValidationError):
        PipelineSettings(**fields)


def test_duplicate_pipeline_ids():
    p = PipelineSettings(id="p", source="piper:x", convert_to="voice_x")
    with pytest.raises(ValueError, match="defined twice"):
        check_pipelines([p, p])


async def test_short_sentences_join_until_min_seconds():
    recorder = Recorder()
    source = [_tone(0.4, 16000), _tone(0.4, 16000), _tone(0.4, 16000), _tone(0.3, 16000)]
    out = await _run(source, recorder, min_seconds=1.0, max_seconds=20.0)
    assert [round(s.seconds, 2) for s in recorder.segments] == [1.2, 0.3]
    assert all(p.rate == 24000 for p in out)
    assert sum(len(p.data) for p in out) == sum(len(s.data) for s in source)
    assert np.frombuffer(out[0].data, dtype="<i2")[0] == 500


async def test_long_chunks_are_cut_at_max_seconds():
    recorder = Recorder()

    async def source() -> AsyncIterator[PCM]:
        yield _tone(5.0, 8000)

    await _run(source(), recorder, min_seconds=0.5, max_seconds=2.0)
    assert [s.seconds for s in recorder.segments] == [2.0, 2.0, 1.0]


async def test_a_rate_change_closes_the_segment():
    recorder = Recorder()
    await _run([_tone(0.2, 16000), _tone(0.2, 22050), PCM(b"", 22050)], recorder, min_seconds=1.0)
    assert [(s.rate, round(s.seconds, 2)) for s in recorder.segments] == [(16000, 0.2), (22050, 0.2)]


async def test_each_chunk_is_a_segment_with_zero_min():
    recorder = Recorder()
    await _run([_tone(0.1, 16000)] * 3, recorder, min_seconds=0.0)
    assert len(recorder.segments) == 3


async def test_errors_from_the_converter_propagate():
    async def failing(segment: PCM) -> AsyncIterator[PCM]:
        raise RuntimeError("engine broke")
        yield segment  # pragma: no cover

    with pytest.raises(RuntimeError, match="engine broke"):
        await _run([_tone(1.0, 16000)], failing)
