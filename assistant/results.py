"""What a question gives back: :class:`Answer` with :class:`Citation`s and its :class:`Usage`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Citation:
    """A verified source for a claim: ``document_text[start:end] == quote``."""

    source: str  # path of the document relative to the corpus root
    title: str
    quote: str
    start: int
    end: int
    score: float  # share of the claim's content words found in the quote and its headings
    date: str | None = None
    section: str = ""  # heading path of the quote in its document, "Usage › Options"
    page: int | None = None  # 1-based page, for paginated documents
    # For a saved answer opened later: "current", "moved" (found again, offsets updated),
    # "changed" (its quote is no longer in the document) or "removed" (the document is gone).
    status: str = "current"

    @property
    def locator(self) -> str:
        """Where the quote is, for people: ``"guide.html · Usage › Options"``."""
        where = f"p. {self.page}" if self.page else self.section
        return f"{self.source} · {where}" if where else self.source


@dataclass(frozen=True)
class SearchHit:
    """A passage retrieval found for a query, without any LLM: ``text`` is
    ``document_text[start:end]``."""

    source: str
    title: str
    text: str
    start: int
    end: int
    score: float  # fused rank score, higher is better
    section: str = ""
    page: int | None = None  # 1-based page where the passage starts, paginated documents

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Usage:
    """Tokens one answer took, as the engine counted them (0 when it does not say)."""

    prompt_tokens: int = 0  # pre-filled for this question
    cached_tokens: int = 0  # reused from the engine's prompt cache
    completion_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.cached_tokens + other.cached_tokens,
            self.completion_tokens + other.completion_tokens,
        )


@dataclass
class Answer:
    """What :meth:`assistant.Assistant.ask` returns."""

    question: str
    text: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)  # answer sentences no quote supports
    retrieved: list[str] = field(default_factory=list)  # document ids, best first
    raw_text: str = ""  # what the model wrote, before verification
    rewritten: str | None = None  # the standalone question, when a follow-up was rewritten
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step
    usage: Usage = field(default_factory=Usage)
    conversation_id: str | None = None  # the saved conversation this answer joined

    def __str__(self) -> str:
        return self.text

    def to_dict(self) -> dict:
        keys = ("source", "title", "quote", "start", "end", "section", "page")
        return {
            "answer": self.text,
            "refused": self.refused,
            "citations": [{k: getattr(c, k) for k in keys} for c in self.citations],
            "unsupported": self.unsupported,
            "rewritten": self.rewritten,
            "usage": asdict(self.usage),
            "conversation_id": self.conversation_id,
        }

    def _repr_markdown_(self) -> str:
        lines = [f"> {self.text}" if not self.refused else f"*{self.text}*", ""]
        if self.citations:
            lines.append("**Sources**")
            lines.append("")
            for n, c in enumerate(self.citations, 1):
                lines.append(f"{n}. **{c.title}** (`{c.locator}`): “{c.quote}”")
        if self.unsupported:
            lines += ["", "*Not verified against the sources:* " + " ".join(self.unsupported)]
        return "\n".join(lines)
