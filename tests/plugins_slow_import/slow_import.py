"""A test plugin whose import takes ``$VOXHOST_TEST_IMPORT_SECONDS`` (30 by default), as a plugin importing a large
library does; it writes the file ``$VOXHOST_TEST_IMPORT_MARK`` (when set) as its import begins."""

from __future__ import annotations

import os
import time
from pathlib import Path

if os.environ.get("VOXHOST_TEST_IMPORT_MARK"):
    Path(os.environ["VOXHOST_TEST_IMPORT_MARK"]).write_text("importing\n")
time.sleep(float(os.environ.get("VOXHOST_TEST_IMPORT_SECONDS", "30")))
