"""Checks shared by the sampling engines' tests (Chatterbox, Qwen3-TTS)."""

from __future__ import annotations

import openai
import pytest


def refuses_an_unusable_temperature(client: openai.OpenAI, model: str, voice: str) -> bytes:
    """A temperature too small to sample with is a 400 on ``options``; the smallest allowed one speaks (its WAV)."""
    # 1e-300 is 0 in float32: the model's logits became infinite and the request a 500 engine_error.
    speech = {"model": model, "voice": voice, "input": "Hello there.", "response_format": "wav"}
    with pytest.raises(openai.BadRequestError) as refused:
        client.audio.speech.create(**speech, extra_body={"options": {"temperature": 1e-300}})
    assert refused.value.body["param"] == "options" and "temperature" in refused.value.body["message"]
    return client.audio.speech.create(**speech, extra_body={"options": {"temperature": 0.01}, "seed": 1}).read()
