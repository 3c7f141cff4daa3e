"""The public question set and the held-out sets side by side (reported, never gated).

    python -m assistant.eval_sets [--out test-artifacts/question-sets.md]

`make test` prints this after the test suite: the public set (and fresh set #2, since it was reported) is
for tuning, the held-out sets are only read here, so a rule that fits the tuned wording shows up as a gap
between the rows.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .config import load_settings
from .eval_metrics import denominators, score
from .evaluate import ask_all, load_questions

ROOT = Path(__file__).resolve().parent.parent
# Tuned on: the public set, and fresh set #2 since it was reported once (2026-12-02, README). Held out:
# the rest, never read while the product changes (legal_check6: situation-first legal questions written
# blind from the law text, session #6).
SETS = {"questions": "tuning", "heldout_fresh2": "tuning", "heldout": "held out", "heldout_fresh": "held out",
        "heldout_fresh3": "held out", "legal_check6": "held out"}
COLUMNS = (
    ("recall@5", "recall_at_k"), ("law recall", "law_recall"), ("lead@2", "lead_at_2"),
    ("method hit@3", "method_hit_at_3"), ("fit", "fit_accuracy"), ("refusal recall", "refusal_recall"),
    ("false refusals", "false_refusals"), ("clarify", "clarify_rate"),
)


def _cell(value: Any, n: int | None = None) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return str(value)
    return f"{value:.3f}" + (f" /{n}" if n else "")


def table(results: dict[str, dict[str, Any]], counts: dict[str, dict[str, int]] | None = None) -> str:
    """A Markdown table: one row per set, the §5 metrics as columns (each share with the number of cases
    it is taken over, when known), text length p50 last."""
    head = "| set | role | n | " + " | ".join(name for name, _ in COLUMNS) + " | text p50 |"
    rows = [head, "|" + "---|" * (len(COLUMNS) + 4)]
    for name, result in results.items():
        n = (counts or {}).get(name, {})
        cells = [_cell(result.get(metric), n.get(metric)) for _, metric in COLUMNS]
        chars = result.get("answer_chars", {}).get("p50")
        rows.append(f"| {name} | {SETS.get(name, '')} | {result['n_questions']} | " + " | ".join(cells)
                    + f" | {chars or 0:.0f} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "test-artifacts" / "question-sets.md")
    args = parser.parse_args(argv)
    from .index import open_index
    from .index.build import build_index
    from .service import Assistant

    settings = load_settings()
    build_index(settings)  # up to date with the shipped corpus (vectors ship with it)
    index = open_index(settings)
    assistant = Assistant(settings, index=index)
    results, counts = {}, {}
    for name in SETS:
        path = ROOT / "evals" / f"{name}.yaml"
        if path.exists():
            questions = load_questions(path)
            results[name] = score(questions, ask_all(assistant, questions, progress=False), 5, index)
            counts[name] = denominators(questions)
    text = (
        "Sets tuned on and held-out sets (only reported; «/n» is the number of cases a share is taken over):\n\n"
        + table(results, counts)
    )
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
