"""The index: chunks with embeddings in Chroma (through LlamaIndex), plus a catalog of documents,
chunks and sentences in SQLite (``catalog.sqlite3``, beside Chroma's folder).

What goes in is decided by :mod:`assistant.indexer`; this module only writes and reads it.

The catalog is the source of truth for what is indexed. A batch is written like this: its
documents are first marked *pending* (committed), then Chroma replaces their chunks, then one
transaction records them and clears the mark. A run killed anywhere in between leaves pending
documents, whose chunks the next run removes from Chroma before indexing them again; so no
chunk is ever duplicated or lost, and no step reads or rewrites the whole collection.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

from .errors import IndexDamagedError
from .ingest import Chunk, Document, Heading, Span, page_at, section_path

log = logging.getLogger(__name__)
CATALOG = "catalog.sqlite3"
MANIFEST = "manifest.json"  # the catalog's predecessor, migrated on first open
CHROMA_DIR = "chroma"
# 2: chunks carry their section path; 3: pages, author, trafilatura's HTML text; 4: SQLite;
# 5: headings, for each sentence's section path; 6: HTML paragraphs that only link to code
# (table cells, the terms of summaries) are read, no longer dropped as navigation.
_FORMAT = 6
_MANIFEST_FORMAT = 3  # the last format of manifest.json, the one that can be migrated
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,        -- of the file's bytes
    size INTEGER, mtime_ns INTEGER,  -- the file as last seen: unchanged files are not re-read
    title TEXT NOT NULL, date TEXT, author TEXT,
    pages TEXT NOT NULL,         -- JSON list: where each page starts in the text
    text TEXT NOT NULL,          -- the cleaned text every offset points into
    indexed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents ON DELETE CASCADE,
    position INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
    section TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_of_document ON chunks (doc_id, position);
CREATE TABLE IF NOT EXISTS sentences (
    doc_id TEXT NOT NULL REFERENCES documents ON DELETE CASCADE,
    start INTEGER NOT NULL, end INTEGER NOT NULL,
    PRIMARY KEY (doc_id, start)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS headings (
    doc_id TEXT NOT NULL REFERENCES documents ON DELETE CASCADE,
    start INTEGER NOT NULL, level INTEGER NOT NULL, text TEXT NOT NULL,
    PRIMARY KEY (doc_id, start)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pending (doc_id TEXT PRIMARY KEY);
"""


@dataclass
class DocRecord:
    """What the index knows of one document."""

    doc_id: str
    sha256: str
    title: str
    date: str | None
    text: str
    chunks: list[tuple[str, int, int, str]]  # (chunk_id, start, end, section)
    indexed_at: str
    author: str | None = None
    pages: list[int] = field(default_factory=list)  # where each page starts, paginated files
    headings: list[Heading] = field(default_factory=list)  # in text order

    def page_at(self, offset: int) -> int | None:
        """The 1-based page of ``offset`` in the text; None for unpaginated documents."""
        return page_at(self.pages, offset)

    def sections_between(self, start: int, end: int) -> tuple[tuple[int, str], ...]:
        """The section path at ``start`` and at each heading up to ``end``: a chunk may
        hold the end of one reference entry and the start of the next under the first one's
        path. An index without headings (migrated from a manifest) has its chunks' paths."""
        if self.headings:
            marks = [start] + [h.start for h in self.headings if start < h.start < end]
            return tuple((at, section_path(self.headings, at, self.title)) for at in marks)
        sections = [(s, section) for _, s, _, section in self.chunks]
        first = next((section for s, section in reversed(sections) if s <= start), "")
        return ((start, first), *((s, section) for s, section in sections if start < s < end))

    def to_dict(self) -> dict:
        """What the APIs list of a document (no text)."""
        return {
            "id": self.doc_id,
            "title": self.title,
            "date": self.date,
            "author": self.author,
            "chunks": len(self.chunks),
            "pages": len(self.pages) or None,
            "indexed_at": self.indexed_at,
        }

    def chunk_objects(self) -> list[Chunk]:
        return [
            Chunk(cid, self.doc_id, s, e, self.text[s:e], section)
            for cid, s, e, section in self.chunks
        ]


@dataclass
class SyncReport:
    """What one ``sync`` did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    chunks_added: int = 0
    chunks_removed: int = 0
    documents: int = 0
    chunks: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{self.documents} documents, {self.chunks} chunks in {self.seconds:.1f} s "
            f"({len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
            f"{len(self.unchanged)} unchanged, {len(self.skipped)} skipped; "
            f"+{self.chunks_added}/-{self.chunks_removed} chunks)"
        )


def chunk_node(chunk: Chunk, record: DocRecord | Document) -> TextNode:
    """A LlamaIndex node for a chunk; the title and section path join the text in the
    embedding, so a chunk that only says "it" is still found by what it is about."""
    metadata = {
        "doc_id": chunk.doc_id,
        "title": record.title,
        "section": chunk.section,
        "date": record.date or "",
        "start": chunk.start,
        "end": chunk.end,
    }
    node = TextNode(
        id_=chunk.chunk_id,
        text=chunk.text,
        metadata=metadata,
        excluded_embed_metadata_keys=["doc_id", "date", "start", "end"],
        excluded_llm_metadata_keys=list(metadata),
    )
    node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=chunk.doc_id)
    return node


@dataclass(frozen=True)
class Seen:
    """What a sync needs to know of an indexed file to tell whether it changed."""

    sha256: str
    size: int | None
    mtime_ns: int | None


class Store:
    """Chroma collection + SQLite catalog for one index directory."""

    def __init__(
        self,
        index_dir: Path,
        collection: str = "assistant",
        chroma_url: str | None = None,
        chunk_words: int = 110,
        embedder: str = "",
    ):
        self.index_dir = index_dir
        self.collection_name = collection
        self.chroma_url = chroma_url
        self.chunk_words = chunk_words  # how the indexed documents were chunked
        self.embedder = embedder  # which model made the vectors ("" for tests' fakes)
        self._records: dict[str, DocRecord] | None = None
        self._db: sqlite3.Connection | None = None
        # One connection for all threads: a question's thread must not read it while the
        # indexing thread is inside a transaction on it (it would see that half done).
        self._lock = threading.RLock()
        self._collection = None
        self._vector_store = None

    # --- opening --------------------------------------------------------------------------

    @property
    def catalog_path(self) -> Path:
        return self.index_dir / CATALOG

    def _damaged(self, exc: Exception) -> IndexDamagedError:
        return IndexDamagedError(
            f"the index catalog {self.catalog_path} is damaged ({exc}); "
            "run `assistant index --rebuild` to recreate it"
        )

    @contextmanager
    def _transaction(self):
        with self._lock, self.db:
            yield

    @property
    def db(self) -> sqlite3.Connection:
        """The catalog, created (or migrated from ``manifest.json``) on first use."""
        with self._lock:
            return self._open_db()

    def _open_db(self) -> sqlite3.Connection:
        if self._db is None:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            fresh = not self.catalog_path.exists()
            try:
                db = sqlite3.connect(self.catalog_path, check_same_thread=False)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")  # WAL: a crash loses no commit's order
                db.execute("PRAGMA foreign_keys=ON")
                db.executescript(_SCHEMA)
                if fresh:
                    with db:
                        self._set_meta(db, format=_FORMAT, chunk_words=self.chunk_words,
                                       embedder=self.embedder)  # fmt: skip
            except sqlite3.DatabaseError as exc:
                raise self._damaged(exc) from exc
            self._db = db
            if fresh and (self.index_dir / MANIFEST).exists():
                self._migrate_manifest()
        return self._db

    @staticmethod
    def _set_meta(db: sqlite3.Connection, **values) -> None:
        db.executemany(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)", [(k, str(v)) for k, v in values.items()]
        )

    def meta(self) -> dict[str, str]:
        try:
            with self._lock:
                return dict(self.db.execute("SELECT key, value FROM meta"))
        except sqlite3.DatabaseError as exc:
            raise self._damaged(exc) from exc

    def stale_reason(self) -> str | None:
        """Why the index as it is cannot be kept (another catalog format, chunk size or
        embedder), or None."""
        meta = self.meta()
        if meta.get("format") != str(_FORMAT):
            found = meta.get("format", "")
            if found.startswith(("an older", "an unreadable")):
                return f"the index is {found}"
            return f"the index has format {found}, this version writes {_FORMAT}"
        if meta.get("chunk_words") != str(self.chunk_words):
            words = meta.get("chunk_words")
            return f"the index was chunked at {words} words, now {self.chunk_words}"
        if self.embedder and meta.get("embedder") not in ("", self.embedder):
            return f"the index was embedded with {meta.get('embedder')}, now {self.embedder}"
        return None

    def _client(self):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if self.chroma_url:
            from urllib.parse import urlparse

            url = urlparse(self.chroma_url)
            return chromadb.HttpClient(
                host=url.hostname or "localhost",
                port=url.port or 8000,
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        (self.index_dir / CHROMA_DIR).mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(
            path=str(self.index_dir / CHROMA_DIR), settings=chroma_settings
        )

    def _open_collection(self):
        try:
            # embedding_function=None: we always pass our own embeddings, never Chroma's default.
            return self._client().get_or_create_collection(
                self.collection_name, metadata={"hnsw:space": "cosine"}, embedding_function=None
            )
        except Exception as exc:
            where = self.chroma_url or self.index_dir
            raise IndexDamagedError(
                f"cannot open the index at {where} ({type(exc).__name__}: {exc}); "
                "run `assistant index --rebuild` to recreate it"
            ) from exc

    @property
    def collection(self):
        if self._collection is None:
            self._collection = self._open_collection()
        return self._collection

    @property
    def vector_store(self):
        if self._vector_store is None:
            from llama_index.vector_stores.chroma import ChromaVectorStore

            self._vector_store = ChromaVectorStore(chroma_collection=self.collection)
        return self._vector_store

    # --- reading --------------------------------------------------------------------------

    def records(self) -> dict[str, DocRecord]:
        """Indexed documents by id, in a stable (sorted) order, with their text."""
        with self._lock:
            if self._records is None:
                self._records = self._read_records()
            return self._records

    def _read_records(self) -> dict[str, DocRecord]:
        try:
            chunks: dict[str, list] = {}
            for doc_id, *chunk in self.db.execute(
                "SELECT doc_id, chunk_id, start, end, section FROM chunks ORDER BY doc_id, position"
            ):
                chunks.setdefault(doc_id, []).append(tuple(chunk))
            headings: dict[str, list[Heading]] = {}
            for doc_id, start, level, text in self.db.execute(
                "SELECT doc_id, start, level, text FROM headings ORDER BY doc_id, start"
            ):
                headings.setdefault(doc_id, []).append(Heading(start, level, text))
            return {
                doc_id: DocRecord(
                    doc_id,
                    sha,
                    title,
                    date,
                    text,
                    chunks.get(doc_id, []),
                    at,
                    author,
                    json.loads(pages),
                    headings.get(doc_id, []),
                )  # fmt: skip
                for doc_id, sha, title, date, text, at, author, pages in self.db.execute(
                    "SELECT doc_id, sha256, title, date, text, indexed_at, author, pages "
                    "FROM documents ORDER BY doc_id"
                )
            }
        except (sqlite3.DatabaseError, ValueError) as exc:
            raise self._damaged(exc) from exc

    def seen(self) -> dict[str, Seen]:
        """Each indexed file's hash, size and modification time (no text: cheap to load)."""
        try:
            return {
                doc_id: Seen(sha, size, mtime)
                for doc_id, sha, size, mtime in self.db.execute(
                    "SELECT doc_id, sha256, size, mtime_ns FROM documents"
                )
            }
        except sqlite3.DatabaseError as exc:
            raise self._damaged(exc) from exc

    def chunk_ids(self, doc_id: str) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT chunk_id FROM chunks WHERE doc_id = ?",
                                              (doc_id,))]  # fmt: skip

    def chunk_count(self) -> int:
        return self.db.execute("SELECT count(*) FROM chunks").fetchone()[0]

    def sentences(self, doc_id: str) -> list[Span]:
        """The sentences of a document, as split when it was indexed."""
        text = self.records()[doc_id].text
        with self._lock:
            rows = self.db.execute(
                "SELECT start, end FROM sentences WHERE doc_id = ? ORDER BY start", (doc_id,)
            ).fetchall()
        return [Span(start, end, text[start:end]) for start, end in rows]

    def nodes(self) -> list[TextNode]:
        """Every chunk as a node, in a stable order (document id, then position)."""
        return [
            chunk_node(chunk, record)
            for record in self.records().values()
            for chunk in record.chunk_objects()
        ]

    # --- writing --------------------------------------------------------------------------

    def clear(self) -> None:
        """Forget everything indexed (the corpus itself is never touched)."""
        self._collection = self._vector_store = None
        self._records = None
        try:
            client = self._client()
            if self.collection_name in [c.name for c in client.list_collections()]:
                client.delete_collection(self.collection_name)
        except Exception as exc:
            if self.chroma_url:
                raise
            # A damaged local store cannot be opened: remove it and let Chroma start afresh.
            log.warning(
                "the Chroma store at %s is unreadable (%s); recreating it", self.index_dir, exc
            )
            from chromadb.api.shared_system_client import SharedSystemClient

            SharedSystemClient.clear_system_cache()
            shutil.rmtree(self.index_dir / CHROMA_DIR, ignore_errors=True)
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
            for suffix in ("", "-wal", "-shm"):
                self.index_dir.joinpath(CATALOG + suffix).unlink(missing_ok=True)
            (self.index_dir / MANIFEST).unlink(missing_ok=True)

    def recover(self, report: SyncReport) -> None:
        """Undo what an interrupted run left half-written: the chunks of pending documents
        (they are indexed again as new), and, when Chroma's count disagrees with the
        catalog's, every chunk the catalog does not list."""
        pending = [r[0] for r in self.db.execute("SELECT doc_id FROM pending")]
        for doc_id in pending:
            report.chunks_removed += len(self.chunk_ids(doc_id))
            self.vector_store.delete(doc_id)  # old and new chunks alike
        with self._transaction():
            self.db.executemany("DELETE FROM documents WHERE doc_id = ?", [(d,) for d in pending])
            self.db.execute("DELETE FROM pending")
        if pending:
            log.warning("%d documents were left half-written by an interrupted run: indexing "
                        "them again", len(pending))  # fmt: skip
        if self.collection.count() != self.chunk_count():
            self._drop_orphans(report)
        self._records = None

    def _drop_orphans(self, report: SyncReport) -> None:
        stored = set(self.collection.get(include=[])["ids"])
        listed = self.db.execute("SELECT doc_id, chunk_id FROM chunks").fetchall()
        orphans = sorted(stored - {chunk_id for _, chunk_id in listed})
        self._delete_chunks(orphans)
        report.chunks_removed += len(orphans)
        missing = {doc_id for doc_id, chunk_id in listed if chunk_id not in stored}
        for doc_id in sorted(missing):
            self.vector_store.delete(doc_id)  # incomplete in Chroma: indexed again as new
        with self._transaction():
            self.db.executemany("DELETE FROM documents WHERE doc_id = ?", [(d,) for d in missing])
        log.warning("the index held %d chunks it did not list and lacked chunks of %d "
                    "documents; repaired", len(orphans), len(missing))  # fmt: skip

    def _delete_chunks(self, chunk_ids: list[str]) -> None:
        for start in range(0, len(chunk_ids), 1000):  # Chroma caps the size of one call
            self.collection.delete(ids=chunk_ids[start : start + 1000])

    def commit(self, batch: list[tuple[Document, list[TextNode]]], report: SyncReport) -> None:
        """Write a batch of documents' embedded chunk nodes, replacing their old chunks: mark
        them pending, write Chroma, then record them (one transaction)."""
        if not batch:
            return
        ids = [(doc.doc_id,) for doc, _ in batch]
        with self._transaction():
            self.db.executemany("INSERT OR IGNORE INTO pending VALUES (?)", ids)
        old = {doc.doc_id: self.chunk_ids(doc.doc_id) for doc, _ in batch}
        self._delete_chunks([c for chunk_ids in old.values() for c in chunk_ids])
        self.vector_store.add([node for _, nodes in batch for node in nodes])
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._transaction():
            self.db.executemany("DELETE FROM documents WHERE doc_id = ?", ids)
            for doc, nodes in batch:
                self._insert(doc, nodes, now)
                (report.updated if old[doc.doc_id] else report.added).append(doc.doc_id)
                report.chunks_added += len(nodes)
                report.chunks_removed += len(old[doc.doc_id])
            self.db.executemany("DELETE FROM pending WHERE doc_id = ?", ids)
        self._records = None

    def _insert(self, doc: Document, nodes: list[TextNode], now: str) -> None:
        self.db.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (doc.doc_id, doc.sha256, doc.size, doc.mtime_ns, doc.title, doc.date, doc.author,
             json.dumps(doc.pages), doc.text, now),
        )  # fmt: skip
        self.db.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?)",
            [(n.node_id, doc.doc_id, i, n.metadata["start"], n.metadata["end"],
              n.metadata["section"]) for i, n in enumerate(nodes)],
        )  # fmt: skip
        self.db.executemany(
            "INSERT OR IGNORE INTO sentences VALUES (?, ?, ?)",
            [(doc.doc_id, s.start, s.end) for s in doc.sentences],
        )
        self.db.executemany(
            "INSERT OR IGNORE INTO headings VALUES (?, ?, ?, ?)",
            [(doc.doc_id, h.start, h.level, h.text) for h in doc.headings],
        )

    def touch(self, doc_id: str, size: int, mtime_ns: int) -> None:
        """Remember a file's new size and time when its content is unchanged."""
        with self._transaction():
            self.db.execute("UPDATE documents SET size = ?, mtime_ns = ? WHERE doc_id = ?",
                            (size, mtime_ns, doc_id))  # fmt: skip

    def remove(self, doc_ids: list[str], report: SyncReport) -> None:
        """Drop documents' chunks and their records."""
        if not doc_ids:
            return
        rows = [(d,) for d in doc_ids]
        with self._transaction():
            self.db.executemany("INSERT OR IGNORE INTO pending VALUES (?)", rows)
        for doc_id in doc_ids:
            chunk_ids = self.chunk_ids(doc_id)
            self._delete_chunks(chunk_ids)
            report.chunks_removed += len(chunk_ids)
            report.removed.append(doc_id)
        with self._transaction():
            self.db.executemany("DELETE FROM documents WHERE doc_id = ?", rows)
            self.db.executemany("DELETE FROM pending WHERE doc_id = ?", rows)
        self._records = None

    # --- the manifest.json of earlier versions -----------------------------------------------

    def _migrate_manifest(self) -> None:
        """Move a ``manifest.json`` index into the catalog, once; an index too old for that
        is rebuilt by the next sync (``stale_reason`` says why)."""
        from .ingest import split_sentences

        path = self.index_dir / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != _MANIFEST_FORMAT:
                older = f"an older {MANIFEST} (format {data.get('format')})"
                with self.db:
                    self._set_meta(self.db, format=older)
                return
            now = datetime.now(UTC).isoformat(timespec="seconds")
            with self.db:
                self._set_meta(self.db, chunk_words=data.get("chunk_words"),
                               embedder="all-MiniLM-L6-v2/torch-fp32")  # what made it  # fmt: skip
                for d in data["documents"]:
                    doc = Document(d["doc_id"], d["text"], d["title"], d["date"], d["sha256"],
                                   split_sentences(d["text"]), author=d.get("author"),
                                   pages=d.get("pages") or [])  # fmt: skip
                    nodes = [
                        chunk_node(Chunk(cid, doc.doc_id, s, e, "", section), doc)
                        for cid, s, e, section in d["chunks"]
                    ]
                    self._insert(doc, nodes, d.get("indexed_at") or now)
        except (OSError, ValueError, KeyError, TypeError, sqlite3.DatabaseError) as exc:
            log.warning("cannot migrate %s (%s): the index is rebuilt", path, exc)
            self._db.close()
            self._db = None
            for suffix in ("", "-wal", "-shm"):
                self.index_dir.joinpath(CATALOG + suffix).unlink(missing_ok=True)
            path.unlink()
            with self.db:
                self._set_meta(self.db, format=f"an unreadable {MANIFEST}")
            return
        path.unlink()
        log.warning("moved the index's %s into %s", MANIFEST, CATALOG)
