"""Prompting, generation and citation verification: the answer side of the pipeline."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.schema import NodeWithScore, TextNode

from .config import data_dir
from .ingest import Span, split_sentences
from .retrieve import tokenize


@dataclass(frozen=True)
class Citation:
    """A verified source for a claim: ``document_text[start:end] == quote``."""

    source: str  # path of the article relative to the corpus root
    title: str
    quote: str
    start: int
    end: int
    score: float  # share of the claim's content words found in the quote
    date: str | None = None


@dataclass
class Answer:
    """What :meth:`assistant.Assistant.ask` returns."""

    question: str
    text: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)  # answer sentences no quote supports
    retrieved: list[str] = field(default_factory=list)  # article ids, best first
    raw_text: str = ""  # what the model wrote, before verification
    rewritten: str | None = None  # the standalone question, when a follow-up was rewritten
    timings: dict[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text

    def to_dict(self) -> dict:
        return {
            "answer": self.text,
            "refused": self.refused,
            "citations": [
                {k: getattr(c, k) for k in ("source", "title", "quote", "start", "end")}
                for c in self.citations
            ],
        }

    def _repr_markdown_(self) -> str:
        lines = [f"> {self.text}" if not self.refused else f"*{self.text}*", ""]
        if self.citations:
            lines.append("**Sources**")
            lines.append("")
            for n, c in enumerate(self.citations, 1):
                lines.append(f"{n}. **{c.title}** (`{c.source}`): “{c.quote}”")
        if self.unsupported:
            lines += ["", "*Not verified against the sources:* " + " ".join(self.unsupported)]
        return "\n".join(lines)


# --- prompts ----------------------------------------------------------------------------------


@cache
def load_prompt(name: str, prompts_dir: Path | None = None) -> str:
    return ((prompts_dir or data_dir("prompts")) / f"{name}.txt").read_text(encoding="utf-8")


def fill(template: str, **values: object) -> str:
    """Replace ``{name}`` placeholders in one pass (inserted text is never re-scanned)."""
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m[1], m[0])), template)


@dataclass(frozen=True)
class Passage:
    """A chunk shown to the model under the number ``number``."""

    number: int
    node: TextNode

    @property
    def doc_id(self) -> str:
        return self.node.metadata["doc_id"]

    @property
    def spans(self) -> list[tuple[int, int]]:
        """Where the passage's text lies in its article (several spans for joined windows)."""
        if "spans" in self.node.metadata:
            return self.node.metadata["spans"]
        start = int(self.node.metadata["start"])
        return [(start, start + len(self.node.get_content()))]


def estimate_tokens(text: str) -> int:
    return int(len(text) / 3.5) + 1  # slightly over the real count for English prose


def build_system_prompt(passages: list[Passage]) -> str:
    source = load_prompt("source")
    blocks = [
        fill(
            source,
            number=p.number,
            title=p.node.metadata.get("title", ""),
            source=p.doc_id,
            text=p.node.get_content().replace('"""', '"'),
        ).strip()
        for p in passages
    ]
    return fill(load_prompt("system"), sources="\n\n".join(blocks)).strip()


def build_messages(question: str, passages: list[Passage]) -> list[ChatMessage]:
    """System message (instructions + sources) first, then the question.

    The system message depends only on the passages, so when they are the same across questions
    llama.cpp reuses its cached prompt and pre-fills only the short user message.
    """
    return [
        ChatMessage(role=MessageRole.SYSTEM, content=build_system_prompt(passages)),
        ChatMessage(
            role=MessageRole.USER, content=fill(load_prompt("question"), question=question)
        ),
    ]


def stable_passages(nodes: list[TextNode]) -> list[Passage]:
    """Number nodes in corpus order (article, then offset), which keeps prompts cache-friendly."""
    ordered = sorted(nodes, key=lambda n: (n.metadata["doc_id"], int(n.metadata["start"])))
    return [Passage(i, node) for i, node in enumerate(ordered, 1)]


def sentence_windows(
    question: str,
    nodes: list[TextNode],
    text_of,
    budget: int,
    weights: dict[str, float] | None = None,
    per_chunk: int = 2,
    min_relevance: float = 0.75,
) -> list[TextNode]:
    """The sentences of the retrieved chunks that best cover the question's words.

    From each chunk, up to ``per_chunk`` sentences are picked by greedy cover of the question's
    content words, each word weighing ``weights[word]`` (its rarity; 1 by default). A chunk is
    kept when its picks hold at least ``min_relevance`` of the best chunk's weight, or when they
    add the rest (``1 - min_relevance`` of it) in words no kept chunk holds: the other half of
    a two-part question. Other chunks share only common words with the question. The kept ones
    are taken in rank order until ``budget`` tokens are used (the first pick always fits).
    Adjacent picks of one article become one window. Offsets stay exact, so citations resolve
    as for whole chunks.
    """
    weights = weights or dict.fromkeys(tokenize(question), 1.0)

    def weight(words: set[str]) -> float:
        return sum(weights[w] for w in words)

    candidates: list[tuple[TextNode, list[Span], set[str]]] = []
    for node in nodes:
        sentences = split_sentences(node.get_content(), offset=int(node.metadata["start"]))
        words = [weights.keys() & set(tokenize(s.text)) for s in sentences]
        covered: set[str] = set()
        chosen: list[int] = []
        for _ in range(per_chunk):
            # Prefer question words the earlier picks lack, then most question words.
            _, overlap, earliest = max(
                (
                    (weight(w - covered), weight(w), -i)
                    for i, w in enumerate(words)
                    if i not in chosen
                ),
                default=(0, 0, 0),
            )
            if not overlap:
                break
            chosen.append(-earliest)
            covered |= words[-earliest]
        candidates.append((node, [sentences[i] for i in chosen], covered))
    best = max((weight(covered) for *_, covered in candidates), default=0.0)
    strong = [weight(covered) >= min_relevance * best > 0 for *_, covered in candidates]
    known = set().union(*(c for (*_, c), s in zip(candidates, strong) if s))
    kept = []
    for (node, spans, covered), is_strong in zip(candidates, strong):
        if is_strong or weight(covered - known) >= (1 - min_relevance) * best > 0:
            kept.append((node, spans))
            known |= covered
    picked: dict[str, list[Span]] = {}
    metadata: dict[str, dict] = {}
    used = 0
    for node, spans in kept:
        for span in spans:
            cost = estimate_tokens(span.text)
            if used and used + cost > budget:
                break
            used += cost
            doc_id = node.metadata["doc_id"]
            metadata.setdefault(doc_id, node.metadata)
            picked.setdefault(doc_id, []).append(span)
    windows = []
    for doc_id, spans in picked.items():
        text = text_of(doc_id)
        merged: list[list[int]] = []
        for span in sorted(spans, key=lambda sp: sp.start):
            if merged and not text[merged[-1][1] : span.start].strip():
                merged[-1][1] = max(merged[-1][1], span.end)  # adjacent: one window
            else:
                merged.append([span.start, span.end])
        # One passage per article, its windows joined by an ellipsis: one header to pre-fill.
        windows.append(
            TextNode(
                id_=f"{doc_id}@" + ",".join(f"{lo}-{hi}" for lo, hi in merged),
                text=" … ".join(text[lo:hi] for lo, hi in merged),
                metadata={
                    **metadata[doc_id],
                    "start": merged[0][0],
                    "end": merged[-1][1],
                    "spans": [(lo, hi) for lo, hi in merged],
                },
            )
        )
    return windows


# --- verification ------------------------------------------------------------------------------

MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_REFUSAL = re.compile(
    r"(?:sources?|articles?|documents?|context|text|passages?)\s+(?:do|does|did)\s*(?:not|n't)\s+"
    r"(?:say|mention|contain|provide|specify|state|include|give)"
    r"|\bnot\s+(?:mentioned|specified|provided|stated|given|included|available)\b"
    r"|\bno (?:information|mention|details?)\b|\bcannot (?:answer|find|be determined)\b"
    r"|\bdo(?:es)? not know\b|\bunable to (?:find|determine|answer)\b",
    re.IGNORECASE,
)


def is_refusal(text: str) -> bool:
    return not text.strip() or bool(_REFUSAL.search(text))


def parse_markers(sentence: str) -> tuple[str, list[int]]:
    """Split ``"Paris is big [1][2, 3]."`` into ``("Paris is big.", [1, 2, 3])``."""
    numbers = [int(n) for m in MARKER.finditer(sentence) for n in m.group(1).split(",")]
    claim = MARKER.sub("", sentence).strip()
    claim = re.sub(r"\s+([.,;:!?])", r"\1", claim)
    return claim, list(dict.fromkeys(numbers))


@dataclass(frozen=True)
class Support:
    passage: Passage
    span: Span
    score: float  # share of the claim's content words this quote contains


def support_score(claim: str, quote: str) -> float:
    """Share of the claim's content words that appear in the quote (0 when a number is missing)."""
    claim_tokens = set(tokenize(claim))
    if not claim_tokens or not set(_NUMBER.findall(claim)) <= set(_NUMBER.findall(quote)):
        return 0.0
    return len(claim_tokens & set(tokenize(quote))) / len(claim_tokens)


def find_support(
    claim: str, passages: list[Passage], text_of, threshold: float, max_quotes: int = 3
) -> list[Support]:
    """Fewest sentences of ``passages`` that together hold the claim's words and all its numbers.

    Greedy set cover: take the sentence adding the most uncovered words, up to ``max_quotes``;
    earlier passages win ties. Returns [] when the cover stays below ``threshold``.
    """
    claim_tokens = set(tokenize(claim))
    numbers = set(_NUMBER.findall(claim))
    if not claim_tokens:
        return []
    candidates = []
    for passage in passages:
        doc_text = text_of(passage.doc_id)
        for lo, hi in passage.spans:
            for span in split_sentences(doc_text[lo:hi], offset=lo):
                candidates.append(
                    (passage, span, set(tokenize(span.text)), set(_NUMBER.findall(span.text)))
                )
    chosen: list[Support] = []
    covered: set[str] = set()
    found_numbers: set[str] = set()
    while len(chosen) < max_quotes and covered != claim_tokens:
        best, gain = None, 0
        for cand in candidates:
            g = len((claim_tokens & cand[2]) - covered) + len((numbers & cand[3]) - found_numbers)
            if g > gain:
                best, gain = cand, g
        # A further quote must add real content (a quarter of the claim), not a common word.
        if best is None or (chosen and gain < max(2, 0.25 * len(claim_tokens))):
            break
        covered |= claim_tokens & best[2]
        found_numbers |= numbers & best[3]
        score = len(claim_tokens & best[2]) / len(claim_tokens)
        chosen.append(Support(best[0], best[1], score))
    if len(covered) / len(claim_tokens) < threshold or not numbers <= found_numbers:
        return []
    return chosen


@dataclass
class Verified:
    text: str
    citations: list[Citation]
    unsupported: list[str]


def verify(raw: str, passages: list[Passage], ranked: list[Passage], text_of, threshold: float):
    """Resolve every ``[n]`` marker to quotes that support its sentence, or flag the sentence.

    ``passages`` are the numbered passages the model saw; ``ranked`` the retrieved ones, best
    first. A sentence is checked against the passages it cites, then against all of them.
    """
    by_number = {p.number: p for p in passages}
    citations: list[Citation] = []
    out: list[str] = []
    unsupported: list[str] = []
    for sentence in split_sentences(raw.strip()):
        claim, numbers = parse_markers(sentence.text)
        if not tokenize(claim):
            continue  # a stray marker or punctuation
        cited = [by_number[n] for n in numbers if n in by_number]
        supports = find_support(claim, cited, text_of, threshold) if cited else []
        if not supports:
            seen = {p.node.node_id for p in cited}
            pool = cited + [p for p in ranked + passages if p.node.node_id not in seen]
            supports = find_support(claim, pool, text_of, threshold)
        if not supports:
            unsupported.append(claim)
            out.append(claim)
            continue
        markers = []
        for found in supports:
            citation = Citation(
                source=found.passage.doc_id,
                title=found.passage.node.metadata.get("title", ""),
                quote=found.span.text,
                start=found.span.start,
                end=found.span.end,
                score=round(found.score, 3),
                date=found.passage.node.metadata.get("date") or None,
            )
            key = (citation.source, citation.start, citation.end)
            index = next(
                (i for i, c in enumerate(citations) if (c.source, c.start, c.end) == key), None
            )
            if index is None:
                citations.append(citation)
                index = len(citations) - 1
            markers.append(index + 1)
        out.append(_with_markers(claim, markers))
    return Verified(" ".join(out), citations, unsupported)


def quotes_only_unretrieved(verified: Verified, ranked: list[Passage]) -> bool:
    """True when no quote lies in a passage retrieved for the question.

    With the whole collection as context the model can quote anything; a true, quoted answer
    drawn only from passages retrieval did not rank answers some other question.
    """
    return not any(
        p.doc_id == c.source and lo <= c.start < hi
        for c in verified.citations
        for p in ranked
        for lo, hi in p.spans
    )


def _with_markers(claim: str, numbers: list[int]) -> str:
    tag = "".join(f"[{n}]" for n in dict.fromkeys(numbers))
    if claim and claim[-1] in ".!?":
        return f"{claim[:-1]} {tag}{claim[-1]}"
    return f"{claim} {tag}"


# --- one question, end to end --------------------------------------------------------------------


class Generation:
    """Streams the model's text for one question, then verifies it into an :class:`Answer`."""

    def __init__(self, question, passages, retrieved, llm, text_of, settings, timings, asked=None):
        self.question = question
        self.passages = passages
        self.retrieved: list[NodeWithScore] = retrieved
        self.llm = llm
        self.text_of = text_of
        self.settings = settings
        self.timings = timings
        self.asked = asked or question  # what the user typed (``question`` may be its rewrite)
        self.answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        began = time.perf_counter()
        messages = build_messages(self.question, self.passages)
        raw = ""
        last = None
        for response in self.llm.stream_chat(
            messages,
            max_tokens=self.settings.max_answer_tokens,
            temperature=self.settings.temperature,
        ):
            if response.delta:
                if not raw:
                    self.timings["first_token_s"] = time.perf_counter() - began
                raw += response.delta
                yield response.delta
            last = response
        self.timings["generate_s"] = time.perf_counter() - began
        usage = getattr(last, "raw", None) or {}
        for key, name in (("prompt_n", "prompt_tokens"), ("cache_n", "cached_tokens"),
                          ("predicted_n", "completion_tokens")):  # fmt: skip
            if isinstance(usage, dict) and key in (usage.get("timings") or {}):
                self.timings[name] = usage["timings"][key]
        self.answer = self.finish(raw)

    def finish(self, raw: str) -> Answer:
        ranked = [Passage(0, hit.node) for hit in self.retrieved]
        retrieved_docs = list(dict.fromkeys(p.doc_id for p in ranked))
        refusal = load_prompt("refusal").strip()
        answer = Answer(
            question=self.asked,
            rewritten=self.question if self.question != self.asked else None,
            text=refusal,
            refused=True,
            retrieved=retrieved_docs,
            raw_text=raw,
            timings=self.timings,
        )
        if is_refusal(raw):
            return answer
        verified = verify(raw, self.passages, ranked, self.text_of, self.settings.support_threshold)
        if not verified.citations:
            answer.unsupported = verified.unsupported
            return answer  # nothing the model said is in the sources: do not pass it on
        if quotes_only_unretrieved(verified, ranked):
            return answer  # true, and quoted, but not about what was asked
        answer.text = verified.text
        answer.refused = False
        answer.citations = verified.citations
        answer.unsupported = verified.unsupported
        return answer
