"""A LangChain ``BaseRetriever`` over the assistant, for users' own chains.

    from assistant.langchain_retriever import PolicyRetriever
    retriever = PolicyRetriever(service=Assistant(settings), k=5)
    docs = retriever.invoke("年休假几天")

The app itself passes typed ``Hit`` records; LangChain documents exist only here.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from .service import Assistant, Viewer


class PolicyRetriever(BaseRetriever):
    service: Any  # Assistant (typed loosely: pydantic does not know the class)
    k: int = 5
    viewer: Any = Viewer()
    only_relevant: bool = True  # return nothing when the relevance gate finds nothing

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        service: Assistant = self.service
        result = service.search(query, self.k, self.viewer)
        if self.only_relevant and not result.relevant:
            return []
        return [
            Document(
                page_content=h.chunk.text,
                metadata={
                    **{k: v for k, v in h.to_json().items() if k != "text"},
                    "chunk_id": h.chunk.id,
                    "doc_id": h.chunk.doc_id,
                },
            )
            for h in result.hits
        ]
