"""Where the test data beside the project lives (the corpus of real feeds, official schemas).

``../shared`` from the project root, as CI lays it out; ``DISTRIBUTOR_SHARED_DIR`` points
elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = Path(os.environ.get("DISTRIBUTOR_SHARED_DIR") or REPO_ROOT.parent / "shared")
SCHEMAS_DIR = SHARED_DIR / "schemas"
