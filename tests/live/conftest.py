"""Live comparisons against the installed transformers (``make parity``): collected only when
STEERID_PARITY=1, because they need torch and transformers, which the toolkit never does."""

import os

if os.environ.get("STEERID_PARITY") != "1":
    collect_ignore_glob = ["test_*.py"]
