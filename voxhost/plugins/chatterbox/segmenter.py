"""Where Chatterbox's Chinese word segmenter (spacy-pkuseg) keeps its model, and whether it is there (no imports)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def pkuseg_home() -> Path:
    """``$PKUSEG_HOME``, else ``<environment>/share/pkuseg``, where envs/chatterbox/setup.sh fetches the model."""
    return Path(os.environ.get("PKUSEG_HOME") or Path(sys.prefix, "share", "pkuseg"))


def pkuseg_model_present() -> bool:
    """Whether spacy-pkuseg's default model is on disk (else constructing it would try to download it)."""
    return (pkuseg_home() / "spacy_ontonotes").is_dir()
