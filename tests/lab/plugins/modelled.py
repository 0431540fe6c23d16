"""A test engine that needs a model nobody can download here: for the lab's models view and its failure paths.

``modelled`` declares two models (``base`` needs ``vocoder``) in a repository that does not exist; loading it asks
for ``base``, so it fails with the missing-model message until the files are put in place.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import voxhost
from voxhost.engine import (
    PCM,
    Capability,
    Engine,
    ModelSpec,
    SynthesisRequest,
    VoiceInfo,
)

REPO = "voxhost-tests/no-such-model"


class ModelledEngine(Engine):
    """Speaks silence once its (unobtainable) model files are present."""

    engine_id = "modelled"
    display_name = "Modelled (test)"
    capabilities = frozenset({Capability.TTS})
    enabled_by_default = True

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo("quiet", "Quiet", ("de_DE",), 16000)]

    def models(self) -> list[ModelSpec]:
        return [
            ModelSpec("modelled", "base", REPO, ("base.bin",), description="the acoustic model", requires=("vocoder",)),
            ModelSpec("modelled", "vocoder", REPO, ("vocoder.bin",)),
        ]

    def load(self) -> None:
        for spec in self.models():
            self.context.require_model(spec)

    def synthesize(self, request: SynthesisRequest) -> Iterator[PCM]:
        yield PCM(b"\0\0" * 16000, 16000)


@voxhost.hookimpl
def register_engines(register: Any) -> None:
    """Register the test engine."""
    register(ModelledEngine)
