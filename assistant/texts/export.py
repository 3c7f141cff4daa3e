"""The words of exports: the conversation file and the decision note (nb and en)."""

from __future__ import annotations

from typing import Any

EXPORT_TEXTS = {
    "nb": {
        "conversation": "Samtale med Samskap",
        "question": "Spørsmål",
        "short": "Kort svar",
        "details": "Utdypning",
        "date": "Dato",
        "sources": "Kilder",
        "version": "versjon",
        "note_file": "beslutningsnotat",
        "chat_file": "samtale",
    },
    "en": {
        "conversation": "Conversation with Samskap",
        "question": "Question",
        "short": "Short answer",
        "details": "Details",
        "date": "Date",
        "sources": "Sources",
        "version": "version",
        "note_file": "decision-note",
        "chat_file": "conversation",
    },
}

NOTE_TEXTS: dict[str, dict[str, Any]] = {
    "nb": {
        "title": "Beslutningsnotat",
        "date": "Dato",
        "role": "Rolle",
        "roles": {"prosjektleder": "Prosjektleder", "jurist": "Jurist"},
        "question": "Spørsmål",
        "case": "Saken",
        "refused": "Ikke besvart",
        "short": "Kort svar",
        "basis": "Grunnlag",
        "assessment": "Vurdering",
        "fit": "Egner saken seg for samskaping?",
        "status": {"met": "Oppfylt", "not_met": "Ikke oppfylt", "unknown": "Uavklart"},
        "legal": "Rettslig grunnlag",
        "version": "Versjon",
        "method": "Anbefalt framgangsmåte",
        "why": "Hvorfor",
        "steps": "Første steg",
        "caveats": "Vær obs på",
        "alternatives": "Andre aktuelle metoder",
        "open": "Åpne spørsmål til kommuneadvokaten",
        "sources": "Kilder",
        "fetched": "Lovtekstene i Samskap er hentet {date} (Lovdata, NLOD 2.0). Versjonen står ved hver paragraf.",
        "fetched_updated": "Lovtekstene i Samskap er hentet mellom {first} og {last} (Lovdata, NLOD 2.0); «Om "
        "tjenesten» viser datoen for hver lov. Versjonen står ved hver paragraf.",
        "made_by": "Laget med Samskap",
        "page": "side",
    },
    "en": {
        "title": "Decision note",
        "date": "Date",
        "role": "Role",
        "roles": {"prosjektleder": "Project lead", "jurist": "Lawyer"},
        "question": "Question",
        "case": "The case",
        "refused": "Not answered",
        "short": "Short answer",
        "basis": "Basis",
        "assessment": "Assessment",
        "fit": "Is co-creation suited to the case?",
        "status": {"met": "Met", "not_met": "Not met", "unknown": "Unclear"},
        "legal": "Legal basis",
        "version": "Version",
        "method": "Recommended approach",
        "why": "Why",
        "steps": "First steps",
        "caveats": "Watch out for",
        "alternatives": "Other relevant methods",
        "open": "Open questions for the municipal lawyer",
        "sources": "Sources",
        "fetched": "The law texts in Samskap were fetched on {date} (Lovdata, NLOD 2.0). Each paragraph shows "
        "its version.",
        "fetched_updated": "The law texts in Samskap were fetched between {first} and {last} (Lovdata, NLOD 2.0); "
        "«About» shows the date for each law. Each paragraph shows its version.",
        "made_by": "Made with Samskap",
        "page": "page",
    },
}
