"""Refusals, errors and notices of the service and the app's runtime (nb and en)."""

from __future__ import annotations

# Why a question is not answered (scope.check_scope, scope.judge_coverage), by refusal_reason code;
# off_topic_legal is the off_topic message for a legal question. {max} is the longest question accepted.
REFUSALS = {
    "nb": {
        "empty": "Skriv inn et spørsmål eller beskriv saken din, så hjelper jeg deg.",
        "too_long": "Spørsmålet er for langt (over {max} tegn). Korte ned teksten, eller beskriv "
        "saken med skjemaet.",
        "language": "Samskap svarer på norsk (bokmål og nynorsk) og engelsk. Skriv spørsmålet på ett av disse "
        "språkene. (Samskap answers in Norwegian and English; please ask in one of these languages.)",
        "prompt_extraction": "Jeg deler ikke instruksjonene mine. Spør meg gjerne om samskaping, metoder eller det "
        "juridiske handlingsrommet i en sak.",
        "off_topic": "Dette ligger utenfor det Samskap kan svare på. Jeg svarer på spørsmål om samskaping i "
        "kommuner, metoder, og lovene i korpuset (blant annet kommuneloven, forvaltningsloven, "
        "offentleglova, plan- og bygningsloven, personopplysningsloven og anskaffelsesregelverket).",
        "off_topic_legal": "Dette er et juridisk spørsmål utenfor det Samskap dekker. Samskap svarer på "
        "samskaping i kommuner og på lovene i korpuset (blant annet kommuneloven, forvaltningsloven, "
        "offentleglova, plan- og bygningsloven, personopplysningsloven og anskaffelsesregelverket). Lover og "
        "forskrifter på andre områder finner du på [lovdata.no](https://lovdata.no); spør etaten eller "
        "organet som har ansvaret for regelverket, om hva som gjelder i din sak.",
        "vague": "Hvilken sak gjelder det? Jeg trenger litt om saken for å kunne gi råd: hva dere vil oppnå, "
        "hvem som er med, og om kommunen skal fatte vedtak. For eksempel: «Vi vil lage et aktivitetstilbud "
        "for eldre som bor hjemme, sammen med frivilligsentralen og pårørende. Hvilken metode passer?»",
        "person": "Jeg vurderer ikke enkeltpersoner. Spør meg gjerne om samskaping, metoder eller regelverket.",
    },
    "en": {
        "empty": "Type a question or describe your case, and I will help.",
        "too_long": "The question is too long (over {max} characters). Shorten it, or describe "
        "the case with the form.",
        "language": "Samskap answers in Norwegian (Bokmål and Nynorsk) and English. Please ask your question in "
        "one of these languages.",
        "prompt_extraction": "I do not share my instructions. Ask me about co-creation, methods or the legal scope "
        "for a case.",
        "off_topic": "This is outside what Samskap can answer. I answer questions about co-creation in "
        "municipalities, methods, and the laws in the corpus (the Local Government Act, the Public "
        "Administration Act, the Freedom of Information Act, planning, data protection and "
        "procurement rules).",
        "off_topic_legal": "This is a legal question outside what Samskap covers. Samskap answers questions "
        "about co-creation in municipalities and the laws in its corpus (the Local Government Act, the Public "
        "Administration Act, the Freedom of Information Act, planning, data protection and procurement "
        "rules). Laws and regulations in other areas are on [lovdata.no](https://lovdata.no); ask the agency "
        "or body in charge of the rules what applies in your case.",
        "vague": "Which case is it about? I need a little about the case to give advice: what you want to "
        "achieve, who takes part, and whether the municipality makes a decision. For example: \"We want to "
        "create an activity offer for elderly people living at home, together with the volunteer centre and "
        "relatives. Which method fits?\"",
        "person": "I do not assess individuals. Ask me about co-creation, methods or the rules.",
    },
}

# The language model's part of an answer (service.Assistant).
WITHHELD = {
    "nb": "(Teksten er holdt tilbake fordi den inneholder instrukser rettet mot en språkmodell.)",
    "en": "(Text withheld because it contains instructions aimed at a language model.)",
}
WITHHELD_NOTICE = {
    "nb": "Kilde {numbers} inneholder tekst som ligner instrukser til en språkmodell. Den ble ikke sendt til "
    "språkmodellen, men er sitert som innhold.",
    "en": "Source {numbers} contains text that looks like instructions to a language model. It was not sent "
    "to the model, but is quoted as content.",
}
LLM_FALLBACK = {
    "nb": "Språkmodellen kunne ikke brukes til dette svaret, så svaret under er laget uten språkmodell, "
    "direkte fra kildene.",
    "en": "The language model could not be used for this answer, so the answer below was composed without it, "
    "directly from the sources.",
}

# The app's index runtime: background vectors and an unavailable index (runtime.Runtime).
VECTORS = {
    "nb": {
        "progress": "**Semantisk søk bygges:** {done} av {total} tekstbiter. Til da finner Samskap nye dokumenter "
        "bare på ordene i dem; appen bytter selv når vektorene er klare.",
        "failed": "⚠ Semantisk søk for nye dokumenter kunne ikke bygges ({error}). Samskap søker i dem på ord. "
        "Kjør `python -m assistant ingest` for å prøve igjen.",
    },
    "en": {
        "progress": "**Building semantic search:** {done} of {total} passages. Until then Samskap finds new "
        "documents by their words only; the app switches by itself when the vectors are ready.",
        "failed": "⚠ Semantic search for new documents could not be built ({error}). Samskap searches them by "
        "their words. Run `python -m assistant ingest` to try again.",
    },
}

UNAVAILABLE = {
    "nb": {
        "rebuild": "⚠ {detail} Indeksen bygges nå på nytt fra korpuset i bakgrunnen; det kan ta noen minutter. "
        "Still spørsmålet igjen om litt.",
        "rebuild_failed": "⚠ {detail} Forrige forsøk på å bygge indeksen på nytt mislyktes: {error} "
        "Et nytt forsøk er startet.",
        "retry": "⚠ Søket er midlertidig utilgjengelig: {detail} Prøv igjen om litt; appen kobler seg til "
        "på nytt av seg selv.",
    },
    "en": {
        "rebuild": "⚠ The search index is missing or damaged ({detail}) It is being rebuilt from the corpus "
        "in the background, which can take a few minutes. Please ask again shortly.",
        "rebuild_failed": "⚠ The search index is missing or damaged ({detail}) The last rebuild failed "
        "({error}); a new attempt has started.",
        "retry": "⚠ Search is temporarily unavailable ({detail}) Please try again shortly; the app "
        "reconnects by itself.",
    },
}
