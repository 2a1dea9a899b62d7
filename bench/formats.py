"""Indexing cost of each document format: seconds per PDF page, per DOCX and per HTML page.

    python bench/formats.py [--pages 12]

Real files, made by real tools: Debian's Chromium prints pages of Debian's Python docs to PDF,
python-docx writes the same pages' text as Word files, and the HTML pages are read as they
are. Each format is indexed into a fresh index with the real embedder; the table splits the
time into reading (extraction and cleaning) and the whole sync (reading, chunking, embedding,
writing), with the median of three runs. Needs chromium and python3.11-doc (`make pydocs`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
DOCS = Path("/usr/share/doc/python3.11/html")
PAGES = ["library/functools.html", "library/secrets.html", "library/heapq.html",
         "library/bisect.html", "library/gzip.html", "library/csv.html", "library/json.html",
         "library/zipfile.html", "library/timeit.html", "tutorial/controlflow.html",
         "library/random.html", "library/difflib.html"]  # fmt: skip


def make_files(work: Path, pages: list[str]) -> dict[str, Path]:
    """One folder per format holding the same pages."""
    import docx

    from assistant.ingest import read_document

    folders = {kind: work / kind for kind in ("html", "pdf", "docx")}
    for folder in folders.values():
        folder.mkdir(parents=True)
    for name in pages:
        flat = name.replace("/", "-")
        shutil.copy(DOCS / name, folders["html"] / flat)
        subprocess.run(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={work}/profile",
             f"--print-to-pdf={folders['pdf'] / flat.replace('.html', '.pdf')}",
             (DOCS / name).as_uri()],
            capture_output=True, timeout=300, check=True,
        )  # fmt: skip
        page = read_document(DOCS / name, DOCS)
        document = docx.Document()
        heads = {h.start: h for h in page.headings}
        offset = 0
        for line in page.text.split("\n"):
            if line.strip():
                head = heads.get(offset)
                if head and head.level <= 6:
                    document.add_heading(line, min(head.level - 1, 9))
                else:
                    document.add_paragraph(line)
            offset += len(line) + 1
        document.save(folders["docx"] / flat.replace(".html", ".docx"))
    return folders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=len(PAGES))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from pypdf import PdfReader

    from assistant import Assistant
    from assistant.indexer import Indexer
    from assistant.ingest import list_corpus_files, read_document
    from assistant.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        bot = Assistant(corpus=work, index_dir=work / "unused", update_index=False)
        embed, chunk_words = bot.embed_model, bot.settings.chunk_words
        folders = make_files(work, PAGES[: args.pages])
        pdf_pages = sum(len(PdfReader(p).pages) for p in folders["pdf"].glob("*.pdf"))
        print(f"{args.pages} Python docs pages; {pdf_pages} PDF pages printed by Chromium")
        print(f"CPU: {cpu_name()}, {os.cpu_count()} threads\n")
        print("| format | files | units | read s/unit | index s/unit | chunks |")
        print("|---|---|---|---|---|---|")
        for kind, folder in folders.items():
            files = list_corpus_files(folder)
            reads, syncs = [], []
            for run in range(args.runs):
                began = time.perf_counter()
                for path in files:
                    read_document(path, folder)
                reads.append(time.perf_counter() - began)
                store = Store(work / f"index-{kind}-{run}", chunk_words=chunk_words)
                report = Indexer(store, embed).sync(folder)
                syncs.append(report.seconds)
            units = pdf_pages if kind == "pdf" else len(files)
            unit = "pages" if kind == "pdf" else "documents"
            print(f"| {kind} | {len(files)} | {units} {unit} "
                  f"| {statistics.median(reads) / units:.3f} "
                  f"| {statistics.median(syncs) / units:.3f} | {report.chunks} |")  # fmt: skip


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return sys.platform


if __name__ == "__main__":
    main()
