"""The index: chunks with embeddings in Chroma (through LlamaIndex), plus a manifest of documents.

What goes in is decided by :mod:`assistant.indexer`; this module only writes and reads it.

The manifest (``manifest.json``) is the source of truth for what is indexed: it is written only
after Chroma has committed a document's chunks, and every sync first removes Chroma entries the
manifest does not know. So an interrupted run is completed by the next one, without duplicates.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

from .errors import IndexDamagedError
from .ingest import Chunk, Document, page_at

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"
CHROMA_DIR = "chroma"
_FORMAT = 3  # 2: chunks carry their section path; 3: pages, author, trafilatura's HTML text


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

    def page_at(self, offset: int) -> int | None:
        """The 1-based page of ``offset`` in the text; None for unpaginated documents."""
        return page_at(self.pages, offset)

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


class Store:
    """Chroma collection + manifest for one index directory."""

    def __init__(
        self,
        index_dir: Path,
        collection: str = "assistant",
        chroma_url: str | None = None,
        chunk_words: int = 110,
    ):
        self.index_dir = index_dir
        self.collection_name = collection
        self.chroma_url = chroma_url
        self.chunk_words = chunk_words  # how the indexed documents were chunked
        self._records: dict[str, DocRecord] | None = None
        self._collection = None
        self._vector_store = None

    # --- opening --------------------------------------------------------------------------

    @property
    def manifest_path(self) -> Path:
        return self.index_dir / MANIFEST

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

    def records(self) -> dict[str, DocRecord]:
        """Indexed documents by id, in a stable (sorted) order."""
        if self._records is None:
            self._records = self._read_manifest()
        return self._records

    def _read_manifest(self) -> dict[str, DocRecord]:
        if not self.manifest_path.exists():
            return {}
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            if data.get("format") != _FORMAT or data.get("chunk_words") != self.chunk_words:
                return {}  # chunking changed: every document is re-chunked
            return {
                d["doc_id"]: DocRecord(**{**d, "chunks": [tuple(c) for c in d["chunks"]]})
                for d in data["documents"]
            }
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexDamagedError(
                f"the index manifest {self.manifest_path} is damaged ({exc}); "
                "run `assistant index --rebuild` to recreate it"
            ) from exc

    def _write_manifest(self, records: dict[str, DocRecord]) -> None:
        self.index_dir.mkdir(parents=True, exist_ok=True)
        data = {
            "format": _FORMAT,
            "chunk_words": self.chunk_words,
            "documents": [records[k].__dict__ for k in sorted(records)],
        }
        tmp = self.manifest_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.manifest_path)
        self._records = dict(records)  # memory follows disk, also when a sync is interrupted

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
        self.manifest_path.unlink(missing_ok=True)

    def commit(
        self, batch: list[tuple[Document, list[TextNode]]], records: dict[str, DocRecord],
        report: SyncReport,
    ) -> None:  # fmt: skip
        """Write a batch of documents' embedded chunk nodes, replacing their old chunks, then
        record them in the manifest (only after Chroma holds every chunk it lists)."""
        if not batch:
            return
        for doc, _ in batch:
            if doc.doc_id in records:
                self.vector_store.delete(doc.doc_id)
                report.chunks_removed += len(records[doc.doc_id].chunks)
        self.vector_store.add([node for _, nodes in batch for node in nodes])
        now = datetime.now(UTC).isoformat(timespec="seconds")
        for doc, nodes in batch:
            (report.updated if doc.doc_id in records else report.added).append(doc.doc_id)
            report.chunks_added += len(nodes)
            records[doc.doc_id] = DocRecord(
                doc_id=doc.doc_id,
                sha256=doc.sha256,
                title=doc.title,
                date=doc.date,
                text=doc.text,
                chunks=[
                    (n.node_id, n.metadata["start"], n.metadata["end"], n.metadata["section"])
                    for n in nodes
                ],  # fmt: skip
                indexed_at=now,
                author=doc.author,
                pages=doc.pages,
            )
        self._write_manifest(records)

    def remove(self, doc_ids: list[str], records: dict[str, DocRecord], report: SyncReport):
        """Drop documents' chunks and their records (the manifest is written by ``save``)."""
        for doc_id in doc_ids:
            self.vector_store.delete(doc_id)
            report.chunks_removed += len(records.pop(doc_id).chunks)
            report.removed.append(doc_id)

    def save(self, records: dict[str, DocRecord]) -> None:
        self._write_manifest(records)

    def drop_orphans(self, records: dict[str, DocRecord], report: SyncReport) -> None:
        """Remove Chroma entries the manifest does not list; re-index documents missing chunks."""
        stored = set(self.collection.get(include=[])["ids"])
        expected = {c[0] for r in records.values() for c in r.chunks}
        orphans = sorted(stored - expected)
        for start in range(0, len(orphans), 1000):
            self.collection.delete(ids=orphans[start : start + 1000])
        report.chunks_removed += len(orphans)
        for doc_id in [d for d, r in records.items() if any(c[0] not in stored for c in r.chunks)]:
            self.vector_store.delete(doc_id)
            del records[doc_id]  # incomplete in Chroma: indexed again as new

    # --- reading --------------------------------------------------------------------------

    def nodes(self) -> list[TextNode]:
        """Every chunk as a node, in a stable order (document id, then position)."""
        return [
            chunk_node(chunk, record)
            for record in self.records().values()
            for chunk in record.chunk_objects()
        ]
