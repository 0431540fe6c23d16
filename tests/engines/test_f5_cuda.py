"""F5 on a CUDA GPU (half precision): runs wherever the F5 worker environment sees CUDA."""

from __future__ import annotations

import subprocess
import time

import numpy as np
import pytest

from ..conftest import running_daemon
from .f5_fixtures import (
    build_tiny_models,
    f5_python,
    f5_settings,
    f5_status,
    samples,
    speak,
)

pytestmark = [pytest.mark.heavy, pytest.mark.cuda]


def _worker_has_cuda() -> bool:
    probe = subprocess.run(
        [f5_python(), "-c", "import torch; print(torch.cuda.is_available())"], capture_output=True, text=True
    )
    return probe.stdout.strip() == "True"


@pytest.fixture(scope="module")
def cuda_daemon(tmp_path_factory):
    if not _worker_has_cuda():
        pytest.skip("no CUDA device visible to the F5 worker environment")
    models_dir = tmp_path_factory.mktemp("models")
    tiny = build_tiny_models(models_dir)
    settings = f5_settings(tmp_path_factory.mktemp("state"), models_dir, tiny, device="auto", model_idle_unload=1.0)
    with running_daemon(settings) as d:
        yield d


def test_cuda_half_precision_speech(cuda_daemon):
    a, rate = speak(cuda_daemon, "Hello world, this is a test on the GPU.", voice="f5:default-en", seed=5)
    status = f5_status(cuda_daemon)
    assert status["device"].startswith("cuda") and status["half_precision"] is True
    audio = samples(a)
    assert rate == 24000 and np.isfinite(audio).all() and audio.size / rate > 0.5
    b, _ = speak(cuda_daemon, "Hello world, this is a test on the GPU.", voice="f5:default-en", seed=5)
    assert a == b


def test_cuda_memory_returned_after_unload(cuda_daemon):
    speak(cuda_daemon, "Bonjour tout le monde.", voice="f5:default-fr", seed=1)
    loaded = f5_status(cuda_daemon)
    assert loaded["cuda_allocated"] > 0
    deadline = time.monotonic() + 30
    status = loaded
    while status.get("resident") != [] and time.monotonic() < deadline:
        time.sleep(0.2)
        status = f5_status(cuda_daemon)
    assert status.get("resident") == []
    assert status["cuda_allocated"] < loaded["cuda_allocated"]
    assert status["cuda_reserved"] <= loaded["cuda_reserved"]


@pytest.fixture(scope="module")
def fp32_daemon(tmp_path_factory):
    if not _worker_has_cuda():
        pytest.skip("no CUDA device visible to the F5 worker environment")
    models_dir = tmp_path_factory.mktemp("models32")
    tiny = build_tiny_models(models_dir)
    settings = f5_settings(tmp_path_factory.mktemp("state32"), models_dir, tiny, device="cuda", half_precision=False)
    with running_daemon(settings) as d:
        yield d


def test_half_precision_off_loads_float32_weights(fp32_daemon):
    speak(fp32_daemon, "Hello world.", voice="f5:default-en", seed=5)
    status = f5_status(fp32_daemon)
    assert status["half_precision"] is False and status["dtype"] == "float32"
