"""LangChain view of the search: `SamskapRetriever(retriever=…, k=…)` is a `BaseRetriever`."""

from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from .retrieve import Hit, Retriever


def to_document(hit: Hit) -> Document:
    """A hit as a LangChain Document: the chunk text, with key, title, score and the chunk metadata."""
    metadata: dict[str, object] = dict(hit.chunk.metadata())
    metadata.update(key=hit.key, title=hit.chunk.title, score=hit.score, direct=hit.direct)
    return Document(page_content=hit.chunk.text, metadata=metadata)


class SamskapRetriever(BaseRetriever):
    """Samskap's hybrid search (named paragraphs first, one passage per cite key) for LangChain chains."""

    retriever: Retriever
    k: int = 5
    source_types: list[str] | None = None
    law_ids: list[str] | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        hits = self.retriever.search(query, k=self.k, source_types=self.source_types, law_ids=self.law_ids)
        return [to_document(h) for h in hits]
