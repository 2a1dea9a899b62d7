"""Indexing: list, read, clean and chunk the corpus folder's files, embed the chunks, and have
the store commit them, a batch at a time."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import MetadataMode

from .ingest import DocumentError, chunk_document, file_sha256, list_corpus_files, read_document
from .store import Store, SyncReport, chunk_node

log = logging.getLogger(__name__)


class Indexer:
    """Brings a :class:`Store` in line with a corpus folder, embedding with ``embed_model``
    (a LlamaIndex embedding, or a function returning one: it is then loaded only when a file
    needs embedding, so a sync with nothing to do starts no model)."""

    # Chunks embedded and written per batch: few enough commits to Chroma and the catalog,
    # small enough that an interrupted run loses little work.
    BATCH_CHUNKS = 512

    def __init__(self, store: Store, embed_model: Any, max_file_bytes: int = 20_000_000):
        self.store = store
        self._embed_model = embed_model
        self.max_file_bytes = max_file_bytes

    @property
    def embed_model(self):
        if callable(self._embed_model) and not isinstance(self._embed_model, BaseEmbedding):
            self._embed_model = self._embed_model()
        return self._embed_model

    def sync(
        self,
        corpus_dir: Path,
        rebuild: bool = False,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> SyncReport:
        """Add new, replace changed and drop deleted documents of ``corpus_dir``.

        Unchanged files are skipped by size and modification time, or else by content hash.
        Every run first removes what an interrupted run left half-written, so the next run
        completes it without duplicates.
        """
        began = time.perf_counter()
        store = self.store
        files = list_corpus_files(corpus_dir)
        reason = None if rebuild else store.stale_reason()
        if reason:
            log.warning("%s: rebuilding the index", reason)
        if rebuild or reason:
            store.clear()
        report = SyncReport()
        store.recover(report)
        seen = store.seen()

        found: set[str] = set()
        batch: list = []
        for i, path in enumerate(files):
            doc_id = path.relative_to(corpus_dir).as_posix()
            found.add(doc_id)
            if progress:
                progress(i, len(files), doc_id)
            old = seen.get(doc_id)
            try:
                if old and self._unchanged(path, old, doc_id):
                    report.unchanged.append(doc_id)
                    continue
                doc = read_document(path, corpus_dir, self.max_file_bytes)
            except (DocumentError, OSError) as exc:
                log.info("skipped %s: %s", doc_id, exc)
                report.skipped.append((doc_id, str(exc)))
                continue
            chunks = chunk_document(doc, store.chunk_words, self._counter())
            batch.append((doc, [chunk_node(c, doc) for c in chunks]))
            if sum(len(nodes) for _, nodes in batch) >= self.BATCH_CHUNKS:
                store.commit(self._embedded(batch), report)
                batch = []
        store.commit(self._embedded(batch), report)
        if progress:
            progress(len(files), len(files), "")
        store.remove(sorted(set(seen) - found), report)
        report.documents = len(found & set(store.seen()))
        report.chunks = store.chunk_count()
        report.seconds = time.perf_counter() - began
        return report

    def _unchanged(self, path: Path, old, doc_id: str) -> bool:
        stat = path.stat()
        if (stat.st_size, stat.st_mtime_ns) == (old.size, old.mtime_ns):
            return True
        if file_sha256(path) == old.sha256:  # touched, not changed
            self.store.touch(doc_id, stat.st_size, stat.st_mtime_ns)
            return True
        return False

    def _counter(self) -> Callable[[str], int] | None:
        """How the embedder counts a text's word pieces, so that no chunk is longer than it
        reads (None: the embedder reads any length, as the tests' fakes do)."""
        return getattr(self.embed_model, "count_pieces", None)

    def _embedded(self, batch: list) -> list:
        if not batch:
            return batch
        nodes = [node for _, doc_nodes in batch for node in doc_nodes]
        texts = [n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]
        for node, vector in zip(nodes, self.embed_model.get_text_embedding_batch(texts)):
            node.embedding = vector
        return batch
