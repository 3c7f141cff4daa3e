"""Samskap: an evidence-first assistant for co-creation in Norwegian municipalities."""

from .answer import Answer
from .config import Settings, load_settings
from .service import Assistant

__all__ = ["Answer", "Assistant", "Settings", "load_settings"]
