"""Which text the model sees for a question: the whole collection when it fits, else the
retrieved chunks whole, with what they refer back to."""

from __future__ import annotations

import re
from collections.abc import Callable

from llama_index.core.schema import TextNode

from .ingest import sentence_before
from .prompts import Passage, estimate_tokens

# Given (doc_id, start, end): the section path at start and at each heading before end.
SectionsOf = Callable[[str, int, int], tuple[tuple[int, str], ...]]


def stable_passages(nodes: list[TextNode], sections_of: SectionsOf | None = None) -> list[Passage]:
    """Number nodes in corpus order (document, then offset), which keeps prompts cache-friendly."""
    ordered = sorted(nodes, key=lambda n: (n.metadata["doc_id"], int(n.metadata["start"])))
    return [chunk_passage(node, sections_of, i) for i, node in enumerate(ordered, 1)]


def chunk_passage(
    node: TextNode, sections_of: SectionsOf | None = None, number: int = 0
) -> Passage:
    """One chunk as a passage, each of its sentences under its own section path."""
    if sections_of is None:
        return Passage(number, node)
    meta = node.metadata
    return Passage(number, node, sections_of(meta["doc_id"], int(meta["start"]), int(meta["end"])))


# A chunk that opens with one of these takes its subject from the sentence before it.
_REFERS_BACK = re.compile(
    r"^(?:[Ii]t|[Ii]ts|[Tt]his|[Tt]hese|[Tt]hose|[Tt]hey|[Tt]heir|[Hh]e|[Ss]he|[Hh]is|[Hh]er"
    r"|[Ss]uch|[Bb]oth|[Tt]he latter|[Tt]he former|[Tt]hat|[Tt]here|[Aa]lso|[Hh]owever"
    r"|[Ii]nstead|[Oo]therwise|[Tt]hen|[Hh]ere|[Ss]o)\b|^[a-z]"  # or it goes on a sentence
)


def retrieved_passages(
    nodes: list[TextNode],
    text_of: Callable[[str], str],
    budget: int,
    sections_of: SectionsOf | None = None,
) -> list[Passage]:
    """The retrieved chunks, best first, whole, until ``budget`` tokens (the first always).

    Real prose refers back ("It lost 2 million subscribers…"), so each chunk keeps its subject:
    its heading path goes in the passage header, a chunk that opens by referring back gets the
    sentence before it, and chunks of one document that touch are joined into one passage.
    Offsets stay exact, so citations resolve as for single chunks. With ``sections_of``,
    each sentence is read under its own section path, not the first chunk's.
    """
    picked: list[tuple[str, list[int], dict]] = []  # (doc_id, [start, end], metadata)
    used = 0
    for node in nodes:
        doc_id = node.metadata["doc_id"]
        start, end = int(node.metadata["start"]), int(node.metadata["end"])
        text = text_of(doc_id)
        opening = text[start:end].lstrip()
        if start and _REFERS_BACK.match(opening):
            before = sentence_before(text, start, reach=600)
            if before and len(before.text.split()) <= 60:
                start = before.start
        cost = estimate_tokens(text[start:end])
        if picked and used + cost > budget:
            continue  # a shorter chunk further down may still fit
        used += cost
        for other_doc, span, _ in picked:
            if other_doc == doc_id and start <= span[1] + 2 and end >= span[0] - 2:
                span[0], span[1] = min(span[0], start), max(span[1], end)  # touching: join
                break
        else:
            picked.append((doc_id, [start, end], node.metadata))
    return [
        passage_at(
            number,
            metadata,
            start,
            end,
            text_of(doc_id),
            sections_of(doc_id, start, end) if sections_of else (),
        )  # fmt: skip
        for number, (doc_id, (start, end), metadata) in enumerate(picked, 1)
    ]


def passage_at(
    number: int,
    metadata: dict,
    start: int,
    end: int,
    text: str,
    sections: tuple[tuple[int, str], ...] = (),
) -> Passage:
    """``text[start:end]`` of the document ``metadata`` describes (its title and heading
    path), as passage ``number``; offsets stay exact, so citations resolve as for chunks.
    ``sections``: the section path at ``start`` and at each heading inside."""
    node = TextNode(
        id_=f"{metadata['doc_id']}@{start}-{end}",
        text=text[start:end],
        metadata={**metadata, "start": start, "end": end},
    )
    return Passage(number, node, sections)
