"""Hybrid retrieval: dense (Chroma through LlamaIndex) and BM25, fused by reciprocal rank."""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

from llama_index.core import QueryBundle, VectorStoreIndex
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, TextNode

_TOKEN = re.compile(r"[a-z0-9]+(?:[.\-][a-z0-9]+)*")
STOPWORDS = frozenset(
    "a an and are as at be by did do does for from had has have he her his how i in into is it its "
    "of on or over she so than that the their them there these they this to was were what when "
    "where which who whom whose why will with would you your about after before between during "
    "under up out any all also can could should may might much many more most other some such "
    "only own same not no nor very just than too as well also s t".split()
)


def tokenize(text: str) -> list[str]:
    """Lowercase content words, lightly stemmed (shared by BM25 and support scoring)."""
    return [_fold(t) for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


def _fold(token: str) -> str:
    # "named", "names" and "name" all become "nam"; a stem keeps at least three letters.
    if token.endswith("ss"):
        return token
    for suffix in ("ing", "ed", "es", "s", "e"):
        if len(token) >= len(suffix) + 3 and token.endswith(suffix):
            return token[: -len(suffix)]
    return token


class BM25Retriever(BaseRetriever):
    """BM25 (bm25s) over an in-memory list of nodes."""

    def __init__(self, nodes: list[TextNode], top_k: int = 4):
        super().__init__()
        import bm25s

        self._nodes = nodes
        self._top_k = top_k
        self._bm25 = bm25s.BM25()
        corpus = [tokenize(n.get_content()) for n in nodes]
        self._doc_freq = Counter(t for tokens in corpus for t in set(tokens))
        if nodes:
            self._bm25.index(corpus, show_progress=False)

    def term_weights(self, text: str) -> dict[str, float]:
        """BM25's inverse document frequency of each content word of ``text``: rare names
        weigh more than words every chunk shares."""
        n = len(self._nodes)
        return {
            t: math.log(1 + (n - self._doc_freq[t] + 0.5) / (self._doc_freq[t] + 0.5))
            for t in set(tokenize(text))
        }

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        tokens = tokenize(query_bundle.query_str)
        if not self._nodes or not tokens:
            return []
        k = min(self._top_k, len(self._nodes))
        docs, scores = self._bm25.retrieve([tokens], k=k, show_progress=False)
        return [
            NodeWithScore(node=self._nodes[int(i)], score=float(s))
            for i, s in zip(docs[0], scores[0])
            if s > 0
        ]


class HybridRetriever(BaseRetriever):
    """Reciprocal-rank fusion of a dense and a BM25 retriever; keeps each node's dense score."""

    def __init__(self, dense: BaseRetriever, sparse: BaseRetriever, top_k: int = 4, k: int = 60):
        super().__init__()
        self._dense = dense
        self._sparse = sparse
        self._top_k = top_k
        self._k = k

    def term_weights(self, text: str) -> dict[str, float]:
        return self._sparse.term_weights(text)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        fused: dict[str, float] = {}
        nodes: dict[str, Any] = {}
        for results in (self._dense.retrieve(query_bundle), self._sparse.retrieve(query_bundle)):
            for rank, hit in enumerate(results):
                node_id = hit.node.node_id
                fused[node_id] = fused.get(node_id, 0.0) + 1.0 / (self._k + rank + 1)
                nodes.setdefault(node_id, hit.node)
        best = sorted(fused, key=lambda nid: (-fused[nid], nid))[: self._top_k]
        return [NodeWithScore(node=nodes[nid], score=fused[nid]) for nid in best]


def build_retriever(store, embed_model, top_k: int) -> HybridRetriever:
    """Dense retrieval over the store's Chroma collection plus BM25 over its chunks."""
    index = VectorStoreIndex.from_vector_store(store.vector_store, embed_model=embed_model)
    dense = index.as_retriever(similarity_top_k=top_k * 2)
    sparse = BM25Retriever(store.nodes(), top_k=top_k * 2)
    return HybridRetriever(dense, sparse, top_k=top_k)
