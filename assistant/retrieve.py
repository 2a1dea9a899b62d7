"""Hybrid retrieval: dense (Chroma through LlamaIndex) and BM25, fused by reciprocal rank."""

from __future__ import annotations

import re
import threading
from typing import Any

from llama_index.core import QueryBundle, VectorStoreIndex
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, TextNode

# Scientific notation first: "1e-09" is one number, not a dropped 1 and a 09.
SCIENTIFIC = r"\d+(?:\.\d+)?e[-+]?\d+\b"
_SCIENTIFIC = re.compile(SCIENTIFIC, re.IGNORECASE)
# A literal with a radix ("0o666", "0x1f") is one number, not a dropped 0 and a word.
RADIX = r"0[xob][0-9a-f]+\b"
_TOKEN = re.compile(
    SCIENTIFIC + "|" + RADIX + r"|\d+(?:[.,:]\d+)*(?:st|nd|rd|th)?\b|[a-z][a-z0-9]*"
)
STOPWORDS = frozenset(
    "a an and are as at be by did do does for from had has have he her his how i in into is it its "
    "of on or over she so than that the their them there these they this to was were what when "
    "where which who whom whose why will with would you your about after before between during "
    "under up out any all also can could should may might much many more most other some such "
    "only own same not no nor very just than too as well also s t".split()
)
_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
          "fifteen sixteen seventeen eighteen nineteen").split()  # fmt: skip
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
ORDINALS = ("zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh "
            "twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth "
            "nineteenth twentieth").split()  # fmt: skip
NUMBER_WORDS = {
    **{w: str(i) for i, w in enumerate(_UNITS)},
    **{w: str(20 + 10 * i) for i, w in enumerate(_TENS)},
    **{w: str(i) for i, w in enumerate(ORDINALS)},
    "hundred": "100",
    "thousand": "1000",
    "million": "1000000",
    "once": "1",
    "twice": "2",
    "dozen": "12",
}
_stemmers = threading.local()


def _stem(word: str) -> str:
    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:  # a PyStemmer object is not safe to share between threads
        import Stemmer

        stemmer = _stemmers.english = Stemmer.Stemmer("english")
    return stemmer.stemWord(word)


def normalize(token: str) -> str:
    """One token as it is compared: numbers as digits (``"three"``, ``"3rd"`` → ``"3"``,
    ``"1,000"`` → ``"1000"``), words stemmed (``"visited"`` → ``"visit"``)."""
    if token[0].isdigit():
        if _SCIENTIFIC.fullmatch(token):
            return repr(float(token))  # "1e-9" and "1E-09" alike: "1e-09"
        return re.sub(r"(?<=\d)(?:st|nd|rd|th)$", "", token).replace(",", "")
    return NUMBER_WORDS.get(token) or _stem(token)


def tokenize(text: str) -> list[str]:
    """Lowercase content words, stemmed, numbers as digits (shared by BM25 and verification).

    Compounds count as their parts: "three-day" gives ``["3", "day"]`` and ``lru_cache``
    ``["lru", "cach"]``, so a claim matches a source however it joins the words.
    """
    tokens: list[str] = []
    for raw in _TOKEN.findall(text.lower()):
        if raw in STOPWORDS:
            continue
        token = normalize(raw)
        if raw in _SCALES and tokens and tokens[-1].isdigit():
            tokens[-1] = str(int(tokens[-1]) * int(token))  # "one million" is 1000000
            continue
        tokens.append(token)
    return tokens


_SCALES = ("hundred", "thousand", "million")


class BM25Retriever(BaseRetriever):
    """BM25 (bm25s) over an in-memory list of nodes."""

    def __init__(self, nodes: list[TextNode], top_k: int = 4):
        super().__init__()
        import bm25s

        self._nodes = nodes
        self._top_k = top_k
        self._bm25 = bm25s.BM25()
        corpus = [tokenize(n.get_content()) for n in nodes]
        if nodes:
            self._bm25.index(corpus, show_progress=False)

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

    def tokens_in_more_documents_than(self, floor: float) -> set[str]:
        """The tokens more than ``floor`` documents hold."""
        if not self._nodes:
            return set()
        indptr = self._bm25.scores["indptr"]
        return {
            token
            for token, column in self._bm25.vocab_dict.items()
            if column + 1 < len(indptr)  # bm25s keeps one token for unknown words past the end
            and indptr[column + 1] - indptr[column] > floor  # a chunk count: cheap to rule out
            and len(self.documents_holding(token)) > floor
        }

    def documents_holding(self, token: str) -> frozenset[str]:
        """The ids of the documents whose chunks hold ``token`` (as :func:`tokenize` gives it)."""
        column = self._bm25.vocab_dict.get(token) if self._nodes else None
        if column is None:
            return frozenset()
        postings = self._bm25.scores
        chunks = postings["indices"][postings["indptr"][column] : postings["indptr"][column + 1]]
        return frozenset(self._nodes[int(i)].metadata["doc_id"] for i in chunks)


class HybridRetriever(BaseRetriever):
    """Reciprocal-rank fusion of a dense and a BM25 retriever; keeps each node's dense score."""

    def __init__(self, dense: BaseRetriever, sparse: BaseRetriever, top_k: int = 4, k: int = 60):
        super().__init__()
        self._dense = dense
        self.sparse = sparse
        self._top_k = top_k
        self._k = k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return self.fuse(query_bundle)[: self._top_k]

    def fuse(self, query_bundle: QueryBundle | str) -> list[NodeWithScore]:
        """Every node either retriever found, best first (``retrieve`` keeps ``top_k``)."""
        if isinstance(query_bundle, str):
            query_bundle = QueryBundle(query_bundle)
        fused: dict[str, float] = {}
        nodes: dict[str, Any] = {}
        for results in (self._dense.retrieve(query_bundle), self.sparse.retrieve(query_bundle)):
            for rank, hit in enumerate(results):
                node_id = hit.node.node_id
                fused[node_id] = fused.get(node_id, 0.0) + 1.0 / (self._k + rank + 1)
                nodes.setdefault(node_id, hit.node)
        best = sorted(fused, key=lambda nid: (-fused[nid], nid))
        return [NodeWithScore(node=nodes[nid], score=fused[nid]) for nid in best]


def build_retriever(store, embed_model, top_k: int, nodes=None) -> HybridRetriever:
    """Dense retrieval over the store's Chroma collection plus BM25 over its chunks
    (``nodes``, when the caller already has ``store.nodes()``)."""
    index = VectorStoreIndex.from_vector_store(store.vector_store, embed_model=embed_model)
    dense = index.as_retriever(similarity_top_k=top_k * 2)
    sparse = BM25Retriever(store.nodes() if nodes is None else nodes, top_k=top_k * 2)
    return HybridRetriever(dense, sparse, top_k=top_k)
