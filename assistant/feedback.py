"""👍/👎 feedback in SQLite; the question text is kept only when the user opts in."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from .answer import Answer
from .config import Settings

Rating = Literal["up", "down"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT '',
    question TEXT,
    role TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT '',
    verdict TEXT,
    citations TEXT NOT NULL DEFAULT '[]'
)
"""


def feedback_path(settings: Settings) -> Path:
    """Where feedback is stored: the configured file, else `<index_dir>/feedback.sqlite`."""
    return settings.feedback_db or settings.index_dir / "feedback.sqlite"


class FeedbackStore:
    """A small append-only table; every call opens its own connection (safe across threads)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path)
        conn.execute(_SCHEMA)
        return conn

    def record(
        self, rating: Rating, answer: Answer | None, comment: str = "", store_question: bool = False
    ) -> int:
        """Store one rating; the question is saved only when `store_question` is true."""
        if rating not in ("up", "down"):
            raise ValueError(f"Ukjent vurdering: {rating!r}")
        question = answer.question if (answer is not None and store_question) else None
        row = (
            datetime.now(UTC).isoformat(timespec="seconds"),
            rating,
            comment.strip()[:2000],
            question,
            answer.role if answer else "",
            answer.language if answer else "",
            answer.fit.verdict if answer and answer.fit else None,
            json.dumps([c.key for c in answer.citations] if answer else [], ensure_ascii=False),
        )
        with self._connect() as conn:
            cursor = conn.execute(
                "INSERT INTO feedback (created, rating, comment, question, role, language, verdict, citations)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            new_id = int(cursor.lastrowid or 0)
        conn.close()
        return new_id

    def all(self) -> list[dict[str, Any]]:
        """Every stored rating, oldest first."""
        if not self.path.exists():
            return []
        with self._connect() as conn:
            conn.row_factory = sqlite3.Row
            rows = [dict(r) for r in conn.execute("SELECT * FROM feedback ORDER BY id")]
        conn.close()
        return rows

    def count(self) -> int:
        """How many ratings are stored."""
        if not self.path.exists():
            return 0
        with self._connect() as conn:
            (total,) = conn.execute("SELECT COUNT(*) FROM feedback").fetchone()
        conn.close()
        return int(total)

    def delete_all(self) -> int:
        """Remove every rating; returns how many were deleted.

        SQLite only marks deleted rows as free space, so the file is vacuumed afterwards: a stored
        question or comment must not survive in the file's free pages.
        """
        if not self.path.exists():
            return 0
        with self._connect() as conn:
            deleted = conn.execute("DELETE FROM feedback").rowcount
        conn.execute("VACUUM")
        conn.close()
        return int(deleted)
