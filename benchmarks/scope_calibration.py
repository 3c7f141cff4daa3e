"""Calibrate the scope gate (scope.judge_coverage) on the scope tuning sets, and only there.

    python benchmarks/scope_calibration.py [--margin 0.25] [--json OUT] [--tuning FILE ...]

The tuning sets are evals/scope_tuning.yaml, scope_tuning2.yaml and scope_tuning3.yaml (each written blind;
sets 2 and 3 were first run against the gate as it was, evals/README.md). `--tuning` takes other files.
Note: the logistic fit maximises likelihood, not refusal recall at no false refusal; on the three sets it
refuses fewer out-of-scope questions than the weights in scope.py, which therefore stay.

For each tuning question it runs what the service runs before the gate: the cheap checks
(scope.check_scope), retrieval, and the coverage signals (scope.measure_coverage). Questions the cheap
checks refuse (a request with no case) and follow-ups (asked with a previous question, they never reach
the gate) are reported and left out of the fit. On the rest it fits a logistic regression on the
standardised signals (L2 penalty 0.02), turns it into weights per unit of each signal, and sets the
threshold to the lowest in-scope score minus the margin. It prints the weights and threshold to copy
into assistant/scope.py, the tuning-set confusion with those numbers and with the ones in scope.py
now, and a leave-one-out estimate (each question scored by a fit without it, same threshold rule).

Uses the index in SAMSKAP_INDEX_DIR (built first if missing). Evaluation sets are never read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import scope  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.index import build_index, current_generation_dir  # noqa: E402
from assistant.question import parse_question  # noqa: E402
from assistant.service import Assistant  # noqa: E402

TUNING = tuple(ROOT / "evals" / f"scope_tuning{n}.yaml" for n in ("", "2", "3"))
SIGNALS = tuple(scope.WEIGHTS)  # lift, domain, unknown
L2 = 0.02
# A previous question for the tuning set's follow-ups (they carry none): any in-scope case will do.
PREVIOUS = ("Vi vil prøve ut nye løsninger for eldre i én bygd sammen med frivillige. Hvilken metode passer?", "")


def signals(assistant: Assistant, paths: tuple[Path, ...] = TUNING) -> list[dict[str, Any]]:
    """One row per tuning question: its label and kind, what stopped it before the gate, its signals."""
    rows = []
    items = [item for path in paths for item in yaml.safe_load(path.read_text(encoding="utf-8"))]
    for item in items:
        history = [PREVIOUS] if item["kind"] == "followup" else []
        parsed = parse_question(
            scope.clean_question(item["question"]), "prosjektleder", None, history, assistant.retriever.analyze
        )
        row = {"id": item["id"], "in_scope": bool(item["in_scope"]), "kind": item["kind"], "stopped": ""}
        early = scope.check_scope(parsed.text, parsed.lang, bool(parsed.history))
        if early.refuse:
            row["stopped"] = early.reason
        elif parsed.follow_up:
            row["stopped"] = "follow_up"
        else:
            assert parsed.query is not None
            hits = assistant.retriever.search(parsed.query, k=12)
            coverage = assistant.coverage(parsed, hits)
            row.update({name: getattr(coverage, name) for name in SIGNALS})
        rows.append(row)
    return rows


def fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Logistic regression on standardised columns (gradient descent, L2); weights per raw unit, bias."""
    mean, std = x.mean(axis=0), x.std(axis=0)
    z = (x - mean) / std
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(5000):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        g = p - y
        w -= 0.1 * (z.T @ g / len(y) + L2 * w)
        b -= 0.1 * float(g.mean())
    raw = w / std
    return raw, b - float(raw @ mean)


def confusion(rows: list[dict[str, Any]], refused: list[bool]) -> dict[str, int]:
    out = {"in_scope_answered": 0, "in_scope_refused": 0, "out_of_scope_refused": 0, "out_of_scope_answered": 0}
    for row, r in zip(rows, refused, strict=True):
        key = ("in_scope_" if row["in_scope"] else "out_of_scope_") + ("refused" if r else "answered")
        out[key] += 1
    return out


def report(name: str, rows: list[dict[str, Any]], refused: list[bool]) -> None:
    c = confusion(rows, refused)
    n_out = c["out_of_scope_refused"] + c["out_of_scope_answered"]
    accuracy = (c["in_scope_answered"] + c["out_of_scope_refused"]) / len(rows)
    print(f"{name}: {c}  accuracy {accuracy:.3f}  refusal recall {c['out_of_scope_refused'] / n_out:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--margin", type=float, default=scope.MARGIN)
    parser.add_argument("--json", type=Path, help="write the rows (signals per tuning question) here")
    parser.add_argument("--tuning", type=Path, nargs="+", default=list(TUNING), help="the labelled files")
    args = parser.parse_args()

    settings = Settings()
    if current_generation_dir(settings) is None:
        build_index(settings)
    rows = signals(Assistant(settings), tuple(args.tuning))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8")

    gated = [r for r in rows if not r["stopped"]]
    for row in rows:
        if row["stopped"]:
            print(f"before the gate: {row['id']} ({row['kind']}, in_scope={row['in_scope']}): {row['stopped']}")
    x = np.array([[r[s] for s in SIGNALS] for r in gated])
    y = np.array([r["in_scope"] for r in gated], dtype=float)
    weights, bias = fit(x, y)
    score = x @ weights + bias
    threshold = float(score[y == 1].min()) - args.margin
    print(f"\ngated questions: {len(gated)} ({int(y.sum())} in scope, {int(len(y) - y.sum())} out of scope)")
    print("calibrated: WEIGHTS = {" + ", ".join(f'"{s}": {w:.2f}' for s, w in zip(SIGNALS, weights, strict=True))
          + f"}}  THRESHOLD = {threshold - bias:.2f}  (bias folded in; MARGIN = {args.margin})")
    rounded = np.round(weights, 2)
    report("tuning, calibrated", gated, list(x @ rounded < round(threshold - bias, 2)))
    report("tuning, scope.py now", gated, [r < scope.THRESHOLD for r in x @ np.array([scope.WEIGHTS[s] for s in SIGNALS])])

    loo = np.zeros(len(y))
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        w_i, b_i = fit(x[keep], y[keep])
        s_i = x[keep] @ w_i + b_i
        loo[i] = x[i] @ w_i + b_i - (float(s_i[y[keep] == 1].min()) - args.margin)
    report("leave-one-out", gated, list(loo < 0))
    print("\nout-of-scope answered (calibrated):", [r["id"] for r, s in zip(gated, score, strict=True)
                                                   if not r["in_scope"] and s >= threshold])
    print("lowest in-scope scores:", sorted((round(float(s - threshold), 2), r["id"])
                                            for r, s in zip(gated, score, strict=True) if r["in_scope"])[:5])


if __name__ == "__main__":
    main()
