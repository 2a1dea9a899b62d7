"""Indexing: list, read, clean and chunk the corpus folder's files, embed the chunks, and have
the store commit them, a batch at a time."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from llama_index.core.schema import MetadataMode

from .ingest import DocumentError, chunk_document, file_sha256, list_corpus_files, read_document
from .store import Store, SyncReport, chunk_node

log = logging.getLogger(__name__)


class Indexer:
    """Brings a :class:`Store` in line with a corpus folder, embedding with ``embed_model``."""

    # Chunks embedded and written per batch: large enough for the embedder to be efficient,
    # small enough that an interrupted run loses little work.
    BATCH_CHUNKS = 128

    def __init__(self, store: Store, embed_model: Any, max_file_bytes: int = 20_000_000):
        self.store = store
        self.embed_model = embed_model
        self.max_file_bytes = max_file_bytes

    def sync(
        self,
        corpus_dir: Path,
        rebuild: bool = False,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> SyncReport:
        """Add new, replace changed and drop deleted documents of ``corpus_dir``.

        Unchanged files are skipped by content hash. Every run first removes what an
        interrupted run left half-written, so the next run completes it without duplicates.
        """
        began = time.perf_counter()
        store = self.store
        files = list_corpus_files(corpus_dir)
        if rebuild:
            store.clear()
        report = SyncReport()
        records = dict(store.records())
        store.drop_orphans(records, report)

        seen: set[str] = set()
        batch: list = []
        for i, path in enumerate(files):
            doc_id = path.relative_to(corpus_dir).as_posix()
            seen.add(doc_id)
            if progress:
                progress(i, len(files), doc_id)
            old = records.get(doc_id)
            try:
                if old and old.sha256 == file_sha256(path):
                    report.unchanged.append(doc_id)
                    continue
                doc = read_document(path, corpus_dir, self.max_file_bytes)
            except (DocumentError, OSError) as exc:
                log.info("skipped %s: %s", doc_id, exc)
                report.skipped.append((doc_id, str(exc)))
                continue
            nodes = [chunk_node(c, doc) for c in chunk_document(doc, store.chunk_words)]
            batch.append((doc, nodes))
            if sum(len(nodes) for _, nodes in batch) >= self.BATCH_CHUNKS:
                store.commit(self._embedded(batch), records, report)
                batch = []
        store.commit(self._embedded(batch), records, report)
        if progress:
            progress(len(files), len(files), "")
        store.remove(sorted(set(records) - seen), records, report)
        store.save(records)
        report.documents = len(records)
        report.chunks = sum(len(r.chunks) for r in records.values())
        report.seconds = time.perf_counter() - began
        return report

    def _embedded(self, batch: list) -> list:
        nodes = [node for _, doc_nodes in batch for node in doc_nodes]
        texts = [n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]
        for node, vector in zip(nodes, self.embed_model.get_text_embedding_batch(texts)):
            node.embedding = vector
        return batch
