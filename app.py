"""Start the Samskap web app: `python app.py` (builds the index on first run)."""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from assistant.config import load_settings
from assistant.ui import launch

if __name__ == "__main__":
    launch(load_settings())
