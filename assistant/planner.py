"""Retrieval and the choice of context for a question, decided once per state of the index."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import PurePath

from llama_index.core.schema import NodeWithScore

from .context import retrieved_passages, stable_passages
from .prompts import Passage, estimate_tokens
from .retrieve import tokenize
from .verify import facts, title_names

log = logging.getLogger(__name__)

# A word is rare when at most this share of the documents use it, in a collection of at least
# this many documents (two articles on one event share nearly every word they both use).
RARE_SHARE = 0.1
RARE_MIN_DOCUMENTS = 10
# A question word no document uses is no plain word of the asker's only in a collection this
# large: of the 179 pydocs questions' words, only "onexc" and "cmyk" are on none of the 530
# pages, while "stands" (for Sunday) is on none of the 36 of the CI subset.
UNHEARD_MIN_DOCUMENTS = 200
# A word is common when more than this share of the documents use it: "python" (77% of
# Python's documentation), not "None" or "True" (56%), which answer questions.
COMMON_SHARE = 0.75


@dataclass
class Plan:
    """What one question is answered from."""

    retrieved: list[NodeWithScore]  # best first
    passages: list[Passage]  # numbered, as the model sees them
    fixed: bool  # the whole collection, the same for every question
    # Over retrieved chunks, what the model may point into when it refuses: the passages
    # again, and below them chunks ranked just under the budget.
    pointing: list[Passage] | None = None


class ContextPlanner:
    """The whole collection as the context when it fits ``full_context_tokens`` (the same
    prompt prefix for every question, so the engine's prompt cache always serves it), else
    the retrieved chunks. Holds the documents' text as indexed when it was made, so a
    question keeps reading the text its passages came from while the index changes."""

    def __init__(self, store, embed_model, settings):
        from .retrieve import build_retriever

        self.settings = settings
        self.records = store.records()
        self.names = title_names(r.title for r in self.records.values())
        nodes = store.nodes()
        size = sum(estimate_tokens(n.get_content()) for n in nodes)
        fits = size <= settings.full_context_tokens
        self.fixed = stable_passages(nodes, self.sections_of) if fits else None
        self.retriever = build_retriever(store, embed_model, settings.top_k, nodes=nodes)
        mode = "the whole collection" if self.fixed else "retrieved chunks"
        log.info("context: %s (%d chunks, ~%d tokens)", mode, len(nodes), size)

    def text_of(self, doc_id: str) -> str:
        return self.records[doc_id].text

    def page_of(self, doc_id: str, offset: int) -> int | None:
        return self.records[doc_id].page_at(offset)

    def sections_of(self, doc_id: str, start: int, end: int) -> tuple[tuple[int, str], ...]:
        return self.records[doc_id].sections_between(start, end)

    def search(self, question: str) -> list[NodeWithScore]:
        """Every chunk retrieval found, best first."""
        fuse = getattr(self.retriever, "fuse", None)  # any LlamaIndex retriever will do
        return fuse(question) if fuse else self.retriever.retrieve(question)

    def rare_terms(self, question: str) -> dict[str, frozenset[str]]:
        """The question's rarest names, each with the ids of the documents using it: those the
        fewest documents use, if few do ("venv", on 2 of 36 pages). A name (a page's module
        or file name, code, a capitalised word) says what the question is about; any other
        rare word may be the asker's own ("finding the spot" for bisect's "insertion point",
        "round in circles" for a recursive loop). None in a collection too small to tell."""
        sparse = getattr(self.retriever, "sparse", None)
        count = len(self.records)
        if sparse is None or count < RARE_MIN_DOCUMENTS:
            return {}
        named = {w for name in facts(question) if not name[0].isdigit() for w in name.split()}
        asked = set(tokenize(question)) & (self.names | self.file_names | named)
        using = {token: sparse.documents_holding(token) for token in asked}
        using = {t: docs for t, docs in using.items() if docs}
        fewest = min((len(docs) for docs in using.values()), default=0)
        if not fewest or fewest > RARE_SHARE * count:
            return {}
        return {t: docs for t, docs in using.items() if len(docs) == fewest}

    def rare_words(self, question: str) -> frozenset[str]:
        """The question's words (not numbers) at most a tenth of the documents use, in a
        collection large enough to tell: what it asks about ("backticks"), not how it asks."""
        using = self._documents_using(question, RARE_MIN_DOCUMENTS)
        share = RARE_SHARE * len(self.records)
        return frozenset(t for t, count in using.items() if 0 < count <= share)

    def unheard_words(self, question: str) -> frozenset[str]:
        """The question's words (not numbers) no document uses: "onexc", a later Python's
        rmtree callback, asked of Python 3.11's documentation. None in a collection too small
        to tell, where the asker's own wording need not occur."""
        using = self._documents_using(question, UNHEARD_MIN_DOCUMENTS)
        return frozenset(t for t, count in using.items() if not count)

    def _documents_using(self, question: str, min_documents: int) -> dict[str, int]:
        """How many documents use each of the question's words (not numbers); none in a
        collection of fewer than ``min_documents``."""
        sparse = getattr(self.retriever, "sparse", None)
        if sparse is None or len(self.records) < min_documents:
            return {}
        return {
            t: len(sparse.documents_holding(t)) for t in tokenize(question) if not t[0].isdigit()
        }

    @cached_property
    def file_names(self) -> frozenset[str]:
        """The words the documents' file names are made of ("venv" of tutorial/venv.html):
        what a page is about, as its title may not say ("Virtual Environments and Packages")."""
        return frozenset(t for doc_id in self.records for t in tokenize(PurePath(doc_id).stem))

    @cached_property
    def common_words(self) -> frozenset[str]:
        """The words (not numbers) nearly every document uses, in a collection large enough to
        tell: "python" over Python's documentation."""
        sparse = getattr(self.retriever, "sparse", None)
        count = len(self.records)
        if sparse is None or count < RARE_MIN_DOCUMENTS:
            return frozenset()
        return frozenset(
            t
            for t in sparse.tokens_in_more_documents_than(COMMON_SHARE * count)
            if not t[0].isdigit()
        )

    def plan(self, question: str) -> Plan:
        found = self.search(question)
        retrieved = found[: self.settings.top_k]
        for rank, hit in enumerate(retrieved, 1):
            log.info("hit %d: %s %.4f %s", rank, hit.node.node_id, hit.score or 0.0,
                     hit.node.metadata.get("section", ""))  # fmt: skip
        if self.fixed:
            # The model sees every chunk: a quote from a hit ranked about as high as the
            # last one kept is on topic too.
            floor = 0.75 * (retrieved[-1].score or 0.0) if retrieved else 0.0
            related = retrieved + [h for h in found[len(retrieved) :] if (h.score or 0) >= floor]
            return Plan(related, self.fixed, fixed=True)
        s = self.settings
        nodes = [hit.node for hit in retrieved]
        passages = retrieved_passages(nodes, self.text_of, s.context_tokens, self.sections_of)
        wider = [hit.node for hit in found[: s.top_k + s.point_extra_chunks]]
        pointing = retrieved_passages(
            wider, self.text_of, s.context_tokens + s.point_extra_tokens, self.sections_of
        )
        return Plan(retrieved, passages, fixed=False, pointing=pointing)
