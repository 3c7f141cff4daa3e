"""Retrieval baselines for the evaluation: a plain LangChain dense RAG, and BM25 alone."""

from __future__ import annotations

import sys
import time
import uuid
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from .config import Settings, set_offline_defaults
from .embed import Embedder, EmbeddingCache, embed_with_cache

if TYPE_CHECKING:
    from .index import Index

Search = Callable[[str, int], list[str]]  # (question, k) -> cite keys, best first, no duplicates
CHUNK_SIZE, CHUNK_OVERLAP = 1000, 200  # LangChain's usual RecursiveCharacterTextSplitter setup
SEPARATOR = "\n\n"  # between the loader chunks of one file


class CachedEmbeddings(Embeddings):
    """LangChain Embeddings over a Samskap embedder: passages through the embedding cache, queries as queries."""

    def __init__(self, embedder: Embedder, cache: EmbeddingCache, batch_size: int = 16, progress: bool = True):
        self.embedder, self.cache, self.batch_size, self.progress = embedder, cache, batch_size, progress

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        from tqdm import tqdm

        bar: Any = None

        def update(done: int, total: int) -> None:
            nonlocal bar
            if total and self.progress:
                bar = bar or tqdm(total=total, desc="Grunnlinje: vektorer", unit=" biter", file=sys.stderr)
                bar.n = done
                bar.refresh()

        try:
            vectors, _ = embed_with_cache(self.embedder, texts, self.cache, self.batch_size, update)
        finally:
            if bar is not None:
                bar.close()
        return [[float(x) for x in row] for row in vectors if row is not None]  # all embedded: none is None

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self.embedder.embed_query(text)]


@dataclass
class SourceText:
    """The text of one indexed file, with the cite key that owns each stretch of it."""

    path: str
    text: str = ""
    starts: list[int] = field(default_factory=list)  # offset where each loader chunk begins
    keys: list[str] = field(default_factory=list)

    def append(self, key: str, text: str) -> None:
        """Add the next loader chunk."""
        if self.text:
            self.text += SEPARATOR
        self.starts.append(len(self.text))
        self.keys.append(key)
        self.text += text

    def key_at(self, offset: int) -> str:
        """The cite key of the chunk the character at `offset` comes from."""
        return self.keys[max(bisect_right(self.starts, offset) - 1, 0)]


def source_texts(settings: Settings, index: Index) -> list[SourceText]:
    """The indexed files as loaded (unsplit loader chunks joined in order), so positions map to keys."""
    from .ingest import collect

    indexed = {c.source_path for c in index.chunks}
    out = []
    for result in collect(settings.corpus_dir, max_chars=10**9, overlap_chars=0):
        if result.status != "indexed" or result.path not in indexed:
            continue
        source = SourceText(result.path)
        for chunk in result.chunks:
            source.append(chunk.cite_key, chunk.text)
        out.append(source)
    return out


def split_sources(sources: Sequence[SourceText]) -> list[Document]:
    """RecursiveCharacterTextSplitter(1000/200) chunks, each keyed by the cite key at its start position."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, add_start_index=True)
    docs = splitter.create_documents([s.text for s in sources], [{"source": s.path} for s in sources])
    by_path = {s.path: s for s in sources}
    for doc in docs:
        doc.metadata["key"] = by_path[doc.metadata["source"]].key_at(doc.metadata["start_index"])
    return docs


def unique(keys: Sequence[str]) -> list[str]:
    """Keys without duplicates, keeping the first occurrence."""
    return list(dict.fromkeys(keys))


@contextmanager
def dense_search(settings: Settings, index: Index, progress: bool = True) -> Iterator[Search]:
    """A plain LangChain RAG retriever: split, embed into an ephemeral Chroma collection, similarity search."""
    set_offline_defaults(settings.allow_model_downloads)
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma

    from .index import embedding_cache

    docs = split_sources(source_texts(settings, index))
    cache = embedding_cache(settings)
    client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
    embeddings = CachedEmbeddings(index.embedder, cache, settings.embed_batch_size, progress)
    store = Chroma.from_documents(
        docs, embedding=embeddings, client=client, collection_name=f"baseline-{uuid.uuid4().hex}"
    )

    def search(question: str, k: int) -> list[str]:
        return unique([doc.metadata["key"] for doc in store.similarity_search(question, k=k)])

    try:
        yield search
    finally:
        store.delete_collection()
        cache.close()


def bm25_search(index: Index) -> Search:
    """BM25 alone over the product's chunks (the index's keyword leg)."""

    def search(question: str, k: int) -> list[str]:
        return unique([index.chunks[position].cite_key for position, _ in index.keyword(question, k)])

    return search


def timed(
    search: Search, questions: Sequence[str], k: int, label: str, progress: bool
) -> list[tuple[list[str], float]]:
    """Run a search per question: (keys, milliseconds)."""
    from tqdm import tqdm

    out = []
    for question in tqdm(questions, desc=label, unit=" spm", file=sys.stderr, disable=not progress):
        started = time.perf_counter()
        keys = search(question, k)
        out.append((keys, round((time.perf_counter() - started) * 1000, 2)))
    return out


def run_baselines(
    settings: Settings, index: Index, questions: Sequence[str], k: int, progress: bool = True
) -> dict[str, list[tuple[list[str], float]]]:
    """Both baselines over the questions (text only, no history): per system, (keys, ms) per question."""
    with dense_search(settings, index, progress) as dense:
        runs = {"langchain_dense": timed(dense, questions, k, "Grunnlinje: langchain_dense", progress)}
    runs["bm25"] = timed(bm25_search(index), questions, k, "Grunnlinje: bm25", progress)
    return runs
