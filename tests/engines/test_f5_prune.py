"""The Japanese F5 model is a whole training checkpoint: on pull (and at first load) only its EMA weights are kept,
as safetensors that f5-tts loads to the very same weights; the pruned file is verified and so is its manifest."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import soundfile

from voxhost.models import MANIFEST, find_model, verify_manifest
from voxhost.plugins.f5.prune import prune_pulled, pruned_path
from voxhost.plugins.f5.registry import LanguageModel, model_spec

from ..conftest import running_daemon
from .f5_fixtures import build_tiny_models, f5_python, f5_settings, reference_signal, samples, speak

pytestmark = pytest.mark.heavy

BUILDER = Path(__file__).resolve().parent / "tiny" / "f5_training_ckpt.py"


def _run(*args: str) -> dict:
    out = subprocess.run(
        [f5_python(), str(BUILDER), *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def training_checkpoint(tmp_path_factory) -> tuple[Path, dict]:
    models = tmp_path_factory.mktemp("models")
    return models, _run("build", str(models))


def test_pull_keeps_only_the_ema_weights(training_checkpoint, tmp_path):
    models, entry = training_checkpoint
    work = tmp_path / "models"
    shutil.copytree(models, work)
    spec = model_spec("ja", LanguageModel(**entry))
    root = work / "Jmica--F5TTS"
    checkpoint = root / entry["checkpoint"]
    original = tmp_path / "original.pt"
    shutil.copy(checkpoint, original)
    # the manifest a hub pull writes (sizes and sha256 of what arrived), which pruning must keep true
    pulled = {
        path.relative_to(root).as_posix(): {
            "size": path.stat().st_size,
            "algo": "sha256",
            "hash": hashlib.sha256(path.read_bytes()).hexdigest(),
        }
        for path in (checkpoint, root / entry["vocab"])
    }
    (root / MANIFEST).write_text(json.dumps({"repo": entry["repo"], "files": pulled}))
    prune_pulled(spec, root)
    pruned = pruned_path(checkpoint)
    assert pruned.is_file() and not checkpoint.exists()
    assert pruned.stat().st_size < original.stat().st_size / 2  # the model and optimizer state are gone
    assert find_model(spec, work, search_hf_cache=False) == root
    assert verify_manifest(spec, root) is True
    result = _run("compare", str(original), str(pruned))
    assert result["same_keys"] and result["equal"] and result["keys"] > 10, result


def test_a_training_checkpoint_is_pruned_at_first_load_and_speaks(training_checkpoint, tmp_path):
    models, entry = training_checkpoint
    work = tmp_path / "models"
    shutil.copytree(models, work)
    tiny = build_tiny_models(work)
    # The Japanese built-in voice needs a Japanese reference of its own (an English one is not offered for ja).
    reference = work / "ja-reference.wav"
    soundfile.write(reference, reference_signal(), 16000)
    ja = {**entry, "reference": str(reference), "reference_text": "こんにちは、これは参照の声です。"}
    settings = f5_settings(tmp_path / "state", work, {**tiny, "ja": ja}, languages=["en", "ja"])
    with running_daemon(settings) as daemon:
        pcm, rate = speak(daemon, "こんにちは。", language="ja_JP", voice="f5:default", seed=1)
    assert rate == 24000 and samples(pcm).size > 0
    checkpoint = work / "Jmica--F5TTS" / entry["checkpoint"]
    assert pruned_path(checkpoint).is_file() and not checkpoint.exists()
