"""The optional chat model: prompts, one OpenAI-compatible call, and a check of what it wrote."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from pathlib import Path
from urllib.parse import urlsplit

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from .answer import LANGS, ROLES, Lang, Role
from .config import Settings
from .ingest.lawmeta import LAWS
from .lookup import find_references, resolve

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
MAX_PASSAGE_CHARS = 1500  # a chunk is at most ~1,200 characters plus overlap
MAX_HISTORY_TURNS = 6
MAX_HISTORY_CHARS = 600

# "[3]" or "[1, 4]"; a Markdown link "[1](…)" is not a citation.
_MARKER_RE = re.compile(r"([ \t]*)\[(\d+(?:\s*,\s*\d+)*)\](?!\()")
# Our own passage fences, should a model echo them.
_FENCE_RE = re.compile(r"<<<(?:KILDE|SLUTT)[^>\n]{0,80}>>>\n?")


class LLMError(Exception):
    """The language model could not be used; the message is Norwegian and safe to show."""


def load_prompt(name: str, prompts_dir: Path | None = None) -> str:
    """The text of prompts/<name>.txt."""
    return ((prompts_dir or PROMPTS_DIR) / f"{name}.txt").read_text(encoding="utf-8")


def _shorten(text: str, limit: int) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(None, 1)[0] if " " in text[:limit] else text[:limit]
    return cut + " …"


def _fence(number: int, title: str, text: str) -> str:
    """One passage between markers; marker look-alikes inside the text are defused."""
    body = _shorten(text, MAX_PASSAGE_CHARS).replace("<<<", "«").replace(">>>", "»")
    title = " ".join(title.replace("<<<", "«").replace(">>>", "»").split())
    return f"<<<KILDE {number}>>>\n{title}\n\n{body}\n<<<SLUTT {number}>>>"


def build_messages(
    role: Role,
    lang: Lang,
    question: str,
    advice: str,
    passages: list[tuple[int, str, str]],
    history: list[tuple[str, str]],
    prompts_dir: Path | None = None,
) -> list[BaseMessage]:
    """System and user messages for one answer; passages are (number, title line, text)."""
    if role not in ROLES or lang not in LANGS:
        raise ValueError(f"unknown role/lang {role!r}/{lang!r}; valid: {ROLES} / {LANGS}")
    none = "(ingen)" if lang == "nb" else "(none)"
    speaker = {"user": "Bruker" if lang == "nb" else "User", "assistant": "Samskap"}
    turns = [
        f"{speaker.get(who, who)}: {_shorten(_MARKER_RE.sub('', text), MAX_HISTORY_CHARS)}"
        for who, text in history[-MAX_HISTORY_TURNS:]
    ]
    user = load_prompt(f"user.{lang}", prompts_dir).format(
        question=question.strip(),
        advice=advice.strip() or none,
        history="\n".join(turns) or none,
        passages="\n\n".join(_fence(n, title, text) for n, title, text in passages) or none,
        numbers=", ".join(f"[{n}]" for n, _, _ in passages) or none,
    )
    system = load_prompt(f"system.{role}.{lang}", prompts_dir)
    return [SystemMessage(content=system), HumanMessage(content=user)]


def _host(url: str) -> str:
    """host:port of a URL, never its user info or query."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname or url)


def _describe(exc: Exception, settings: Settings) -> str:
    """A Norwegian message for a failed call; it names the kind of failure, never the response body."""
    import openai

    where = _host(settings.llm_base_url)
    if isinstance(exc, openai.APITimeoutError):
        return f"Språkmodellen ({where}) svarte ikke innen {settings.llm_timeout:g} s."
    if isinstance(exc, openai.APIConnectionError):
        return f"Fikk ikke kontakt med språkmodellen ({where})."
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code in (401, 403):
            return f"Språkmodellen ({where}) avviste API-nøkkelen (HTTP {exc.status_code})."
        return f"Språkmodellen ({where}) svarte med feilkode HTTP {exc.status_code}."
    return f"Svaret fra språkmodellen ({where}) kunne ikke leses ({type(exc).__name__})."


def generate(
    settings: Settings,
    messages: list[BaseMessage],
    on_token: Callable[[str], None] | None = None,
) -> str:
    """The model's answer text; streamed to on_token piece by piece when given."""
    if not settings.llm_base_url:
        raise LLMError("Ingen språkmodell er satt opp (SAMSKAP_LLM_BASE_URL er tom).")
    secret = settings.llm_api_key.get_secret_value()
    try:
        from langchain_openai import ChatOpenAI  # ~1 s to import; only needed with a model

        model = ChatOpenAI(
            base_url=settings.llm_base_url,
            model=settings.llm_model or "default",
            api_key=secret or "not-needed",  # type: ignore[arg-type]
            timeout=settings.llm_timeout,
            max_retries=0,
            streaming=on_token is not None,
        )
        if on_token is None:
            text = str(model.invoke(messages).text)
        else:
            parts: list[str] = []
            for chunk in model.stream(messages):
                piece = str(chunk.text)
                if piece:
                    parts.append(piece)
                    on_token(piece)
            text = "".join(parts)
    except Exception as exc:
        # `from None`: some servers echo (part of) the key in error bodies; keep them out of tracebacks.
        message = _describe(exc, settings)
        raise LLMError(message.replace(secret, "***") if secret else message) from None
    if not text.strip():
        raise LLMError(f"Språkmodellen ({_host(settings.llm_base_url)}) ga et tomt svar.")
    return text


def _ref_label(text: str, law_id: str, start: int, end: int) -> str:
    span = text[start:end]
    return f"{LAWS[law_id][0]} {span}" if law_id in LAWS and "§" in span else span


MIN_SOURCES = 2  # an answer must cite at least this many of the given sources (fewer if fewer were given)


def validate(text: str, allowed_numbers: set[int], known_keys: Collection[str]) -> tuple[str | None, list[str]]:
    """Drop citations outside allowed_numbers; None when the text is empty, uncited or names an unknown §."""
    problems: list[str] = []
    kept: set[int] = set()

    def _filter(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.split(r"\s*,\s*", match.group(2))]
        good = [n for n in numbers if n in allowed_numbers]
        problems.extend(f"fjernet henvisning til kilde [{n}], som ikke var gitt" for n in numbers if n not in good)
        kept.update(good)
        return f"{match.group(1)}[{', '.join(map(str, good))}]" if good else ""

    cleaned = _FENCE_RE.sub("", _MARKER_RE.sub(_filter, text or "")).strip()
    if not cleaned:
        return None, [*problems, "tomt svar"]
    unknown = [ref for ref in find_references(cleaned) if not resolve([ref], known_keys)]
    if unknown:
        labels = ", ".join(dict.fromkeys(_ref_label(cleaned, r.law_id, r.start, r.end) for r in unknown))
        return None, [*problems, f"nevner paragraf som ikke finnes i kildene: {labels}"]
    if allowed_numbers and not kept:
        return None, [*problems, "svaret viser ikke til noen av kildene"]
    if len(kept) < min(MIN_SOURCES, len(allowed_numbers)):
        # A real answer to our prompt draws on several sources; one short cited line is what an
        # obeyed instruction hidden in a document looks like ("say only X [1]").
        return None, [*problems, f"svaret viser til bare {len(kept)} av kildene"]
    return cleaned, problems
