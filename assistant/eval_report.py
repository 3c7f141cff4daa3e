"""The evaluation result as a Markdown report, a PNG chart and a short console summary (Norwegian)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

PRODUCT = "produkt"
QUALITY = (
    "recall_at_k",
    "mrr",
    "method_hit_at_3",
    "fit_accuracy",
    "law_recall",
    "lead_at_2",
    "mention_recall",
    "refusal_recall",
    "faithfulness",
)
TOTALS = (*QUALITY[:8], "false_refusals", "n_refused", "clarify_rate", "faithfulness")
LABELS = {
    "sources": "kilder",
    "methods": "metoder",
    "fit": "egnethet",
    "laws": "lover",
    "mention": "nevner",
    "refuse": "avslag",
    "lead": "først",
}


def fmt(value: Any) -> str:
    """A metric for a table cell: '–' for null, three decimals for shares."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def fmt_ms(value: float | None) -> str:
    """Milliseconds for a table cell."""
    return "–" if value is None else f"{value:.1f}"


def _row(cells: Sequence[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    return [_row(head), _row(["---"] * len(head)), *(_row(r) for r in rows), ""]


def _recall_mrr(stats: Mapping[str, Any]) -> str:
    return f"{fmt(stats.get('recall_at_k'))} / {fmt(stats.get('mrr'))}"


def systems(result: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The product and each baseline by name."""
    return {PRODUCT: result, **result.get("baselines", {})}


def failure_details(record: Mapping[str, Any], k: int) -> list[str]:
    """What went wrong for one question: expected vs got, per failed expectation."""
    expect, out = record["expect"], []
    for name, passed in record["ok"].items():
        if passed:
            continue
        if name == "sources":
            got = ", ".join(record["retrieved"][:k]) or "ingenting"
            out.append(f"kilder: forventet {', '.join(expect['sources'])}; fikk {got}")
        elif name == "methods":
            got = ", ".join(record["methods"][:3]) or "ingen"
            out.append(f"metoder: forventet {', '.join(expect['methods'])}; fikk {got}")
        elif name == "fit":
            out.append(f"egnethet: forventet {expect['fit']}; fikk {record['fit'] or 'ingen vurdering'}")
        elif name == "lead":
            first = ", ".join(record["citations"][:2]) or "ingen"
            out.append(f"først: forventet {', '.join(expect['laws'])} blant de to første kildene; fikk {first}")
        elif name == "laws":
            cited = [c for c in record["citations"] if c.startswith(("lov/", "forskrift/"))]
            out.append(
                f"lover: mangler {', '.join(record['missing']['laws'])}; siterte {', '.join(cited[:8]) or 'ingen'}"
                + (" …" if len(cited) > 8 else "")
            )
        elif name == "mention":
            out.append("nevner ikke " + ", ".join(f"«{m}»" for m in record["missing"]["mention"]))
        elif name == "refuse" and expect.get("refuse"):
            out.append("avslag: skulle avvist, men svarte")
        else:
            out.append(f"avslag: avviste uventet ({record['refusal_reason'] or 'uten grunn'})")
    return out


def markdown(result: Mapping[str, Any]) -> str:
    """The full report."""
    k, run = result["k"], result.get("run", {})
    lines = [
        "# Evalueringsrapport",
        "",
        f"{result['n_questions']} spørsmål fra {run.get('questions_file', '?')}, k = {k}. "
        f"Indeks {run.get('index_generation', '?')}, embedder {run.get('embedder', '?')}, "
        f"motor {run.get('engine', '?')}, kjørt {run.get('created', '?')}.",
        "",
        "## Totalt",
        "",
    ]
    latency = result["latency_ms"]
    rows = [[name, fmt(result.get(name))] for name in TOTALS]
    rows.append(["latency_ms p50 / p95", f"{fmt_ms(latency['p50'])} / {fmt_ms(latency['p95'])}"])
    chars = result.get("answer_chars") or {}
    rows.append(["answer_chars p50 / p95", f"{fmt_ms(chars.get('p50'))} / {fmt_ms(chars.get('p95'))}"])
    lines += _table(["mål", "verdi"], rows)

    lines += ["## Per kategori", ""]
    head = ["kategori", "n", *QUALITY, "false_refusals", "tegn p50 / p95", "p50 ms"]
    lines += _table(
        head,
        [
            [
                name,
                c["n_questions"],
                *(fmt(c.get(m)) for m in QUALITY),
                fmt(c["false_refusals"]),
                f"{fmt_ms((c.get('answer_chars') or {}).get('p50'))} / {fmt_ms((c.get('answer_chars') or {}).get('p95'))}",
                fmt_ms(c["latency_ms"]["p50"]),
            ]
            for name, c in result["per_category"].items()
        ],
    )

    everyone = systems(result)
    if len(everyone) > 1:
        lines += [
            "## Produkt mot grunnlinjer",
            "",
            "Grunnlinjene bare henter tekst (uten råd og uten samtalehistorikk): de k beste tekstbitene gjøres om til "
            "henvisninger (like henvisninger telles én gang) og måles mot de samme forventede kildene.",
            "",
        ]
        lines += _table(
            ["system", "recall_at_k", "mrr", "p50 ms", "p95 ms"],
            [
                [
                    name,
                    fmt(s["recall_at_k"]),
                    fmt(s["mrr"]),
                    fmt_ms(s["latency_ms"]["p50"]),
                    fmt_ms(s["latency_ms"]["p95"]),
                ]
                for name, s in everyone.items()
            ],
        )
        lines += ["### recall_at_k / mrr per kategori", ""]
        lines += _table(
            ["kategori", *everyone],
            [
                [name, *(_recall_mrr(s["per_category"].get(name, {})) for s in everyone.values())]
                for name in result["per_category"]
            ],
        )

    offending = result.get("faithfulness_failures", [])
    lines += [f"## Sitater som ikke står i kilden ({len(offending)})", ""]
    lines += [f"- **{f['id']}** {f['key']}: «{f['quote']}»" for f in offending] or ["Ingen."]
    lines.append("")

    failed = [r for r in result["questions"] if not all(r["ok"].values())]
    lines += [f"## Feil ({len(failed)} av {result['n_questions']} spørsmål)", ""]
    for record in failed:
        lines.append(f"- **{record['id']}** ({record['category']}): " + " · ".join(failure_details(record, k)))
    if not failed:
        lines.append("Ingen.")
    return "\n".join(lines) + "\n"


def write_markdown(result: Mapping[str, Any], path: Path) -> None:
    """Write the report to `path`."""
    path.write_text(markdown(result), encoding="utf-8")


def _bars(ax: Any, groups: Sequence[str], series: Mapping[str, Sequence[float | None]], title: str) -> None:
    """Grouped bars with value labels: one group per x label, one bar per series; nulls are left out."""
    width = 0.8 / max(len(series), 1)
    for number, (name, values) in enumerate(series.items()):
        shown = [(i, v) for i, v in enumerate(values) if v is not None]
        offset = (number - (len(series) - 1) / 2) * width
        bars = ax.bar([i + offset for i, _ in shown], [v for _, v in shown], width, label=name)
        ax.bar_label(bars, fmt="%.2f", fontsize=6, padding=1)
    ax.set_xticks(range(len(groups)), groups, rotation=20, ha="right")
    ax.set_ylim(0, 1.1)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))


def write_chart(result: Mapping[str, Any], path: Path) -> None:
    """A PNG: product vs baselines per metric, product metrics per category, recall per category."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    everyone = systems(result)
    categories = list(result["per_category"])
    figure = Figure(figsize=(14, 13), layout="constrained")
    FigureCanvasAgg(figure)
    top, middle, bottom = figure.subplots(3, 1)
    _bars(
        top,
        QUALITY,
        {n: [s.get(m) for m in QUALITY] for n, s in everyone.items()},
        f"Produkt mot grunnlinjer (k = {result['k']})",
    )
    per = result["per_category"]
    shown = [m for m in QUALITY if any(per[c].get(m) is not None for c in categories)]
    _bars(middle, categories, {m: [per[c].get(m) for c in categories] for m in shown}, "Produktet per kategori")
    _bars(
        bottom,
        categories,
        {n: [s.get("per_category", {}).get(c, {}).get("recall_at_k") for c in categories] for n, s in everyone.items()},
        "recall_at_k per kategori",
    )
    figure.savefig(path, dpi=100)


def summary_text(result: Mapping[str, Any]) -> str:
    """A few lines for the terminal."""
    baselines = result.get("baselines", {})
    lines = [f"Evaluering: {result['n_questions']} spørsmål, k = {result['k']}"]
    for name in TOTALS:
        extra = ", ".join(f"{b} {fmt(s.get(name))}" for b, s in baselines.items() if name in s)
        lines.append(f"  {name:<16} {fmt(result.get(name)):>6}" + (f"   ({extra})" if extra else ""))
    latency = result["latency_ms"]
    extra = ", ".join(f"{b} {fmt_ms(s['latency_ms']['p50'])}" for b, s in baselines.items())
    lines.append(
        f"  {'latens p50/p95':<16} {fmt_ms(latency['p50'])} / {fmt_ms(latency['p95'])} ms"
        + (f"   (p50: {extra})" if extra else "")
    )
    chars = result.get("answer_chars") or {}
    lines.append(f"  {'tegn p50/p95':<16} {fmt_ms(chars.get('p50'))} / {fmt_ms(chars.get('p95'))}")
    return "\n".join(lines)
