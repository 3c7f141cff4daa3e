"""Samskap: an evidence-first assistant for co-creation in Norwegian municipalities."""

from .config import Settings, load_settings

__all__ = ["Settings", "load_settings"]
