"""Incremental indexing against a real on-disk Chroma, with a fake embedder."""

import json
import os
from dataclasses import replace

import pytest
from conftest import ARTICLE_A, ARTICLE_B, HashEmbedding

from assistant.errors import IndexDamagedError
from assistant.indexer import Indexer
from assistant.store import CATALOG, MANIFEST, Store


def make_store(tmp_path, chunk_words=60):
    return Store(tmp_path / "index", chunk_words=chunk_words)


def sync(store, corpus, **kwargs):
    return Indexer(store, HashEmbedding()).sync(corpus, **kwargs)


def chroma_ids(store):
    return sorted(store.collection.get(include=[])["ids"])


def test_first_sync_indexes_every_chunk(tmp_path, corpus):
    store = make_store(tmp_path)
    report = sync(store, corpus)
    assert sorted(report.added) == [ARTICLE_A, ARTICLE_B]
    expected = sorted(c[0] for r in store.records().values() for c in r.chunks)
    assert chroma_ids(store) == expected
    assert report.chunks == len(expected) > 4


def test_resync_of_an_unchanged_corpus_adds_nothing(tmp_path, corpus):
    sync(make_store(tmp_path), corpus)
    store = make_store(tmp_path)  # a new process, reading the index from disk
    before = chroma_ids(store)
    report = sync(store, corpus)
    assert report.chunks_added == 0 and report.chunks_removed == 0
    assert sorted(report.unchanged) == [ARTICLE_A, ARTICLE_B]
    assert chroma_ids(store) == before


def test_a_changed_file_replaces_only_its_own_chunks(tmp_path, corpus):
    store = make_store(tmp_path)
    sync(store, corpus)
    untouched = [c for c in chroma_ids(store) if c.startswith(ARTICLE_B)]
    path = corpus / ARTICLE_A
    edited = path.read_text().replace(
        "Concluding the talks", "A new closing paragraph about Gwadar.\n\nConcluding the talks"
    )
    path.write_text(edited)
    report = sync(store, corpus)
    assert report.updated == [ARTICLE_A] and report.unchanged == [ARTICLE_B]
    ids = chroma_ids(store)
    assert [c for c in ids if c.startswith(ARTICLE_B)] == untouched
    assert "A new closing paragraph about Gwadar." in store.records()[ARTICLE_A].text
    assert len(ids) == len(set(ids)) == report.chunks


def test_a_deleted_file_loses_its_chunks(tmp_path, corpus):
    store = make_store(tmp_path)
    sync(store, corpus)
    (corpus / ARTICLE_B).unlink()
    report = sync(store, corpus)
    assert report.removed == [ARTICLE_B]
    assert all(c.startswith(ARTICLE_A) for c in chroma_ids(store))


def test_unreadable_files_are_skipped_and_the_rest_indexed(tmp_path, corpus):
    (corpus / "broken.txt").write_bytes(b"\xff\xfe\x00\x00garbage")
    (corpus / "empty.md").write_text("")
    report = sync(make_store(tmp_path), corpus)
    assert sorted(name for name, _ in report.skipped) == ["broken.txt", "empty.md"]
    assert sorted(report.added) == [ARTICLE_A, ARTICLE_B]


def test_chunks_left_by_an_interrupted_run_are_replaced_not_duplicated(tmp_path, corpus):
    store = make_store(tmp_path)
    sync(store, corpus)
    clean = chroma_ids(store)
    # As a crash after Chroma's commit but before the catalog's leaves it: the document is
    # pending and the catalog has no rows for it; and a chunk no document lists.
    with store.db:
        store.db.execute("INSERT INTO pending VALUES (?)", (ARTICLE_B,))
        store.db.execute("DELETE FROM documents WHERE doc_id = ?", (ARTICLE_B,))
    store.collection.add(ids=["ghost#0"], embeddings=[[0.1] * 64], documents=["orphan"])
    again = make_store(tmp_path)
    report = sync(again, corpus)
    assert report.added == [ARTICLE_B] and report.unchanged == [ARTICLE_A]
    assert chroma_ids(again) == clean
    assert again.db.execute("SELECT count(*) FROM pending").fetchone()[0] == 0


def test_an_update_interrupted_between_deleting_and_adding_is_completed(tmp_path, corpus):
    store = make_store(tmp_path)
    sync(store, corpus)
    clean = chroma_ids(store)
    with store.db:
        store.db.execute("INSERT INTO pending VALUES (?)", (ARTICLE_A,))
    store.collection.delete(ids=store.chunk_ids(ARTICLE_A))  # old chunks gone, new not yet in
    report = sync(make_store(tmp_path), corpus)
    assert report.added == [ARTICLE_A]
    assert chroma_ids(make_store(tmp_path)) == clean


def test_a_damaged_catalog_is_reported_and_rebuild_recovers(tmp_path, corpus):
    store = make_store(tmp_path)
    sync(store, corpus)
    store.db.close()
    for suffix in ("-wal", "-shm"):
        store.index_dir.joinpath(CATALOG + suffix).unlink(missing_ok=True)
    store.catalog_path.write_bytes(b"this is not a database" * 200)
    with pytest.raises(IndexDamagedError, match="--rebuild"):
        sync(make_store(tmp_path), corpus)
    report = sync(make_store(tmp_path), corpus, rebuild=True)
    assert sorted(report.added) == [ARTICLE_A, ARTICLE_B]
    assert len(chroma_ids(make_store(tmp_path))) == report.chunks


def test_an_index_of_the_manifest_era_is_migrated_once_without_re_embedding(tmp_path, corpus):
    store = make_store(tmp_path)
    sync(store, corpus)
    records, ids = store.records(), chroma_ids(store)
    manifest = {
        "format": 3,
        "chunk_words": 60,
        "documents": [{**r.__dict__, "chunks": [list(c) for c in r.chunks]}
                      for r in records.values()],
    }  # fmt: skip
    store.db.close()
    for suffix in ("", "-wal", "-shm"):
        store.index_dir.joinpath(CATALOG + suffix).unlink(missing_ok=True)
    (store.index_dir / MANIFEST).write_text(json.dumps(manifest))
    migrated = make_store(tmp_path)
    assert migrated.records() == records
    assert not (store.index_dir / MANIFEST).exists()
    report = sync(migrated, corpus)
    assert report.chunks_added == 0 and sorted(report.unchanged) == [ARTICLE_A, ARTICLE_B]
    assert chroma_ids(migrated) == ids
    assert migrated.sentences(ARTICLE_A)[0].text in records[ARTICLE_A].text


def test_an_older_manifest_is_rebuilt_with_one_line_saying_so(tmp_path, corpus, caplog):
    index = tmp_path / "index"
    index.mkdir()
    (index / MANIFEST).write_text(json.dumps({"format": 2, "chunk_words": 60, "documents": []}))
    report = sync(make_store(tmp_path), corpus)
    assert sorted(report.added) == [ARTICLE_A, ARTICLE_B]
    assert [r.message for r in caplog.records if "rebuilding" in r.message] == [
        "the index is an older manifest.json (format 2): rebuilding the index"
    ]


def test_an_index_made_by_another_embedder_is_rebuilt_with_one_line(tmp_path, corpus, caplog):
    Indexer(Store(tmp_path / "index", chunk_words=60, embedder="model-a"), HashEmbedding()).sync(
        corpus
    )
    other = Store(tmp_path / "index", chunk_words=60, embedder="model-b")
    assert "model-a" in other.stale_reason() and "model-b" in other.stale_reason()
    report = Indexer(other, HashEmbedding()).sync(corpus)
    assert sorted(report.added) == [ARTICLE_A, ARTICLE_B] and report.chunks_added == report.chunks
    assert [r.message for r in caplog.records if "rebuilding" in r.message] == [
        "the index was embedded with model-a, now model-b: rebuilding the index"
    ]
    assert other.stale_reason() is None


def test_a_touched_but_unchanged_file_is_not_read_again(tmp_path, corpus):
    store = make_store(tmp_path)
    sync(store, corpus)
    path = corpus / ARTICLE_A
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    report = sync(store, corpus)
    assert report.chunks_added == 0 and sorted(report.unchanged) == [ARTICLE_A, ARTICLE_B]
    assert store.seen()[ARTICLE_A].mtime_ns == path.stat().st_mtime_ns


def test_a_sync_with_nothing_to_do_loads_no_embedder(tmp_path, corpus):
    sync(make_store(tmp_path), corpus)

    def no_model():
        raise AssertionError("the embedder was loaded")

    report = Indexer(make_store(tmp_path), no_model).sync(corpus)
    assert report.chunks_added == 0 and report.documents == 2


def test_a_damaged_chroma_folder_is_reported_and_rebuild_recovers(tmp_path, corpus):
    import subprocess
    import sys

    # A fresh process, so Chroma holds no cached handle on the folder.
    index = tmp_path / "index"
    (index / "chroma").mkdir(parents=True)
    (index / "chroma" / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    script = (
        "import sys; sys.path.insert(0, 'tests'); from conftest import HashEmbedding;"
        "from pathlib import Path; from assistant.store import CATALOG, MANIFEST, Store;"
        "from assistant.indexer import Indexer;"
        f"s = Store(Path({str(index)!r}), chunk_words=60);"
        "import assistant.errors as e\n"
        "try:\n    Indexer(s, HashEmbedding()).sync(Path(sys.argv[1]))\n"
        "except e.IndexDamagedError as x:\n    print('DAMAGED', x)\n"
        f"s = Store(Path({str(index)!r}), chunk_words=60)\n"
        "r = Indexer(s, HashEmbedding()).sync(Path(sys.argv[1]), rebuild=True)\n"
        "print('REBUILT', r.chunks)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(corpus)], capture_output=True, text=True, timeout=120
    )
    assert "DAMAGED" in out.stdout and "--rebuild" in out.stdout, out.stderr
    assert "REBUILT" in out.stdout, out.stderr


def test_changing_the_chunk_size_rechunks_everything(tmp_path, corpus):
    sync(make_store(tmp_path), corpus)
    bigger = make_store(tmp_path, chunk_words=100)
    report = sync(bigger, corpus)
    assert len(report.added) == 2
    ids = chroma_ids(bigger)
    assert len(ids) == report.chunks


def test_a_reader_in_another_thread_never_sees_a_batch_half_written(tmp_path, corpus):
    import threading

    store = make_store(tmp_path)
    inside, seen = threading.Event(), {}
    insert = Store._insert

    def slow_insert(self, doc, nodes, now):
        insert(self, doc, nodes, now)  # the document's rows, its chunks' and sentences'
        inside.set()
        threading.Event().wait(0.3)  # still inside the batch's transaction

    def reader():
        inside.wait(10)
        seen.update({d: len(r.chunks) for d, r in store.records().items()})

    thread = threading.Thread(target=reader)
    thread.start()
    Store._insert = slow_insert
    try:
        sync(store, corpus)
    finally:
        Store._insert = insert
    thread.join(10)
    assert seen == {d: len(r.chunks) for d, r in store.records().items()}  # all, each whole


def test_each_offset_has_the_section_path_of_the_headings_before_it(tmp_path):
    from assistant.ingest import Heading
    from assistant.store import DocRecord

    headings = [Heading(0, 1, "statistics"), Heading(10, 2, "Functions"),
                Heading(40, 7, "fmean(data)"), Heading(80, 7, "median(data)")]  # fmt: skip
    record = DocRecord("s.html", "0", "statistics", None, "x" * 120,
                       [("c0", 10, 120, "Functions")], "now", headings=headings)  # fmt: skip
    assert record.sections_between(50, 120) == (
        (50, "Functions › fmean(data)"), (80, "Functions › median(data)"))  # fmt: skip
    # An index migrated without headings reads its chunks' paths.
    assert replace(record, headings=[]).sections_between(50, 120) == ((50, "Functions"),)


def test_a_documents_headings_are_kept_with_it(tmp_path):
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "page.html").write_text(
        "<html><body><h1>statistics</h1><p>Functions for statistics of numeric data.</p>"
        "<h2>Averages</h2><dl><dt>statistics.fmean(data)</dt><dd><p>Return the mean.</p></dd>"
        "<dt>statistics.median(data)</dt><dd><p>Return the median.</p></dd></dl>"
        "</body></html>"
    )
    store = make_store(tmp_path)
    sync(store, corpus)
    record = Store(store.index_dir, chunk_words=60).records()["page.html"]
    mean, median = record.text.index("Return the mean"), record.text.index("Return the median")
    assert record.sections_between(mean, median + 5) == (
        (mean, "statistics.fmean(data)"),
        (record.text.index("statistics.median"), "statistics.median(data)"),
    )
