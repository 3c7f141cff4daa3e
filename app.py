"""Start the Samskap web app: `python app.py` (builds the index on first run)."""

from __future__ import annotations

from assistant.config import load_settings, set_offline_defaults

if __name__ == "__main__":
    settings = load_settings()
    set_offline_defaults(settings.allow_model_downloads)
    from assistant.ui import launch

    launch(settings)
