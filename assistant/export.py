"""Exports: the conversation as Markdown and one answer as a decision note (Markdown, optionally PDF),
written to a temporary folder that is cleared after an hour."""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from .answer import Answer, Lang

VERDICT_LABEL = {
    "nb": {"suited": "Egner seg", "not_suited": "Egner seg ikke", "depends": "Kommer an på"},
    "en": {"suited": "Suited", "not_suited": "Not suited", "depends": "It depends"},
}
BASIS_LABEL = {
    "nb": {"lov": "Lov", "strategi": "Kommunal strategi", "forskning": "Forskning", "vurdering": "Vurdering"},
    "en": {"lov": "Law", "strategi": "Municipal strategy", "forskning": "Research", "vurdering": "Assessment"},
}
_T = {
    "nb": {
        "conversation": "Samtale med Samskap",
        "question": "Spørsmål",
        "answer": "Svar",
        "note": "Beslutningsnotat",
        "date": "Dato",
        "role": "Rolle",
        "case": "Saken",
        "verdict": "Vurdering: egner saken seg for samskaping?",
        "no_verdict": "Ingen vurdering – spørsmålet gjaldt ikke en konkret sak.",
        "method": "Anbefalt metode",
        "no_method": "Ingen metode anbefalt.",
        "why": "Hvorfor",
        "steps": "Slik kommer dere i gang",
        "legal": "Rettslig grunnlag",
        "no_legal": "Ingen lovbestemmelser sitert i svaret.",
        "caveats": "Forbehold",
        "sources": "Kilder",
        "version": "versjon",
        "alternatives": "Andre aktuelle metoder",
        "disclaimer": "Dette notatet er veiledning laget av Samskap, ikke juridisk rådgivning. "
        "Kontroller gjeldende lovtekst på lovdata.no før vedtak.",
        "refused": "Spørsmålet ble ikke besvart",
        "note_file": "beslutningsnotat",
        "chat_file": "samtale",
    },
    "en": {
        "conversation": "Conversation with Samskap",
        "question": "Question",
        "answer": "Answer",
        "note": "Decision note",
        "date": "Date",
        "role": "Role",
        "case": "The case",
        "verdict": "Assessment: is co-creation suited to the case?",
        "no_verdict": "No assessment – the question was not about a concrete case.",
        "method": "Recommended method",
        "no_method": "No method recommended.",
        "why": "Why",
        "steps": "How to get started",
        "legal": "Legal basis",
        "no_legal": "No statutory provisions cited in the answer.",
        "caveats": "Caveats",
        "sources": "Sources",
        "version": "version",
        "alternatives": "Other relevant methods",
        "disclaimer": "This note is guidance produced by Samskap, not legal advice. "
        "Check the text in force on lovdata.no before deciding.",
        "refused": "The question was not answered",
        "note_file": "decision-note",
        "chat_file": "conversation",
    },
}


def labels(lang: Lang) -> dict[str, str]:
    return _T["en" if lang == "en" else "nb"]


def conversation_markdown(answers: Sequence[Answer], lang: Lang = "nb") -> str:
    """The whole conversation: each question and its answer, with its sources."""
    t = labels(lang)
    parts = [f"# {t['conversation']}", f"{t['date']}: {date.today().isoformat()}"]
    for i, answer in enumerate(answers, 1):
        parts.append(f"## {i}. {t['question']}\n\n{answer.question.strip()}")
        parts.append(f"### {t['answer']}\n\n{answer.text.strip() or (answer.refusal_reason or '')}")
        if answer.citations:
            parts.append(f"### {t['sources']}\n\n" + _source_lines(answer, lang))
    return "\n\n".join(parts) + "\n"


def _source_lines(answer: Answer, lang: Lang) -> str:
    t = labels(lang)
    lines = []
    for c in sorted(answer.citations, key=lambda c: c.number):
        version = f" ({t['version']}: {c.version})" if c.version else ""
        url = f" <{c.url}>" if c.url else ""
        lines.append(f"- [{c.number}] {c.title} — `{c.key}`{version}{url}")
    return "\n".join(lines)


def decision_note_markdown(
    answer: Answer, case: Mapping[str, str] | None = None, lang: Lang | None = None
) -> str:
    """One answer as a decision note: question, case, verdict, method, legal basis, caveats, sources."""
    lang = lang or answer.language
    t = labels(lang)
    role = {"prosjektleder": "Prosjektleder", "jurist": "Jurist"}.get(answer.role, answer.role)
    parts = [
        f"# {t['note']}",
        f"{t['date']}: {date.today().isoformat()}  \n{t['role']}: {role}",
        f"## {t['question']}\n\n{answer.question.strip()}",
    ]
    if case:
        rows = [f"- **{k if k.endswith('?') else k + ':'}** {v}" for k, v in case.items() if v]
        parts.append(f"## {t['case']}\n\n" + "\n".join(rows))
    if answer.refused:
        parts.append(f"## {t['refused']}\n\n{answer.refusal_reason or answer.text}")
    if answer.fit:
        verdict = VERDICT_LABEL[lang][answer.fit.verdict]
        reasons = "\n".join(f"- {r}" for r in answer.fit.reasons)
        parts.append(f"## {t['verdict']}\n\n**{verdict}**\n\n{reasons}".rstrip())
    else:
        parts.append(f"## {t['verdict']}\n\n{t['no_verdict']}")
    if answer.methods:
        best = answer.methods[0]
        block = [f"## {t['method']}: {best.name}"]
        if best.why:
            block.append(f"**{t['why']}:**\n" + "\n".join(f"- {w}" for w in best.why))
        if best.steps:
            block.append(f"**{t['steps']}:**\n" + "\n".join(f"{i}. {s}" for i, s in enumerate(best.steps, 1)))
        if len(answer.methods) > 1:
            block.append(f"**{t['alternatives']}:** " + ", ".join(m.name for m in answer.methods[1:4]))
        parts.append("\n\n".join(block))
    else:
        parts.append(f"## {t['method']}\n\n{t['no_method']}")
    laws = answer.law_citations
    if laws:
        lines = []
        for c in laws:
            line = f"- [{c.number}] **{c.title}** ({t['version']}: {c.version or '–'}) <{c.url}>"
            if c.warning:
                line += f"  \n  ⚠ {c.warning}"
            lines.append(line)
        parts.append(f"## {t['legal']}\n\n" + "\n".join(lines))
    else:
        parts.append(f"## {t['legal']}\n\n{t['no_legal']}")
    caveats = [c for m in answer.methods[:1] for c in m.caveats] + list(answer.notices)
    if caveats:
        parts.append(f"## {t['caveats']}\n\n" + "\n".join(f"- {c}" for c in caveats))
    if answer.citations:
        parts.append(f"## {t['sources']}\n\n" + _source_lines(answer, lang))
    parts.append(f"---\n\n*{t['disclaimer']}*")
    return "\n\n".join(parts) + "\n"


_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def markdown_to_pdf(markdown: str, path: Path) -> Path:
    """A plain, readable PDF of a Markdown note (headings bold, no other formatting); needs fpdf2."""
    try:
        from fpdf import FPDF
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise RuntimeError("PDF-eksport krever pakken fpdf2 (pip install fpdf2).") from exc
    pdf = FPDF(format="A4")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=18)
    unicode_font = (_FONT_DIR / "DejaVuSans.ttf").exists() and (_FONT_DIR / "DejaVuSans-Bold.ttf").exists()
    if unicode_font:
        pdf.add_font("DejaVu", "", str(_FONT_DIR / "DejaVuSans.ttf"))
        pdf.add_font("DejaVu", "B", str(_FONT_DIR / "DejaVuSans-Bold.ttf"))
        family = "DejaVu"
    else:
        family = "Helvetica"
    pdf.add_page()

    def clean(text: str) -> str:
        text = re.sub(r"\*\*(.+?)\*\*", r"\1", text)
        text = re.sub(r"(?<!\w)\*(.+?)\*(?!\w)", r"\1", text).replace("`", "")
        text = re.sub(r"<(https?://[^>]+)>", r"\1", text)
        return text if unicode_font else text.encode("latin-1", "replace").decode("latin-1")

    for raw in markdown.splitlines():
        line = raw.rstrip()
        if line.strip() == "---":
            pdf.ln(3)
            continue
        heading = re.match(r"^(#{1,3})\s+(.*)", line)
        if heading:
            size = {1: 17, 2: 13, 3: 11}[len(heading.group(1))]
            pdf.ln(3)
            pdf.set_font(family, "B", size)
            pdf.multi_cell(0, size * 0.55, clean(heading.group(2)), new_x="LMARGIN", new_y="NEXT")
            continue
        pdf.set_font(family, "", 10)
        if not line.strip():
            pdf.ln(2)
            continue
        pdf.multi_cell(0, 5, clean(line.strip()), new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


EXPORT_MAX_AGE_S = 3600  # exports hold questions and answers: kept for an hour, then deleted


def _export_folder() -> Path:
    """A fresh folder under the system temp dir; exports older than EXPORT_MAX_AGE_S are removed first."""
    root = Path(tempfile.gettempdir()) / "samskap-exports"
    root.mkdir(mode=0o700, exist_ok=True)
    for old in root.iterdir():
        if time.time() - old.stat().st_mtime > EXPORT_MAX_AGE_S:
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(dir=root))


def export_files(answers: Sequence[Answer], case: Mapping[str, str] | None, lang: str | None,
                 which: str) -> list[str]:
    """Write the decision note (Markdown + PDF) or the conversation to a temp folder; return the paths."""
    if not answers:
        return []
    folder = _export_folder()
    stamp = time.strftime("%Y%m%d-%H%M")
    language: Lang = "en" if lang == "en" else "nb"
    if which == "note":
        last = answers[-1]
        md = decision_note_markdown(last, case, language if lang else last.language)
        name = f"{labels(language)['note_file']}-{stamp}"
        md_path = folder / f"{name}.md"
        md_path.write_text(md, encoding="utf-8")
        paths = [str(md_path)]
        try:
            paths.append(str(markdown_to_pdf(md, folder / f"{name}.pdf")))
        except RuntimeError:
            pass
        return paths
    md_path = folder / f"{labels(language)['chat_file']}-{stamp}.md"
    md_path.write_text(conversation_markdown(answers, language), encoding="utf-8")
    return [str(md_path)]
