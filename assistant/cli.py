"""Command line: `python -m assistant ingest|search|ask|eval|serve|update-laws|delete-data|ship-vectors` (CONTRACTS.md §7)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .catalogue import CatalogueError
from .config import Settings, load_settings, set_offline_defaults
from .embed import EmbedderError
from .evaluate import add_arguments as add_eval_arguments
from .index import (
    BuildReport,
    IndexUnavailable,
    Progress,
    build_index,
    current_generation_dir,
    drop_previous_generation,
    embedding_cache,
    open_index,
)

_PHASES = {"les": "Leser filer", "embed": "Lager vektorer", "lagre": "Lagrer indeks"}


def _progress_bar() -> tuple[Progress, Any]:
    """A tqdm progress callback for build_index, plus a closer."""
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def update(phase: str, done: int, total: int) -> None:
        bar = bars.get(phase)
        if bar is None:
            for other in bars.values():
                other.close()
            bars.clear()
            bar = bars[phase] = tqdm(
                total=total or None,
                desc=_PHASES.get(phase, phase),
                unit=" biter" if phase == "embed" else " filer",
                file=sys.stderr,
            )
        if total:
            bar.total = total
            bar.n = done
            bar.refresh()
        else:
            bar.update(1)

    def close() -> None:
        for bar in bars.values():
            bar.close()

    return update, close


def _ingest(settings: Settings, rebuild: bool, quiet: bool = False) -> BuildReport:
    update, close = _progress_bar()
    try:
        return build_index(settings, rebuild=rebuild, progress=None if quiet else update)
    finally:
        close()


def print_report(report: BuildReport) -> None:
    """The ingestion summary in Norwegian."""
    indexed = [f for f in report.files if f.status == "indexed"]
    state = "Indeksen er oppdatert" if report.changed else "Indeksen var allerede oppdatert"
    print(f"{state} (generasjon {report.generation}).")
    print(f"Filer: {len(report.files)} funnet, {len(indexed)} indeksert, {report.reused_files} uendret.")
    parts = ", ".join(f"{n} {kind}" for kind, n in sorted(report.counts.items()) if kind != "total")
    print(f"Tekstbiter: {report.counts.get('total', 0)} ({parts}); {report.embedded} nye vektorer.")
    for problem in report.problems:
        print(f"  - {problem.message}")
    print(f"Tid: {report.seconds:.1f} s")


def _ensure_index(settings: Settings) -> None:
    if current_generation_dir(settings) is None:
        print("Fant ingen indeks; bygger den først …", file=sys.stderr)
        print_report(_ingest(settings, rebuild=False))


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    report = _ingest(settings, args.rebuild)
    print_report(report)
    return 0


def cmd_search(settings: Settings, args: argparse.Namespace) -> int:
    from .retrieve import Retriever

    if not args.query.strip():
        print("Skriv inn et søk.", file=sys.stderr)
        return 2
    _ensure_index(settings)
    hits = Retriever(open_index(settings)).search(args.query, k=args.k)
    if args.json:
        print(json.dumps([h.to_json() for h in hits], ensure_ascii=False, indent=1))
        return 0
    if not hits:
        print("Ingen treff.")
    for number, hit in enumerate(hits, start=1):
        version = f" [{hit.chunk.version_label}]" if hit.chunk.version_label else ""
        print(f"{number:>2}. {hit.key}  {hit.chunk.title}{version}")
        print(f"    {hit.to_json(snippet_chars=220)['text']}")
    return 0


def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    from .export import NOTE_SUFFIXES, write_decision_note
    from .service import Assistant

    note = Path(args.note).expanduser() if args.note else None
    if note is not None:  # checked before the (slow) answer, so a typo costs nothing
        if note.suffix.lower() not in NOTE_SUFFIXES:
            print(f"Feil: --note må være en fil som slutter på .docx, .pdf eller .md, ikke «{note.name}».",
                  file=sys.stderr)
            return 2
        if not note.parent.is_dir():
            print(f"Feil: mappen {note.parent} finnes ikke.", file=sys.stderr)
            return 2
    _ensure_index(settings)
    answer = Assistant(settings).ask(args.question, role=args.role, lang=args.lang)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=1))
    else:
        print(answer.text)
    if note is not None:
        try:
            write_decision_note(answer, note, corpus_dir=settings.corpus_dir)
        except OSError as exc:
            print(f"Feil: kunne ikke skrive beslutningsnotatet til {note}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        print(f"Beslutningsnotatet er lagret i {note}.", file=sys.stderr)
    return 0


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    from .evaluate import run_command

    _ensure_index(settings)
    return run_command(settings, args)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from .ui import launch

    launch(settings)
    return 0


def cmd_update_laws(settings: Settings, args: argparse.Namespace) -> int:
    from .update_laws import UpdateLawsError, update_laws

    try:
        report = update_laws(settings, args.source, progress=lambda msg: print(msg, file=sys.stderr))
    except UpdateLawsError as exc:
        print(f"Oppdatering av lovtekster feilet: {exc}", file=sys.stderr)
        print("Korpuset er uendret.", file=sys.stderr)
        return 1
    for item in report.updated:
        state = "oppdatert" if item.changed else "uendret"
        print(f"{item.law_id}: {item.file_name} {state}")
    for missing in report.not_found:
        print(f"Fant ikke {missing} i kilden.")
    if report.changed:
        print_report(_ingest(settings, rebuild=False))
    return 0


def cmd_ship_vectors(settings: Settings, args: argparse.Namespace) -> int:
    """Write the passage vectors of the corpus, of the evaluation baseline and of the scope gate's domain
    descriptions to the shipped file."""
    from .embed import ShippedVectors, content_hash, embed_with_cache, shipped_vectors_path
    from .eval_baselines import source_texts, split_sources
    from .scope import OUTSIDE_FILE, domain_texts
    from .uploads import UPLOAD_DIR

    print_report(_ingest(settings, rebuild=False))
    index = open_index(settings)
    uploads = UPLOAD_DIR.as_posix() + "/"  # what users uploaded through the app is never shipped
    texts = [c.text for c in index.chunks if not c.source_path.startswith(uploads)]
    texts += [d.page_content for d in split_sources(source_texts(settings, index))
              if not str(d.metadata["source"]).startswith(uploads)]
    texts += domain_texts() + domain_texts(OUTSIDE_FILE)  # the scope gate's descriptions of what Samskap covers and not
    with embedding_cache(settings) as cache:
        vectors, embedded = embed_with_cache(index.embedder, texts, cache, settings.embed_batch_size)
    items = {content_hash(t): v for t, v in zip(texts, vectors, strict=True) if v is not None}
    out = Path(args.out) if args.out else shipped_vectors_path(index.embedder.id)
    ShippedVectors.write(out, index.embedder.id, items)
    print(f"Skrev {len(items)} vektorer ({embedded} nye) for {index.embedder.id} til {out} "
          f"({out.stat().st_size / 1e6:.1f} MB).")
    return 0


def _indexed_uploads(settings: Settings, prefix: str) -> list[str]:
    """Files under the uploads folder that the current index still holds."""
    gen_dir = current_generation_dir(settings)
    if gen_dir is None:
        return []
    manifest = json.loads((gen_dir / "manifest.json").read_text(encoding="utf-8"))
    return [path for path in manifest.get("files", {}) if path.startswith(prefix)]


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _confirm(question: str) -> bool:
    try:
        reply = input(question)
    except EOFError:
        return False
    return reply.strip().lower() in {"j", "ja", "y", "yes"}


def cmd_delete_data(settings: Settings, args: argparse.Namespace) -> int:
    from .feedback import FeedbackStore, feedback_path
    from .uploads import UPLOAD_DIR

    everything = not (args.feedback or args.uploads)
    store = FeedbackStore(feedback_path(settings))
    ratings = store.count() if args.feedback or everything else 0
    upload_dir = settings.corpus_dir / UPLOAD_DIR
    uploads: list[Path] = []
    stale: list[str] = []
    if args.uploads or everything:
        uploads = sorted(p for p in upload_dir.rglob("*") if p.is_file()) if upload_dir.is_dir() else []
        stale = _indexed_uploads(settings, UPLOAD_DIR.as_posix() + "/")
    if not ratings and not uploads and not stale:
        print("Fant ingen lagrede tilbakemeldinger eller opplastede filer. Ingenting er slettet.")
        return 0

    print("Dette blir slettet for godt:")
    if ratings:
        print(f"  - {_n(ratings, 'tilbakemelding', 'tilbakemeldinger')} i {store.path}")
    if uploads:
        print(f"  - {_n(len(uploads), 'opplastet fil', 'opplastede filer')} i {upload_dir}:")
        for path in uploads:
            print(f"      {path.relative_to(upload_dir).as_posix()}")
    if stale:
        print(f"  - tekstbitene fra {_n(len(stale), 'opplastet fil', 'opplastede filer')} i indeksen")
    if not args.yes and not _confirm("Vil du slette dette? [j/N] "):
        print("Avbrutt. Ingenting er slettet.")
        return 1

    if ratings:
        print(f"Slettet {_n(store.delete_all(), 'tilbakemelding', 'tilbakemeldinger')}.")
    if uploads or stale:
        for path in uploads:
            path.unlink()
        for folder in sorted((p for p in upload_dir.rglob("*") if p.is_dir()), reverse=True):
            if not any(folder.iterdir()):
                folder.rmdir()
        if uploads:
            print(f"Slettet {_n(len(uploads), 'opplastet fil', 'opplastede filer')}.")
        if current_generation_dir(settings) is not None:
            report = _ingest(settings, rebuild=False, quiet=True)
            drop_previous_generation(settings)
            print(
                f"Indeksen er oppdatert (generasjon {report.generation}, {report.counts.get('total', 0)} tekstbiter); "
                "de opplastede dokumentene finnes ikke lenger i søk og svar."
            )
            print("En app som kjører, bytter til den nye indeksen ved neste spørsmål.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m assistant", description="Samskap")
    sub = parser.add_subparsers(dest="command", required=True)
    ingest = sub.add_parser("ingest", help="bygg eller oppdater indeksen fra korpuset")
    ingest.add_argument("--rebuild", action="store_true", help="bygg alt på nytt")
    ingest.set_defaults(func=cmd_ingest)
    search = sub.add_parser("search", help="hybridsøk i indeksen")
    search.add_argument("query")
    search.add_argument("--k", type=int, default=10)
    search.add_argument("--json", action="store_true")
    search.set_defaults(func=cmd_search)
    ask = sub.add_parser("ask", help="still et spørsmål")
    ask.add_argument("question")
    ask.add_argument("--role", choices=["prosjektleder", "jurist"], default="prosjektleder")
    ask.add_argument("--lang", choices=["nb", "en"], default=None, help="standard: språket i spørsmålet")
    ask.add_argument("--json", action="store_true")
    ask.add_argument("--note", metavar="FIL", default=None,
                     help="lagre svaret som beslutningsnotat; formatet følger filendelsen: .docx, .pdf eller .md")
    ask.set_defaults(func=cmd_ask)
    evaluation = sub.add_parser("eval", help="kjør evalueringsspørsmålene og mål kvaliteten")
    add_eval_arguments(evaluation)
    evaluation.set_defaults(func=cmd_eval)
    serve = sub.add_parser("serve", help="start nettappen (samme som `python app.py`)")
    serve.set_defaults(func=cmd_serve)
    update = sub.add_parser("update-laws", help="hent gjeldende lovtekster fra Lovdata")
    update.add_argument("--source", default=None, help="URL eller lokal .tar.bz2")
    update.set_defaults(func=cmd_update_laws)
    ship = sub.add_parser(
        "ship-vectors",
        help="skriv vektorene for korpuset til filen som følger med pakken (for utviklere)",
        description="Bygger indeksen og skriver alle tekstbitenes vektorer (float16, etter tekstens hash) til "
        "assistant/data/, slik at en ny installasjon slipper å lage dem på nytt.",
    )
    ship.add_argument("--out", default=None, help="standard: assistant/data/vectors-<embedder>.npz")
    ship.set_defaults(func=cmd_ship_vectors)
    delete = sub.add_parser(
        "delete-data",
        help="slett lagrede tilbakemeldinger og opplastede dokumenter (standard: begge)",
        description="Sletter tilbakemeldinger og/eller opplastede dokumenter og oppdaterer indeksen. "
        "Uten --feedback eller --uploads slettes begge deler.",
    )
    delete.add_argument("--feedback", action="store_true", help="slett alle tilbakemeldinger")
    delete.add_argument("--uploads", action="store_true", help="slett opplastede dokumenter og fjern dem fra indeksen")
    delete.add_argument("--yes", action="store_true", help="ikke spør om bekreftelse")
    delete.set_defaults(func=cmd_delete_data)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        print(f"Feil i innstillingene: {exc}", file=sys.stderr)
        return 2
    set_offline_defaults(settings.allow_model_downloads)
    try:
        return int(args.func(settings, args))
    except (IndexUnavailable, EmbedderError, CatalogueError) as exc:
        print(f"Feil: {exc}", file=sys.stderr)
        return 1
