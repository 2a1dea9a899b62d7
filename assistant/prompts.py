"""Prompt files (``prompts/``) and the numbered passages they show the model."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.schema import TextNode

from .config import data_dir
from .ingest import Span, sentences_between


@cache
def load_prompt(name: str, prompts_dir: Path | None = None) -> str:
    return ((prompts_dir or data_dir("prompts")) / f"{name}.txt").read_text(encoding="utf-8")


def fill(template: str, **values: object) -> str:
    """Replace ``{name}`` placeholders in one pass (inserted text is never re-scanned)."""
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m[1], m[0])), template)


@dataclass(frozen=True)
class Passage:
    """Text shown to the model under the number ``number``: a chunk, or neighbouring chunks
    of one document joined."""

    number: int
    node: TextNode
    # The section path at the passage's start and at each heading inside it, by offset in
    # the document; without them, the node's own section holds throughout.
    sections: tuple[tuple[int, str], ...] = ()

    @property
    def doc_id(self) -> str:
        return self.node.metadata["doc_id"]

    @property
    def heading(self) -> str:
        """Title and section path where the passage starts: what it is about when its text
        says "it"."""
        return self.heading_at(int(self.node.metadata.get("start", 0)))

    def section_at(self, offset: int) -> str:
        """The section path of the document at ``offset`` (within the passage)."""
        section = self.node.metadata.get("section", "")
        for at, path in self.sections:
            if at > offset:
                break
            section = path
        return section

    def heading_at(self, offset: int) -> str:
        """Title and section path at ``offset``: a sentence's own, which may be a later
        entry's than the passage's start ("statistics.median(data)" after harmonic_mean's)."""
        title = self.node.metadata.get("title", "")
        section = self.section_at(offset)
        return f"{title} › {section}" if title and section else title or section

    @property
    def spans(self) -> list[tuple[int, int]]:
        """Where the passage's text lies in its document."""
        start = int(self.node.metadata["start"])
        return [(start, start + len(self.node.get_content()))]

    def sentences(self, text_of: Callable[[str], str]) -> list[Span]:
        """The passage's sentences, located in its document's text."""
        text = text_of(self.doc_id)
        return [s for lo, hi in self.spans for s in sentences_between(text, lo, hi)]


def estimate_tokens(text: str) -> int:
    return int(len(text) / 3.5) + 1  # slightly over the real count for English prose


def build_system_prompt(passages: list[Passage], retrieved: bool = False) -> str:
    """Instructions and sources. Retrieved passages get ``system-retrieved.txt``, which also
    tells the model that a passage's heading may name its subject and that other wording
    still answers: on the pydocs set it refuses less with it, while over the whole bundled
    collection the plainer ``system.txt`` answers more (measured, see the README)."""
    source = load_prompt("source")
    blocks = [
        fill(
            source,
            number=p.number,
            title=p.heading,
            source=p.doc_id,
            text=p.node.get_content().replace('"""', '"'),
        ).strip()
        for p in passages
    ]
    template = load_prompt("system-retrieved" if retrieved else "system")
    return fill(template, sources="\n\n".join(blocks)).strip()


def build_messages(
    question: str, passages: list[Passage], retrieved: bool = False
) -> list[ChatMessage]:
    """System message (instructions + sources) first, then the question.

    The system message depends only on the passages, so when they are the same across questions
    llama.cpp reuses its cached prompt and pre-fills only the short user message.
    """
    return [
        ChatMessage(role=MessageRole.SYSTEM, content=build_system_prompt(passages, retrieved)),
        ChatMessage(
            role=MessageRole.USER, content=fill(load_prompt("question"), question=question)
        ),
    ]


def numbered_sentences(
    passages: list[Passage], text_of: Callable[[str], str]
) -> tuple[str, dict[str, tuple[Passage, Span]]]:
    """The passages one labelled sentence a line (``[2.3]`` is passage 2's third sentence),
    for the model to point at the one that answers; and what each label stands for."""
    blocks, labels = [], {}
    for p in passages:
        lines = [f"Source [{p.number}]: {p.heading}"]
        for k, span in enumerate(p.sentences(text_of), 1):
            labels[f"{p.number}.{k}"] = (p, span)
            lines.append(f"[{p.number}.{k}] {span.text}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks), labels


def pick_messages(question: str, listing: str) -> list[ChatMessage]:
    """Asks the model for the label of the sentence in ``listing`` (``numbered_sentences``)
    that answers ``question``. The listing leads, so over the whole collection every
    question shares it as a cached prefix."""
    system = fill(load_prompt("pick-system"), sources=listing).strip()
    ask = fill(load_prompt("pick"), question=question).strip()
    return [
        ChatMessage(role=MessageRole.SYSTEM, content=system),
        ChatMessage(role=MessageRole.USER, content=ask),
    ]
