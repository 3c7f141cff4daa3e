"""The Gradio app: texts (`texts`), pure Answer-to-Markdown functions (`render`) and the Blocks shell (`app`).

Re-exports the names the CLI, app.py and the tests use; uploads and export files live in
`assistant.uploads` and `assistant.export` and are re-exported here for code that still imports them from the UI.
"""

from ..export import EXPORT_MAX_AGE_S, export_files
from ..uploads import UPLOAD_DIR, safe_upload_name, save_uploads
from .app import CSS, create_app, launch
from .render import (
    about_markdown,
    answer_to_markdown,
    build_report_markdown,
    chat_messages,
    citation_detail,
    citation_table,
    compose_case_question,
    fit_badge,
    legal_basis,
    method_cards,
    safe_markdown,
    stream_answer,
)

__all__ = [
    "CSS",
    "EXPORT_MAX_AGE_S",
    "UPLOAD_DIR",
    "about_markdown",
    "answer_to_markdown",
    "build_report_markdown",
    "chat_messages",
    "citation_detail",
    "citation_table",
    "compose_case_question",
    "create_app",
    "export_files",
    "fit_badge",
    "launch",
    "legal_basis",
    "method_cards",
    "safe_markdown",
    "safe_upload_name",
    "save_uploads",
    "stream_answer",
]
