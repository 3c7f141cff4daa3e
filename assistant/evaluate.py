"""Evaluation: run the question set (CONTRACTS.md §4) through the assistant and score it (§5)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, cast

import yaml

from .answer import LANGS, ROLES, Answer, Lang, Role
from .config import Settings
from .eval_metrics import Outcome, Question, retrieval_result, score

Turn = tuple[str, str]  # (question, answer text), as Assistant.ask takes its history
EXPECTATIONS = ("sources", "methods", "fit", "laws", "mention", "refuse")
# (flag, result key, "min" or "max"): a --min-… / --max-… flag fails the run when the metric misses it.
THRESHOLDS: tuple[tuple[str, str, str], ...] = (
    ("--min-recall", "recall_at_k", "min"),
    ("--min-mrr", "mrr", "min"),
    ("--min-method-hit", "method_hit_at_3", "min"),
    ("--min-fit", "fit_accuracy", "min"),
    ("--min-law-recall", "law_recall", "min"),
    ("--min-lead", "lead_at_2", "min"),
    ("--max-answer-chars-p50", "answer_chars.p50", "max"),
    ("--max-answer-chars-p95", "answer_chars.p95", "max"),
    ("--min-mention", "mention_recall", "min"),
    ("--min-refusal-recall", "refusal_recall", "min"),
    ("--max-false-refusals", "false_refusals", "max"),
    ("--min-faithfulness", "faithfulness", "min"),
)
MARGIN_FLAG = "--min-margin-over-baselines"  # recall@k above every baseline's, in the same run


class QuestionsError(ValueError):
    """The question file cannot be used; the message is Norwegian and names the item."""


class Asker(Protocol):
    """Anything with Assistant.ask's signature (the real Assistant, or a fake in tests)."""

    def ask(
        self, question: str, role: Role = ..., lang: Lang | None = ..., history: Sequence[Turn] = ...
    ) -> Answer: ...


def load_questions(path: Path) -> list[Question]:
    """Read and check a §4 question file; a follow-up must name an earlier item."""
    try:
        items = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise QuestionsError(f"Kunne ikke lese spørsmålsfilen {path}: {exc}") from exc
    if not isinstance(items, list) or not items:
        raise QuestionsError(f"{path} må være en ikke-tom YAML-liste med spørsmål.")
    questions: list[Question] = []
    seen: set[str] = set()
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not item.get("id") or not str(item.get("question", "")).strip():
            raise QuestionsError(f"Element {number} i {path} mangler «id» eller «question».")
        qid = str(item["id"])
        if qid in seen:
            raise QuestionsError(f"Spørsmåls-id-en {qid} finnes flere ganger i {path}.")
        role, lang = item.get("role", "prosjektleder"), item.get("lang")
        if role not in ROLES or lang not in (None, *LANGS):
            raise QuestionsError(f"{qid}: ukjent rolle «{role}» eller språk «{lang}».")
        parent = item.get("follow_up_of")
        if parent is not None and str(parent) not in seen:
            raise QuestionsError(f"{qid}: follow_up_of «{parent}» må være et tidligere spørsmål i filen.")
        expect = item.get("expect") or {}
        unknown = sorted(set(expect) - set(EXPECTATIONS))
        if unknown:
            raise QuestionsError(f"{qid}: ukjent forventning {', '.join(unknown)}.")
        seen.add(qid)
        questions.append(
            Question(
                id=qid,
                question=str(item["question"]),
                lang=cast(Lang | None, lang),
                role=cast(Role, role),
                category=str(item.get("category") or "annet"),
                expect=expect,
                follow_up_of=str(parent) if parent is not None else None,
            )
        )
    return questions


def ask_all(assistant: Asker, questions: Sequence[Question], progress: bool = True) -> list[Outcome]:
    """Ask every question once; a follow-up gets the earlier question(s) and answer(s) as history."""
    from tqdm import tqdm

    by_id = {q.id: q for q in questions}
    texts: dict[str, str] = {}
    outcomes: list[Outcome] = []
    for item in tqdm(questions, desc="Spørsmål", unit=" spm", file=sys.stderr, disable=not progress):
        history: list[Turn] = []
        parent = item.follow_up_of
        while parent is not None:  # load_questions guarantees the chain points backwards
            earlier = by_id[parent]
            history.insert(0, (earlier.question, texts[earlier.id]))
            parent = earlier.follow_up_of
        started = time.perf_counter()
        answer = assistant.ask(item.question, role=item.role, lang=item.lang, history=history)
        outcomes.append(Outcome.from_answer(answer, (time.perf_counter() - started) * 1000))
        texts[item.id] = answer.text
    return outcomes


def evaluate(
    settings: Settings,
    questions: Sequence[Question],
    k: int = 5,
    baselines: bool = True,
    progress: bool = True,
) -> dict[str, Any]:
    """Run the product (and the baselines) on the questions and return the §5 result."""
    from .index import open_index
    from .service import Assistant

    index = open_index(settings)
    outcomes = ask_all(Assistant(settings, index=index), questions, progress)
    result = score(questions, outcomes, k, index)
    result["run"] = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "index_generation": index.generation,
        "embedder": index.manifest["embedder"]["id"],
        "engine": "llm" if settings.llm_base_url else "offline",
    }
    if baselines:
        from .eval_baselines import run_baselines

        runs = run_baselines(settings, index, [q.question for q in questions], k, progress)
        result["baselines"] = {
            name: retrieval_result(questions, [Outcome(retrieved=keys, latency_ms=ms) for keys, ms in hits], k)
            for name, hits in runs.items()
        }
    return result


def _metric(result: Mapping[str, Any], name: str) -> Any:
    """A metric by name; 'answer_chars.p50' reads a nested value."""
    value: Any = result
    for part in name.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def missed_thresholds(result: Mapping[str, Any], args: argparse.Namespace) -> list[str]:
    """Norwegian messages for every --min-…/--max-… threshold the result misses."""
    missed = []
    for flag, metric, kind in THRESHOLDS:
        limit = getattr(args, _dest(flag), None)
        if limit is None:
            continue
        value = _metric(result, metric)
        if value is None:
            missed.append(f"{flag} {limit}: {metric} kunne ikke måles (ingen spørsmål har den forventningen).")
        elif kind == "min" and value < limit:
            missed.append(f"{flag} {limit}: {metric} = {value} er under terskelen.")
        elif kind == "max" and value > limit:
            missed.append(f"{flag} {limit}: {metric} = {value} er over terskelen.")
    margin = getattr(args, _dest(MARGIN_FLAG), None)
    if margin is not None:
        if not result.get("baselines"):
            missed.append(f"{MARGIN_FLAG} {margin}: krever grunnlinjene (kjør uten --no-baselines).")
        for name, baseline in result.get("baselines", {}).items():
            gap = round(result["recall_at_k"] - baseline["recall_at_k"], 3)
            if gap < margin:
                missed.append(f"{MARGIN_FLAG} {margin}: recall_at_k er bare {gap} over {name}.")
    return missed


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def apply_threshold_file(args: argparse.Namespace, path: Path) -> None:
    """Fill the thresholds not given on the command line from a YAML file of `flag-name: value`."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise QuestionsError(f"Kan ikke lese terskelfilen {path}: {exc}") from exc
    known = {flag.lstrip("-") for flag, _, _ in THRESHOLDS} | {MARGIN_FLAG.lstrip("-")}
    if not isinstance(data, dict) or set(data) - known:
        unknown = ", ".join(sorted(set(data) - known)) if isinstance(data, dict) else "ikke en tabell"
        raise QuestionsError(f"Ukjente terskler i {path}: {unknown}. Gyldige: {', '.join(sorted(known))}.")
    for name, value in data.items():
        if getattr(args, _dest(name), None) is None:
            setattr(args, _dest(name), value)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `python -m assistant eval`."""
    parser.add_argument("--questions", type=Path, default=Path("evals/questions.yaml"))
    parser.add_argument("--k", type=int, default=5, help="antall treff som teller for recall og MRR")
    parser.add_argument("--json", type=Path, default=None, help="skriv resultatet (JSON) hit")
    parser.add_argument("--no-baselines", action="store_true", help="hopp over grunnlinjene")
    parser.add_argument("--report-dir", type=Path, default=Path("evals/reports"))
    for flag, metric, kind in THRESHOLDS:
        kind_of = int if metric == "false_refusals" else float
        parser.add_argument(
            flag, type=kind_of, default=None, help=f"{'minste' if kind == 'min' else 'største'} {metric}"
        )
    parser.add_argument(MARGIN_FLAG, type=float, default=None, help="minste avstand i recall_at_k til grunnlinjene")
    parser.add_argument(
        "--thresholds", type=Path, default=None, help="YAML-fil med terskler (flagg på kommandolinjen går foran)"
    )


def run_command(settings: Settings, args: argparse.Namespace) -> int:
    """`python -m assistant eval`: run, write JSON/report/chart, check thresholds."""
    from .eval_report import summary_text, write_chart, write_markdown

    try:
        questions = load_questions(args.questions)
        if args.thresholds:
            apply_threshold_file(args, args.thresholds)
    except QuestionsError as exc:
        print(f"Feil: {exc}", file=sys.stderr)
        return 2
    if args.k < 1:
        print("Feil: --k må være minst 1.", file=sys.stderr)
        return 2
    result = evaluate(settings, questions, args.k, baselines=not args.no_baselines)
    result["run"]["questions_file"] = str(args.questions)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    args.report_dir.mkdir(parents=True, exist_ok=True)
    write_markdown(result, args.report_dir / "report.md")
    chart = args.report_dir / "metrics.png"
    try:
        write_chart(result, chart)
    except ImportError:  # matplotlib is an optional extra: the numbers matter, the figure is a bonus
        print("Figuren ble ikke laget: matplotlib er ikke installert (`pip install matplotlib`).", file=sys.stderr)
        chart = None
    print(summary_text(result))
    print(
        f"Rapport: {args.report_dir / 'report.md'}"
        + (f", figur: {chart}" if chart else "")
        + (f", JSON: {args.json}" if args.json else "")
    )
    missed = missed_thresholds(result, args)
    for message in missed:
        print(f"Terskel ikke nådd: {message}", file=sys.stderr)
    return 1 if missed else 0
