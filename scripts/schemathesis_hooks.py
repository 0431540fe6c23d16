"""schemathesis hooks for ``scripts/api_contract.py``: uploads the server must be able to use get a real file.

No schema can say "a recording of a voice" or "an archive ``/v1/library/export`` wrote": schemathesis fills
``format: binary`` fields with tiny images, PDFs and zips of a text file, which voxhost refuses with its documented
422 (the file holds no audio, a member has no place in a voice archive). Without these hooks not one positive case of
those operations would reach their work, and schemathesis rightly warns of it. So positive cases of the operations in
``UPLOADS`` send a short recording (or an archive of one voice) in place of the generated file, and those of
``TRANSCRIBED`` leave out a transcript (it must match the recording); every other field stays as generated, and
negative cases are left alone (their violation may be that very field).
"""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import schemathesis
import soundfile
from schemathesis.transport.serialization import Binary

from voxhost.archives import write_zip
from voxhost.library import AUDIO, META
from voxhost.voice_archive import KIND

RATE = 16000


def recording(seconds: float = 1.5) -> bytes:
    """A 16 kHz mono WAV of a gliding, pulsing tone: audio every decoder takes, as long as a reference must be."""
    t = np.arange(int(RATE * seconds)) / RATE
    tone = np.sin(2 * np.pi * (180 + 60 * t) * t) * (0.5 + 0.4 * np.sin(2 * np.pi * 3 * t))
    buffer = io.BytesIO()
    soundfile.write(buffer, (0.3 * tone).astype(np.float32), RATE, subtype="PCM_16", format="WAV")
    return buffer.getvalue()


def archive() -> bytes:
    """A voice archive of one voice, as ``/v1/library/export`` writes it."""
    voice_id = "voice_contract"
    meta = {"id": voice_id, "name": "Contract voice", "language": "en", "created_at": 1_700_000_000}
    members = [(f"{voice_id}/{AUDIO}", recording()), (f"{voice_id}/{META}", json.dumps(meta).encode())]
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "voices.zip"
        write_zip(target, KIND, members, {"voices": [{"id": voice_id, "name": meta["name"]}]})
        return target.read_bytes()


RECORDING = recording()
UPLOADS = {
    ("POST", "/v1/audio/transcriptions"): ("file", RECORDING),
    ("POST", "/v1/audio/translations"): ("file", RECORDING),
    ("POST", "/v1/audio/voices"): ("audio_sample", RECORDING),
    ("PUT", "/v1/audio/voices/{voice_id}/audio"): ("audio_sample", RECORDING),
    ("POST", "/v1/library/import"): ("archive", archive()),
}
"""Operation: the upload field, and the file its positive cases send."""
TRANSCRIBED = {("POST", "/v1/audio/voices"), ("PATCH", "/v1/audio/voices/{voice_id}")}
"""Operations whose optional ``transcript`` is left out of positive cases: a voice's transcript must match its
recording (voxhost checks it with its recognizer and answers 400 otherwise), which generated text never does; a new
voice without one has its recording transcribed, and an edit without one keeps the voice's."""


def use_real_files(case: schemathesis.Case) -> None:
    """A positive case: the real file in place of a generated upload, and no transcript where it must match."""
    meta = case.meta
    body: Any = case.body
    if meta is None or meta.generation.mode != schemathesis.GenerationMode.POSITIVE or not isinstance(body, dict):
        return
    operation = (case.operation.method.upper(), case.operation.path)
    upload = UPLOADS.get(operation)
    if upload is not None and not isinstance(body.get(upload[0]), Binary):
        return  # no generated file to stand in for
    components = dict(meta.components)
    if operation in TRANSCRIBED:
        body.pop("transcript", None)  # optional: the body stays as valid as it was
    if upload is not None:
        field, data = upload
        body[field] = Binary(data)
        # Reading ``case.meta`` validates an edited body again, and schemathesis cannot validate binary data, so it
        # calls the case negative; a file for a generated one (and an optional field left out) leaves it as valid
        # as it was, so each part keeps the mode it was generated in, and the case stays positive.
        edited = case.meta
        if edited is not None:
            edited.components.update(components)
            edited.generation.mode = schemathesis.GenerationMode.POSITIVE


@schemathesis.hook
def map_case(context: schemathesis.HookContext, case: schemathesis.Case) -> schemathesis.Case:
    """Coverage, fuzzing and stateful cases."""
    use_real_files(case)
    return case


@schemathesis.hook
def before_add_examples(context: schemathesis.HookContext, examples: list[schemathesis.Case]) -> None:
    """Cases of the examples phase (they do not pass through ``map_case``)."""
    for case in examples:
        use_real_files(case)
