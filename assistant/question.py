"""The parsed question: the user's text read once, then handed to retrieval, advisor and composer.

Nothing downstream re-detects the language, re-finds the named laws or re-tokenises the question.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from .answer import Lang, Role
from .lookup import mentioned_laws
from .query import Query, detect_language, is_fit_question
from .textproc import tokenize, words

Turn = tuple[str, str]  # (user question, assistant answer text)

# A short question, or one that points back ("hva med …", "det", "utvalget"), is read together with
# the previous question of the conversation.
_FOLLOW_UP = re.compile(
    r"^(?:hva med|og |men |da\b|what about|and |but |how about)|\b(?:da|det|dette|slike|utvalget|den|those|that|it)\b",
    re.IGNORECASE,
)
# Content words (stopwords left out) at or under which a question is too short to stand alone («Og hvem
# kan velges?»). 8 was too many: «Kan en kommunalsjef velges som medlem av et utvalg som kommunestyret
# oppretter?» has 6 and is a question of its own; read with «Hva er samskaping?» before it, it became a
# co-creation case and got a fit verdict. Every follow-up in the question sets has ≤ 6 or a word that
# points back.
FOLLOW_UP_WORDS = 5

# The question speaks about co-creating in this case ("samskape med naboene", "passer samskaping"):
# together with the case markers below it makes the question a case for the fit verdict.
_CO_CREATING_CASE = re.compile(
    r"pass(?:er|ar) samskaping|egner (?:samskaping )?seg|egnar seg|sak for samskaping|samskape om|"
    r"co-creation (?:a )?(?:good )?fit|does co-creation fit|suited for co-creation|as a co-creation process|"
    r"samskapingsprosess|samskape med|(?:vil|kan) samskaping fungere|fungerer samskaping|"
    r"(?:would|does|will|could|can) co-creation work",
    re.IGNORECASE,
)
_CASE_MARKERS = re.compile(
    r"(?<![\wæøå])(?:vi|vår|vårt|våre|oss|kommunen (?:skal|vil|har)|we|our|us)(?![\wæøå])", re.IGNORECASE
)
_NYNORSK_WE = re.compile(r"(?<![\wæøå])me(?![\wæøå])", re.IGNORECASE)  # «me» is «vi» in nynorsk, «me» in English


@dataclass(frozen=True)
class ParsedQuestion:
    """One user question as every stage needs it."""

    text: str  # the cleaned question, as the user wrote it
    lang: Lang  # the answer's language: the user's choice, else the text's
    text_lang: Lang  # the language the text is written in (detected once)
    role: Role
    history: tuple[Turn, ...] = ()
    follow_up: bool = False  # read together with the previous question
    context: str = ""  # the text, preceded by the previous question for a follow-up
    stems: tuple[str, ...] = ()  # stemmed content words of the context
    laws: tuple[str, ...] = ()  # law ids the context names
    query: Query | None = None  # the retrieval form (named paragraphs, weighted terms, facets)
    co_creating_case: bool = False  # speaks about co-creating in this case
    case_markers: bool = False  # "vi", "vår", "kommunen skal": the asker's own case

    @property
    def lowered(self) -> str:
        return self.context.lower()

    @property
    def search_text(self) -> str:
        """What retrieval searches: the question, then the previous one for a follow-up."""
        return f"{self.text} {self.history[-1][0]}" if self.follow_up else self.text


Analyzer = Callable[[str, Lang, Sequence[str]], Query]  # (search text, language, named laws)


def parse_question(
    text: str,
    role: Role = "prosjektleder",
    lang: Lang | None = None,
    history: Sequence[Turn] = (),
    analyze: Analyzer | None = None,
) -> ParsedQuestion:
    """Read the question once: language, follow-up context, stems, named laws and the retrieval query.

    `analyze` turns the search text into the retriever's Query (Retriever.analyze); without it the
    question has no retrieval form (scope checks and refusals need none).
    """
    text_lang = detect_language(text)
    follow_up = bool(history) and (len(words(text)) <= FOLLOW_UP_WORDS or bool(_FOLLOW_UP.search(text)))
    context = f"{history[-1][0]}\n{text}" if follow_up else text
    parsed = ParsedQuestion(
        text=text,
        lang=lang or text_lang,
        text_lang=text_lang,
        role=role,
        history=tuple(history),
        follow_up=follow_up,
        context=context,
        stems=tuple(tokenize(context)),
        laws=tuple(mentioned_laws(context)),
        co_creating_case=bool(_CO_CREATING_CASE.search(context)),
        case_markers=bool(_CASE_MARKERS.search(context) or (text_lang == "nb" and _NYNORSK_WE.search(context))),
    )
    if analyze is None:
        return parsed
    return replace(parsed, query=search_query(parsed, analyze))


def search_query(parsed: ParsedQuestion, analyze: Analyzer) -> Query:
    """The retriever's form of the question. Legal staff ask about the scope for action, so their
    questions search law first (retrieve.Tuning.law_bonus) even in everyday words, unless they ask
    whether co-creation fits."""
    query = analyze(parsed.search_text, parsed.text_lang, parsed.laws)
    if parsed.role == "jurist" and not query.legal and not is_fit_question(parsed.search_text):
        query = replace(query, legal=True)
    return query
