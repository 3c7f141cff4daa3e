"""The parts of an answer as Markdown: the law section, the fit section, method cards and first steps, the
checklist, a named paragraph's full text, further passages and the source list. The composer
(compose.py) decides what goes where; these only write it, numbering citations in the order called.
"""

from __future__ import annotations

from collections.abc import Sequence

from .advisor import FitAssessment, MethodMatch
from .answer import Basis, Citation, Lang, MethodAdvice
from .catalogue import Catalogue, Claim, Method
from .evidence import (
    CitationBook,
    Sentence,
    basis_of,
    best_per_passage,
    best_quote,
    clip,
    sentences,
    short_title,
)
from .retrieve import Hit
from .textproc import tokenize
from .texts.answer import BASIS_LABEL, KIND_LABEL, STATUS_LABEL, VERDICT_LABEL, T, label

ROLE_QUOTE = 320  # characters of a quote in the law section and the further passages
MORE_PASSAGES = 10  # retrieved passages listed in the details when the answer has not cited them


def relevant(items: list[Claim], question: str, lang: Lang, n: int) -> list[Claim]:
    asked = set(tokenize(question))
    return sorted(items, key=lambda it: -len(asked & set(tokenize(it.text(lang)))))[:n]


def claim_text(item: Claim, book: CitationBook, lang: Lang) -> str:
    lead = f"{label(item.basis, lang)}: " if item.source_note else ""  # Samskap's inference says so
    return f"{lead}{item.text(lang)} {book.cite_all(list(item.cites), item.text(lang))}".strip()


def law_section(book: CitationBook, lang: Lang, limit: int, shown: str = "") -> list[str]:
    """The law paragraphs cited so far, quoted with kind, version and link (the lawyer's section); a quote
    already `shown` (in the summary or a key point) is not repeated."""
    laws = [c for c in book.items if c.basis == "lov" or c.key.startswith(("lov/", "forskrift/"))][:limit]
    if not laws:
        return []
    lines = [f"### {T[lang]['legal']}"]
    for c in laws:
        kind = f" · {KIND_LABEL[lang][c.kind]}" if c.kind in KIND_LABEL[lang] else ""
        warning = f"\n  ⚠ {c.warning}" if c.warning else ""
        quote = "" if f"«{c.quote[:60]}" in shown else f"\n  > «{clip(c.quote, ROLE_QUOTE)}»"
        lines.append(f"- **{c.title}** [{c.number}]{kind} · {c.version} · [lovdata.no]({c.url}){quote}{warning}")
    return ["\n".join(lines)]


def fit_section(fit: FitAssessment | None, book: CitationBook, lang: Lang, reasons: int = 9) -> list[str]:
    if fit is None:
        return []
    lines = [f"### {T[lang]['fit']} {VERDICT_LABEL[lang][fit.verdict]}"]
    for reason in fit.reasons[:reasons]:
        basis: Basis = "lov" if all(c.startswith(("lov/", "forskrift/")) for c in reason.cites) else "forskning"
        lines.append(f"- {label(basis, lang)}: {reason.text} {book.cite_all(reason.cites, reason.text)}")
    return ["\n".join(lines)]


def criteria_section(fit: FitAssessment | None, lang: Lang) -> list[str]:
    """The fit criteria with their status and what decided each (the reasons, cited, are in the fit section)."""
    if fit is None or not fit.criteria:
        return []
    lines = [f"### {T[lang]['criteria']}"]
    for c in fit.criteria:
        lines.append(f"- **{STATUS_LABEL[lang][c.status]}** · {c.label}" + (f" — {c.evidence}" if c.evidence else ""))
    return ["\n".join(lines)]


def clarify_line(fit: FitAssessment | None, lang: Lang) -> str:
    """The question back when a deciding criterion is unknown, with its answer options."""
    if fit is None or fit.clarify is None:
        return ""
    options = " / ".join(fit.clarify.options)
    return f"**{T[lang]['clarify']}:** {fit.clarify.question}" + (f" ({options})" if options else "")


def brief_text(item: Claim, book: CitationBook, lang: Lang) -> str:
    """A claim's first sentence with its first source (the full claim is in the details)."""
    first = (sentences(item.text(lang), 0) or [item.text(lang)])[0]
    lead = f"{label(item.basis, lang)}: " if item.source_note else ""
    return f"{lead}{first} {book.cite_all(list(item.cites[:1]), first)}".strip()


def methods_brief(catalogue: Catalogue, methods: list[MethodMatch], book: CitationBook, lang: Lang) -> list[str]:
    """One or two methods with their first steps, in short (the project leader's section)."""
    if not methods:
        return []
    t = T[lang]
    lines = [f"### {t['method_steps']}"]
    for number, match in enumerate(methods, start=1):
        method = catalogue.method(match.id)
        lines.append(f"{number}. **{method.name.text(lang)}** — {label('forskning', lang)}: "
                     f"{brief_text(method.summary, book, lang)}")
        lines += [f"   - {t['start']}: {brief_text(step, book, lang)}" for step in method.steps[: 2 if number == 1 else 1]]
    return ["\n".join(lines)]


def method_advice(entry: Method, match: MethodMatch, book: CitationBook, lang: Lang, question: str) -> MethodAdvice:
    why = [claim_text(entry.summary, book, lang)] + [claim_text(i, book, lang) for i in relevant(entry.fits_when, question, lang, 2)]
    if match.cues:  # what in the question pointed here: Samskap's own inference, shown as such
        matched = ", ".join(f"«{c}»" for c in list(dict.fromkeys(match.cues))[:5])
        why.append(f"{label('vurdering', lang)}: " + (f"the case mentions {matched}" if lang == "en"
                                                       else f"saken nevner {matched}"))
    caveats = [claim_text(i, book, lang) for i in relevant(entry.org_caveats, question, lang, 2)]
    caveats += [claim_text(i, book, lang) for i in entry.not_when[:1]]
    cites = list(dict.fromkeys([*entry.summary.cites, *entry.evidence]))
    return MethodAdvice(
        id=entry.id,
        name=entry.name.text(lang),
        score=match.score,
        why=why,
        caveats=caveats,
        citations=[k for k in cites if k in book.index.by_key],
        steps=[claim_text(i, book, lang) for i in entry.steps[:3]],
    )


def method_section(methods: list[MethodAdvice], lang: Lang) -> list[str]:
    if not methods:
        return []
    t = T[lang]
    lines = [f"### {t['methods']}"]
    for number, method in enumerate(methods, start=1):
        lines.append(f"{number}. **{method.name}** — {label('forskning', lang)}: {method.why[0]}")
        lines += [f"   - {t['why']}: {why}" for why in method.why[1:]]
        lines += [f"   - {t['start']}: {step}" for step in method.steps]
        lines += [f"   - {t['caveats']}: {caveat}" for caveat in method.caveats]
    return ["\n".join(lines)]


def checklist(catalogue: Catalogue, methods: list[MethodMatch], book: CitationBook, lang: Lang) -> list[str]:
    items = catalogue.method(methods[0].id).legal_caveats[:5] if methods else []
    if not items:
        return []
    lines = [f"- [ ] {label('vurdering', lang)}: {claim_text(item, book, lang)}" for item in items]
    return [f"### {T[lang]['checklist']}\n" + "\n".join(lines)]


def law_text(keys: list[str], book: CitationBook, lang: Lang) -> list[str]:
    """Full text of paragraphs the question names, with version and link."""
    out = []
    for key in keys:
        first = book.index.by_key[key][0]
        marker = book.cite(key, quote=(sentences(first.text) or [""])[0])
        body = "\n".join("> " + line if line else ">" for line in first.text.splitlines())
        header = f"### {T[lang]['law_text']}: {first.title} {marker}\n{label('lov', lang)} · {first.version_label}"
        warning = next(c.warning for c in book.items if c.key == key)
        header += f" · [lovdata.no]({first.url})" + (f"\n\n⚠ {warning}" if warning else "")
        out.append(f"{header}\n\n{body}")
    return out


def passages(hits: Sequence[Hit], ranked: Sequence[Sentence], book: CitationBook, question: str, lang: Lang
              ) -> list[str]:
    """The other retrieved passages the answer has not cited, in retrieval order, each with its sentence
    that best matches the question."""
    best = {s.key: s.text for s in best_per_passage(ranked)}
    lines: list[str] = []
    for hit in hits[:MORE_PASSAGES]:
        if any(c.key == hit.key for c in book.items):
            continue
        quote = best.get(hit.key) or best_quote(book.index.by_key[hit.key], question)
        marker = book.cite(hit.key, quote=quote)
        title = short_title(hit.chunk.title)
        lines.append(f"- {label(basis_of(hit.chunk), lang)} · {title}: «{clip(quote, ROLE_QUOTE)}» {marker}")
    return [f"### {T[lang]['passages']}\n" + "\n".join(lines)] if lines else []


def sources(items: Sequence[Citation], lang: Lang, heading: str) -> str:
    if not items:
        return ""
    lines = [f"### {T[lang][heading]}"]
    for item in items:
        extra = f" · {item.version}" if item.version else ""
        lines.append(f"[{item.number}] {BASIS_LABEL[lang][item.basis]} · {short_title(item.title)}{extra}")
    return "\n".join(lines)
