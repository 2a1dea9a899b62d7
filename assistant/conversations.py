"""Saved conversations: each question with its whole :class:`Answer`, in one SQLite file.

A message is written in one transaction (WAL, so several browser sessions write at once and
a killed process loses at most the message in flight). Each citation is saved with the
content hash of its document, so when a conversation is opened after the documents changed,
the citation is found again by its quote, or marked as changed or removed; it never shows
other text that now sits at the old offsets. Deleting a conversation overwrites its rows in
the file (``secure_delete``), not just hides them.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from .errors import AssistantError, ConversationNotFound
from .results import Answer, Citation, Usage

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,          -- the Answer as JSON, citations with document hashes
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation_id, id);
"""


@dataclass
class Message:
    question: str
    answer: Answer
    created_at: str


@dataclass
class Conversation:
    id: str
    title: str
    created_at: str
    updated_at: str
    messages: list[Message] = field(default_factory=list)

    @property
    def history(self) -> list[tuple[str, str]]:
        """``(question, answer text)`` pairs, for reading a follow-up."""
        return [(m.question, m.answer.text) for m in self.messages]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def answer_to_json(answer: Answer, hashes: dict[str, str]) -> str:
    data = {
        "text": answer.text,
        "refused": answer.refused,
        "unsupported": answer.unsupported,
        "rewritten": answer.rewritten,
        "retrieved": answer.retrieved,
        "usage": asdict(answer.usage),
        "citations": [{**asdict(c), "sha256": hashes.get(c.source, "")} for c in answer.citations],
    }
    return json.dumps(data, ensure_ascii=False)


def answer_from_json(question: str, raw: str) -> tuple[Answer, list[str]]:
    """The saved Answer, and the content hash each citation's document had then."""
    data = json.loads(raw)
    citations, hashes = [], []
    for c in data["citations"]:
        hashes.append(c.pop("sha256", ""))
        citations.append(Citation(**c))
    answer = Answer(
        question=question,
        text=data["text"],
        refused=data["refused"],
        citations=citations,
        unsupported=data.get("unsupported", []),
        retrieved=data.get("retrieved", []),
        rewritten=data.get("rewritten"),
        usage=Usage(**data.get("usage", {})),
    )
    return answer, hashes


class ConversationStore:
    """Conversations in one SQLite file; safe to share between threads and processes."""

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA foreign_keys=ON")
                db.execute("PRAGMA secure_delete=ON")  # deleted text is overwritten
                db.executescript(SCHEMA)
            except sqlite3.DatabaseError as exc:
                raise AssistantError(
                    f"the conversations file {self.path} is damaged ({exc}); move it aside "
                    "(conversations start afresh) or set ASSISTANT_CONVERSATIONS_PATH"
                ) from exc
            self._local.db = db
        return db

    def create(self, title: str) -> str:
        cid = uuid.uuid4().hex[:12]
        now = _now()
        self._db().execute(
            "INSERT INTO conversations (id, title, created_at, updated_at) VALUES (?, ?, ?, ?)",
            (cid, _title(title), now, now),
        )
        return cid

    def append(self, cid: str, question: str, answer: Answer, hashes: dict[str, str]) -> None:
        """Save one message and touch its conversation, in one transaction."""
        db = self._db()
        now = _now()
        with _transaction(db):
            found = db.execute(
                "UPDATE conversations SET updated_at = ? WHERE id = ?", (now, cid)
            ).rowcount
            if not found:
                raise ConversationNotFound(f"no conversation {cid!r}: list them first")
            db.execute(
                "INSERT INTO messages (conversation_id, question, answer, created_at) "
                "VALUES (?, ?, ?, ?)",
                (cid, question, answer_to_json(answer, hashes), now),
            )

    def list(self) -> list[Conversation]:
        """Every conversation, newest first, without its messages."""
        rows = self._db().execute(
            "SELECT id, title, created_at, updated_at FROM conversations "
            "ORDER BY updated_at DESC, rowid DESC"
        )
        return [Conversation(*row) for row in rows]

    def get(self, cid: str) -> tuple[Conversation, list[list[str]]]:
        """A conversation with its messages as saved, and each citation's document hash."""
        db = self._db()
        row = db.execute(
            "SELECT id, title, created_at, updated_at FROM conversations WHERE id = ?", (cid,)
        ).fetchone()
        if row is None:
            raise ConversationNotFound(f"no conversation {cid!r}: list them first")
        conversation = Conversation(*row)
        hashes = []
        for question, raw, created in db.execute(
            "SELECT question, answer, created_at FROM messages WHERE conversation_id = ? "
            "ORDER BY id",
            (cid,),
        ):
            answer, saved = answer_from_json(question, raw)
            conversation.messages.append(Message(question, answer, created))
            hashes.append(saved)
        return conversation, hashes

    def rename(self, cid: str, title: str) -> None:
        if (
            not self._db()
            .execute("UPDATE conversations SET title = ? WHERE id = ?", (_title(title), cid))
            .rowcount
        ):
            raise ConversationNotFound(f"no conversation {cid!r}: list them first")

    def delete(self, cid: str) -> None:
        db = self._db()
        with _transaction(db):
            db.execute("DELETE FROM messages WHERE conversation_id = ?", (cid,))
            if not db.execute("DELETE FROM conversations WHERE id = ?", (cid,)).rowcount:
                raise ConversationNotFound(f"no conversation {cid!r}: list them first")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the write-ahead log held the text too


@contextmanager
def _transaction(db: sqlite3.Connection):
    """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` on any error."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _title(text: str) -> str:
    text = " ".join(text.split())
    return (text[:77] + "…") if len(text) > 80 else (text or "Untitled")


# --- opening a saved answer against the index as it is now ------------------------------------

CURRENT, MOVED, CHANGED, REMOVED = "current", "moved", "changed", "removed"


def reanchor(
    citation: Citation, saved_hash: str, record_of: Callable[[str], object | None]
) -> Citation:
    """The citation against the documents as indexed now: unchanged, found again by its quote
    (offsets updated), or marked ``changed`` (its quote is gone) or ``removed``."""
    record = record_of(citation.source)
    if record is None:
        return replace(citation, status=REMOVED)
    text = record.text
    if record.sha256 == saved_hash and text[citation.start : citation.end] == citation.quote:
        return citation
    found = _nearest(text, citation.quote, citation.start)
    if found is None:
        return replace(citation, status=CHANGED)
    page = record.page_at(found)
    return replace(citation, start=found, end=found + len(citation.quote), page=page, status=MOVED)


def _nearest(text: str, quote: str, near: int) -> int | None:
    """Where ``quote`` occurs in ``text``, the occurrence nearest ``near``."""
    best = None
    at = text.find(quote)
    while at >= 0:
        if best is None or abs(at - near) < abs(best - near):
            best = at
        at = text.find(quote, at + 1)
    return best


def to_markdown(conversation: Conversation) -> str:
    """A conversation as Markdown: each question, its answer, its numbered sources."""
    lines = [f"# {conversation.title}", "", f"*{conversation.created_at}*", ""]
    for message in conversation.messages:
        answer = message.answer
        lines += [f"## {message.question}", "", answer.text, ""]
        for n, c in enumerate(answer.citations, 1):
            note = {CHANGED: " (the source has changed since this answer)",
                    REMOVED: " (source removed)"}.get(c.status, "")  # fmt: skip
            lines.append(f"{n}. **{c.title}** (`{c.locator}`){note}: “{c.quote}”")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def to_json(conversation: Conversation) -> str:
    data = {
        "id": conversation.id,
        "title": conversation.title,
        "created_at": conversation.created_at,
        "updated_at": conversation.updated_at,
        "messages": [
            {
                "question": m.question,
                "created_at": m.created_at,
                "answer": {
                    **m.answer.to_dict(),
                    "citations": [
                        {**c, "status": cite.status}
                        for c, cite in zip(m.answer.to_dict()["citations"], m.answer.citations)
                    ],
                },
            }
            for m in conversation.messages
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


class Conversations:
    """``Assistant.conversations``: list, open, rename, delete and export saved conversations.
    Opened conversations have their citations checked against the index as it is now."""

    def __init__(self, store: ConversationStore | None, record_of: Callable[[str], object]):
        self.store = store
        self.record_of = record_of

    def _store(self) -> ConversationStore:
        if self.store is None:
            raise AssistantError(
                "conversations are not saved here (ASSISTANT_SAVE_CONVERSATIONS=false)"
            )
        return self.store

    def list(self) -> list[Conversation]:
        """Every conversation, newest first (messages not loaded)."""
        return self.store.list() if self.store else []

    def latest(self) -> str | None:
        conversations = self.list()
        return conversations[0].id if conversations else None

    def get(self, cid: str) -> Conversation:
        """A conversation with its messages; each citation found again in its document as
        indexed now (``Citation.status`` says how)."""
        conversation, hashes = self._store().get(cid)
        for message, saved in zip(conversation.messages, hashes):
            message.answer.citations = [
                reanchor(c, h, self.record_of) for c, h in zip(message.answer.citations, saved)
            ]
        return conversation

    def history(self, cid: str) -> list[tuple[str, str]]:
        """Its ``(question, answer text)`` turns, for reading a follow-up."""
        return self._store().get(cid)[0].history

    def rename(self, cid: str, title: str) -> None:
        self._store().rename(cid, title)

    def delete(self, cid: str) -> None:
        """Remove the conversation from the file (its text is overwritten, not hidden)."""
        self._store().delete(cid)

    def export(self, cid: str, format: str = "md") -> str:
        """The conversation as Markdown (``"md"``) or JSON (``"json"``)."""
        if format not in ("md", "json"):
            raise AssistantError(f"unknown export format {format!r}: use md or json")
        conversation = self.get(cid)
        return to_markdown(conversation) if format == "md" else to_json(conversation)


__all__ = ["Conversation", "Conversations", "ConversationStore", "Message", "reanchor"]
