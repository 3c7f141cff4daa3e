"""Every text the UI shows, in Norwegian bokmål and English, and the lookups that pick one."""

from __future__ import annotations

from ..answer import Lang

NLOD = "Inneholder data under NLOD 2.0, tilgjengeliggjort av Lovdata."

# Labels, hints and short messages, looked up with tr(lang, key).
TEXTS: dict[str, dict[str, str]] = {
    "nb": {
        "subtitle": "Veiviser for samskaping i kommunen – hvert svar viser kildene det bygger på.",
        "tab_chat": "Samtale",
        "tab_case": "Saksskjema",
        "tab_upload": "Dokumenter",
        "tab_about": "Om tjenesten",
        "chat": "Samtale",
        "question": "Spørsmål",
        "placeholder": "Skriv spørsmålet ditt, f.eks. «Må møtene i et oppgaveutvalg være åpne?»",
        "send": "Send",
        "new": "Ny samtale",
        "role": "Rolle",
        "verdict": "Vurdering",
        "methods": "Metoder",
        "legal": "Rettslig grunnlag",
        "citations": "Kilder – velg en rad for å se hele teksten",
        "detail": "Kildetekst",
        "detail_hint": "*Velg en kilde i tabellen for å se hele avsnittet.*",
        "no_verdict": "*Ingen vurdering ennå – beskriv en konkret sak, så vurderer Samskap om samskaping egner seg.*",
        "no_methods": "*Ingen metoder foreslått.*",
        "no_legal": "*Ingen lovbestemmelser sitert.*",
        "feedback": "Tilbakemelding på siste svar",
        "up": "✓ Nyttig",
        "down": "✗ Ikke nyttig",
        "comment": "Kommentar (valgfritt – ikke skriv personopplysninger)",
        "store_q": "Lagre spørsmålet mitt sammen med tilbakemeldingen",
        "thanks": "Takk! Tilbakemeldingen er lagret{q}.",
        "with_q": " sammen med spørsmålet",
        "without_q": " uten spørsmålet",
        "no_answer": "Still et spørsmål først.",
        "export": "Eksport",
        "export_note": "Lag beslutningsnotat",
        "export_chat": "Last ned samtalen",
        "files": "Filer",
        "case_intro": "Beskriv saken, så vurderer Samskap om samskaping passer, og hvilken metode dere bør velge.",
        "problem": "Hva er utfordringen eller oppgaven?",
        "involved": "Hvem skal være med?",
        "authority": "Skal kommunen treffe et vedtak (utøve myndighet) i saken?",
        "timeframe": "Tidsramme",
        "timeframe_hint": "f.eks. høsten 2026",
        "personal": "Behandles det personopplysninger?",
        "case_send": "Vurder saken",
        "clarify_form": "Fyll ut saksskjemaet i stedet",
        "yes": "Ja",
        "no": "Nei",
        "unknown": "Vet ikke",
        "upload_intro": "Last opp kommunens egne strategier og planer (PDF, Markdown eller tekst, "
        "inntil {mb:g} MB og {pages} sider per fil). De blir søkbare og kan siteres i svarene.",
        "upload_files": "Filer",
        "upload_send": "Last opp og indekser",
        "about": "Om tjenesten",
        "case_first": "Beskriv saken først.",
        "passages": "tekstbiter",
        "version": "versjon",
        "read_lovdata": "Les på lovdata.no",
        "repealed": "Bestemmelsen er opphevet.",
    },
    "en": {
        "subtitle": "A guide to co-creation in the municipality – every answer shows the sources it rests on.",
        "tab_chat": "Conversation",
        "tab_case": "Case form",
        "tab_upload": "Documents",
        "tab_about": "About",
        "chat": "Conversation",
        "question": "Question",
        "placeholder": "Type your question, e.g. “Must the meetings of a task committee be open?”",
        "send": "Send",
        "new": "New conversation",
        "role": "Role",
        "verdict": "Assessment",
        "methods": "Methods",
        "legal": "Legal basis",
        "citations": "Sources – select a row to see the full text",
        "detail": "Source text",
        "detail_hint": "*Select a source in the table to see the full passage.*",
        "no_verdict": "*No assessment yet – describe a concrete case and Samskap will assess whether co-creation fits.*",
        "no_methods": "*No methods suggested.*",
        "no_legal": "*No statutory provisions cited.*",
        "feedback": "Feedback on the last answer",
        "up": "✓ Helpful",
        "down": "✗ Not helpful",
        "comment": "Comment (optional – do not enter personal data)",
        "store_q": "Store my question with the feedback",
        "thanks": "Thank you! Your feedback was saved{q}.",
        "with_q": " with the question",
        "without_q": " without the question",
        "no_answer": "Ask a question first.",
        "export": "Export",
        "export_note": "Create decision note",
        "export_chat": "Download conversation",
        "files": "Files",
        "case_intro": "Describe the case and Samskap will assess whether co-creation fits and which method to use.",
        "problem": "What is the challenge or task?",
        "involved": "Who will take part?",
        "authority": "Will the municipality make an administrative decision (exercise authority) in the case?",
        "timeframe": "Timeframe",
        "timeframe_hint": "e.g. autumn 2026",  # not applied on a language switch yet (the field keeps the nb hint)
        "personal": "Will personal data be processed?",
        "case_send": "Assess the case",
        "clarify_form": "Fill in the case form instead",
        "yes": "Yes",
        "no": "No",
        "unknown": "Don't know",
        "upload_intro": "Upload the municipality's own strategies and plans (PDF, Markdown or text, "
        "up to {mb:g} MB and {pages} pages per file). They become searchable and citable.",
        "upload_files": "Files",
        "upload_send": "Upload and index",
        "about": "About the service",
        "case_first": "Describe the case first.",
        "passages": "passages",
        "version": "version",
        "read_lovdata": "Read on lovdata.no",
        "repealed": "This provision is repealed.",
    },
}
ROLE_LABEL = {"nb": {"prosjektleder": "Prosjektleder", "jurist": "Jurist"},
              "en": {"prosjektleder": "Project leader", "jurist": "Lawyer"}}
INVOLVED = {
    "nb": ["innbyggere", "frivillige", "folkevalgte", "næringsliv", "leverandører"],
    "en": ["citizens", "volunteers", "elected representatives", "local business", "suppliers"],
}

# The case form written out as one question (see render.compose_case_question).
CASE_SENTENCES = {
    "nb": {
        "case": "Vår sak: {}",
        "involved": "Involverte: {}.",
        "timeframe": "Tidsramme: {}.",
        "personal_data": "Det skal behandles personopplysninger om innbyggere.",
        "ask": "Egner samskaping seg, hvilken metode bør vi bruke, og hva er handlingsrommet etter loven?",
    },
    "en": {
        "case": "Our case: {}",
        "involved": "Involved: {}.",
        "timeframe": "Timeframe: {}.",
        "personal_data": "Personal data about citizens will be processed.",
        "ask": "Is co-creation suited, which method should we use, and what does the law allow?",
    },
}

DRAFT = {
    "nb": "*Utkast fra språkmodellen – kontrolleres mot kildene før det vises ferdig.*",
    "en": "*Draft from the language model – checked against the sources before it is final.*",
}

CITATION_HEADERS = {"nb": ["n", "Kilde", "Tittel", "Versjon"], "en": ["n", "Source", "Title", "Version"]}
CARD_HEADS = {"nb": ("Hvorfor", "Første steg", "Vær obs på"), "en": ("Why", "First steps", "Watch out for")}

ABOUT = {
    "nb": {
        "not_loaded": "Indeksen er ikke lastet.",
        "index": "**Indeks:** {total} tekstbiter ({counts}), bygget {created}.",
        "documents": "Dokumenter",
        "laws": "Lover og forskrifter",
        "fetched_unknown": "hentedato ikke registrert",
        "update_laws": "*Datoen etter hver lov viser når lovteksten ble hentet fra Lovdata. Nyere tekst hentes med "
        "`python -m assistant update-laws`; se også lovdata.no.*",
        "technology": "Teknikk",
        "llm": "Språkmodell",
        "no_llm": "- Språkmodell: ingen – svarene settes sammen uten språkmodell, direkte fra kildene.",
        "disclaimer": "*Samskap gir veiledning, ikke juridisk rådgivning. Kontroller gjeldende lovtekst på lovdata.no.*",
    },
    "en": {
        "not_loaded": "The index is not loaded.",
        "index": "**Index:** {total} passages ({counts}), built {created}.",
        "documents": "Documents",
        "laws": "Laws and regulations",
        "fetched_unknown": "fetch date not recorded",
        "update_laws": "*The date after each law shows when its text was fetched from Lovdata. Newer text is fetched "
        "with `python -m assistant update-laws`; see also lovdata.no.*",
        "technology": "Technology",
        "llm": "Language model",
        "no_llm": "- Language model: none – answers are composed directly from the sources.",
        "disclaimer": "*Samskap gives guidance, not legal advice. Check the text in force on lovdata.no.*",
    },
}
SOURCE_KINDS = {
    "nb": {"thesis": "masteroppgaven", "law": "lovtekst", "strategy": "strategier"},
    "en": {"thesis": "thesis", "law": "law", "strategy": "strategies"},
}

# The upload tab: progress, files turned away before indexing, and the report after it.
UPLOAD = {
    "nb": {
        "none_chosen": "Velg minst én fil.",
        "none_added": "**Ingen filer ble lagt til:**",
        "saving": "Lagrer filene",
        "reading": "Leser filene",
        "indexing": "Bygger indeksen",
        "added": "**Lagt til i indeksen:**",
        "unusable": "**Disse filene kunne ikke brukes:**",
        "total": "Indeksen har nå {total} tekstbiter.",
        "new": " Nye tekstbiter i denne kjøringen: {n}.",
        "background": "De nye dokumentene er søkbare på ord allerede. Semantisk søk for {n} tekstbiter "
        "bygges i bakgrunnen (se linjen øverst); appen bytter selv når det er klart.",
    },
    "en": {
        "none_chosen": "Choose at least one file.",
        "none_added": "**No files were added:**",
        "saving": "Saving the files",
        "reading": "Reading the files",
        "indexing": "Building the index",
        "added": "**Added to the index:**",
        "unusable": "**These files could not be used:**",
        "total": "The index now holds {total} passages.",
        "new": " New in this run: {n}.",
        "background": "The new documents can already be searched by their words. Semantic search for {n} "
        "passages is being built in the background (see the line at the top); the app switches by itself "
        "when it is ready.",
    },
}


def ui_lang(lang: str | None) -> Lang:
    """The interface language: English when asked for, else bokmål."""
    return "en" if lang == "en" else "nb"


def tr(lang: str | None, key: str) -> str:
    """One entry of TEXTS in the interface language."""
    return TEXTS[ui_lang(lang)][key]


def yes_no(lang: str | None) -> list[str]:
    """The choices of the case form's yes/no questions."""
    t = TEXTS[ui_lang(lang)]
    return [t["yes"], t["no"], t["unknown"]]


def role_choices(lang: str | None) -> list[tuple[str, str]]:
    """The role picker's choices: (label, role)."""
    return [(label, role) for role, label in ROLE_LABEL[ui_lang(lang)].items()]
