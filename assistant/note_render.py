"""The decision note (assistant.note) rendered as Markdown, Word (.docx, python-docx) and PDF (fpdf2).

Each renderer walks the same model: the title, a date/role line, sections with sub-headings, paragraphs
(body, quote, meta, warning, notice), bullet and numbered lists, and links; Word and PDF get real heading
and list styles and clickable links.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

from .note import Block, ItemList, Note, Paragraph, Span, SubHeading, texts


def link_target(url: str) -> str:
    """A URL safe as a link target in Word and PDF (lovdata.no's «§» percent-encoded)."""
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~")


# --- Markdown -----------------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_<>])")


def _md_escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_spans(spans: Sequence[Span]) -> str:
    out = []
    for span in spans:
        text = _md_escape(span.text)
        core = text.strip()
        if span.url:
            core = f"[{core}]({span.url.replace(' ', '%20').replace(')', '%29')})"
        if core and span.bold:
            core = f"**{core}**"
        if core and span.italic:
            core = f"*{core}*"
        lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
        out.append(f"{lead}{core}{trail}")
    return "".join(out)


def _md_block(block: Block) -> str:
    if isinstance(block, SubHeading):
        return f"### {_md_escape(block.text)}"
    if isinstance(block, ItemList):
        return "\n".join(f"{f'{i}.' if block.ordered else '-'} {_md_spans(item)}"
                         for i, item in enumerate(block.items, 1))
    text = _md_spans(block.spans)
    return f"> {text}" if block.style == "quote" else text


def note_markdown(note: Note) -> str:
    parts = [f"# {note.title}", _md_spans(note.meta)]
    for section in note.sections:
        parts.append(f"## {section.title}")
        parts += [_md_block(b) for b in section.blocks]
    if note.closing:
        parts.append("---")
        parts += [_md_block(p) for p in note.closing]
    return "\n\n".join(parts) + "\n"


# --- Word ---------------------------------------------------------------------------------------------------


def write_docx(note: Note, path: Path) -> Path:
    """A Word document with Title/Heading 1/Heading 2, List Bullet/List Number, Quote and real hyperlinks."""
    from docx import Document
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    doc = Document()
    for sec in doc.sections:
        sec.left_margin = sec.right_margin = Cm(2.5)
        sec.top_margin = sec.bottom_margin = Cm(2.2)
    language = "en-GB" if note.lang == "en" else "nb-NO"
    normal = doc.styles["Normal"]
    normal.font.size = Pt(11)
    lang_el = OxmlElement("w:lang")
    lang_el.set(qn("w:val"), language)
    normal.element.get_or_add_rPr().append(lang_el)  # Word spell-checks the note in its language
    link_style = doc.styles.add_style("Hyperlink", WD_STYLE_TYPE.CHARACTER)
    link_style.font.color.rgb = RGBColor(0x05, 0x63, 0xC1)
    link_style.font.underline = True
    doc.core_properties.title = note.title
    doc.core_properties.language = language
    doc.core_properties.author = "Samskap"

    def add_spans(paragraph: Any, spans: Sequence[Span], italic: bool = False, gray: bool = False) -> None:
        for span in spans:
            run = paragraph.add_run(span.text, style="Hyperlink" if span.url else None)
            run.bold = span.bold or None
            run.italic = span.italic or italic or None
            if gray and not span.url:
                run.font.color.rgb = RGBColor(0x55, 0x55, 0x55)
            if span.url:
                r_id = paragraph.part.relate_to(link_target(span.url), _HYPERLINK, is_external=True)
                link = OxmlElement("w:hyperlink")
                link.set(qn("r:id"), r_id)
                paragraph._p.append(link)
                link.append(run._r)  # moves the run inside the link

    def add_block(block: Block) -> None:
        if isinstance(block, SubHeading):
            doc.add_heading(block.text, level=2)
        elif isinstance(block, ItemList):
            for item in block.items:
                add_spans(doc.add_paragraph(style="List Number" if block.ordered else "List Bullet"), item)
        else:
            style = "Quote" if block.style == "quote" else None
            paragraph = doc.add_paragraph(style=style)
            add_spans(paragraph, block.spans, italic=block.style == "notice",
                      gray=block.style in ("meta", "notice"))
            if block.style in ("lead", "meta"):  # a label stays with its list, a law's facts with its quote
                paragraph.paragraph_format.keep_with_next = True
            if block.style == "warning":
                for run in paragraph.runs:
                    run.font.color.rgb = RGBColor(0x9C, 0x3D, 0x00)

    doc.add_heading(note.title, level=0)
    add_spans(doc.add_paragraph(), note.meta, gray=True)
    for section in note.sections:
        doc.add_heading(section.title, level=1)
        for block in section.blocks:
            add_block(block)
    if note.closing:
        doc.add_paragraph()
        for paragraph in note.closing:
            add_block(paragraph)
    doc.save(str(path))
    return path


_HYPERLINK = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"


# --- PDF ----------------------------------------------------------------------------------------------------

_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
# level → font size (pt), colour, space above and below (mm)
_HEADINGS = {0: (19.0, (20, 60, 110), 0.0, 1.5), 1: (13.5, (20, 60, 110), 5.0, 1.5), 2: (11.0, (25, 25, 25), 2.5, 0.8)}
_FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf",
               "BI": "DejaVuSans-BoldOblique.ttf"}
_INK, _GRAY, _ACCENT, _LINK, _WARN = (25, 25, 25), (90, 90, 90), (20, 60, 110), (5, 99, 193), (156, 61, 0)


def write_pdf(note: Note, path: Path) -> Path:
    """An A4 PDF: outline headings, left-aligned text, bullets with hanging indent, quotes, clickable links."""
    try:
        from fpdf import FPDF
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise RuntimeError("PDF-eksport krever pakken fpdf2 (pip install fpdf2).") from exc

    t = texts(note.lang)
    unicode_font = all((_FONT_DIR / f).exists() for f in _FONT_FILES.values())
    family = "DejaVu" if unicode_font else "Helvetica"

    class NotePDF(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(family, "", 8)
            self.set_text_color(*_GRAY)
            self.cell(0, 5, clean(f"{note.title} · {t['made_by']} · {t['page']} {self.page_no()}/{{nb}}"),
                      align="C")

    def clean(text: str) -> str:
        return text if unicode_font else text.encode("latin-1", "replace").decode("latin-1")

    pdf = NotePDF(format="A4")
    pdf.set_margins(22, 20, 22)
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_title(note.title)
    pdf.set_author("Samskap")
    pdf.set_lang("en" if note.lang == "en" else "nb-NO")
    if unicode_font:
        for style, name in _FONT_FILES.items():
            pdf.add_font("DejaVu", style, str(_FONT_DIR / name))
    pdf.set_font(family, "", 10.5)
    pdf.add_page()
    base = pdf.l_margin
    size, line = 10.5, 5.2

    def spans_at(spans: Sequence[Span], indent: float, italic: bool = False, color: tuple[int, int, int] = _INK,
                 font_size: float = size) -> None:
        """Write spans left-aligned from the current x; wrapped lines start at base + indent."""
        pdf.set_left_margin(base + indent)
        for span in spans:
            style = ("B" if span.bold else "") + ("I" if span.italic or italic else "")
            pdf.set_font(family, style, font_size)
            pdf.set_text_color(*(_LINK if span.url else color))
            text = clean(span.text)
            width = pdf.get_string_width(text)
            room = pdf.w - pdf.r_margin - pdf.get_x() - 2 * pdf.c_margin
            if span.url and width > room and width < pdf.w - pdf.r_margin - pdf.l_margin - 2 * pdf.c_margin:
                pdf.ln(line)  # a link starts a new line rather than breaking in two
            pdf.write(line, text, link=link_target(span.url) if span.url else "")
        pdf.ln(line)
        pdf.set_left_margin(base)

    def heading(text: str, level: int, keep: float = 22) -> None:
        """A heading in the PDF outline (bookmarks), kept on one page with `keep` mm of what follows."""
        font_size, color, above, below = _HEADINGS[level]
        pdf.set_font(family, "B", font_size)
        height = font_size * 0.5
        lines = len(cast(list[str], pdf.multi_cell(pdf.epw, height, clean(text), dry_run=True, output="LINES")))
        if pdf.get_y() > pdf.t_margin + 1:
            pdf.ln(above)
        if pdf.will_page_break(lines * height + keep):
            pdf.add_page()
        pdf.start_section(clean(text), level=level)
        pdf.set_text_color(*color)
        pdf.multi_cell(pdf.epw, height, clean(text), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(below)

    def block(item: Block) -> None:
        if isinstance(item, SubHeading):
            heading(item.text, 2, keep=28)
            return
        if isinstance(item, ItemList):
            for number, entry in enumerate(item.items, 1):
                mark = f"{number}." if item.ordered else ("•" if unicode_font else "-")
                pdf.set_font(family, "", size)
                pdf.set_text_color(*_INK)
                pdf.set_x(base + 2)
                pdf.cell(5 if not item.ordered else 6, line, mark)
                spans_at(entry, 8)
                pdf.ln(0.8)
            pdf.ln(1.2)
            return
        paragraph: Paragraph = item
        if paragraph.style == "quote":
            top, page = pdf.get_y(), pdf.page
            pdf.set_x(base + 6)
            spans_at(paragraph.spans, 6, italic=True, color=(45, 45, 45))
            if pdf.page == page:
                pdf.set_draw_color(170, 185, 205)
                pdf.set_line_width(0.8)
                pdf.line(base + 2, top + 0.4, base + 2, pdf.get_y() - 0.6)
            pdf.ln(2.2)
            return
        if paragraph.style == "lead":
            if pdf.will_page_break(18):  # keep the label with the first item under it
                pdf.add_page()
            pdf.ln(1)
        color = {"meta": _GRAY, "notice": _GRAY, "warning": _WARN}.get(paragraph.style, _INK)
        font_size = 9.5 if paragraph.style in ("meta", "notice") else size
        pdf.set_x(base)
        spans_at(paragraph.spans, 0, italic=paragraph.style == "notice", color=color, font_size=font_size)
        pdf.ln(1.8)

    heading(note.title, 0)
    spans_at(note.meta, 0, color=_GRAY, font_size=9.5)
    pdf.ln(1)
    for section in note.sections:
        starts_with_heading = bool(section.blocks) and isinstance(section.blocks[0], SubHeading)
        heading(section.title, 1, keep=40 if starts_with_heading else 22)
        for item in section.blocks:
            block(item)
    if note.closing:
        pdf.ln(3)
        pdf.set_draw_color(200, 200, 200)
        pdf.set_line_width(0.3)
        pdf.line(base, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.ln(3)
        for paragraph in note.closing:
            block(paragraph)
    pdf.output(str(path))
    return path
