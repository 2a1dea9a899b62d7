"""PDF, DOCX and HTML files as people have them: made by Chromium, python-docx and real pages."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import ARTICLE_A, ARTICLE_B, CORPUS, HashEmbedding
from documents import (
    article_docx,
    article_html,
    article_pdf,
    encrypted_pdf,
    image_only_pdf,
    print_pdf,
)

from assistant.errors import DocumentError
from assistant.indexer import Indexer
from assistant.ingest import chunk_document, read_document
from assistant.results import Answer, Citation
from assistant.store import Store

RIVER = [
    f"Sentence number {i} reports that the northern river carries {i * 7} tonnes of silt "
    "past the old mill every spring."
    for i in range(1, 90)
]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """One folder of real files, made once: printed PDFs, an image-only PDF, Word files."""
    folder = tmp_path_factory.mktemp("files")
    article_pdf(CORPUS / ARTICLE_A, folder / "article.pdf")
    print_pdf(article_html(" ".join(RIVER), "Rivers"), folder / "river.pdf")
    image_only_pdf(folder / "scan.pdf")
    article_docx(CORPUS / ARTICLE_B, folder / "article.docx")
    return folder


def read(path: Path):
    return read_document(path, path.parent)


def assert_offsets_hold(doc) -> None:
    for span in doc.sentences + chunk_document(doc, 60):
        assert doc.text[span.start : span.end] == span.text


# --- PDF ------------------------------------------------------------------------------------


def test_a_printed_pdf_reads_as_its_article_without_headers_footers_or_line_breaks(files):
    from pypdf import PdfReader

    doc = read(files / "article.pdf")
    raw_pages = [p.extract_text() for p in PdfReader(files / "article.pdf").pages]
    assert len(doc.pages) == len(raw_pages) >= 2
    assert "page.html 1/" in raw_pages[0]  # Chromium's footer is there…
    assert "page.html" not in doc.text  # …and gone from the text, with its header's time
    assert not re.search(r"\d:\d\d [AP]M", doc.text)
    # The PDF's title is the page's <title>, here a file name: the headline says more.
    assert PdfReader(files / "article.pdf").metadata["/Title"] == Path(ARTICLE_A).stem
    assert doc.title.startswith("Pakistan, China launch CPEC 2.0 push")
    # A sentence wrapped over three lines of the page is one line of text again.
    assert (
        "The talks were co-chaired on January 4 by Chinese Foreign Minister Wang Yi and "
        "Pakistan’s Deputy Prime Minister and Foreign Minister Mohammad Ishaq Dar, who was on "
        "a three-day visit to China from January 3 to 5 at Wang’s invitation." in doc.text
    )
    assert "LEAVE A REPLY" not in doc.text and "Please enter your" not in doc.text
    assert_offsets_hold(doc)
    # Each page's first words are where the page says they start.
    for number, start in enumerate(doc.pages, 1):
        first_words = doc.text[start:].split()[:4]
        assert " ".join(first_words) in " ".join(raw_pages[number - 1].split())
        assert doc.page_at(start) == number
    assert doc.page_at(0) == 1 and doc.page_at(len(doc.text) - 1) == len(doc.pages)


def test_a_sentence_across_a_page_break_is_whole_and_cites_the_page_it_starts_on(files):
    doc = read(files / "river.pdf")
    assert doc.text == " ".join(RIVER)  # no line lost, no header kept, however repetitive
    crossing = [s for s in doc.sentences for b in doc.pages[1:] if s.start < b < s.end]
    assert crossing, "no sentence runs across a page break in this print"
    for sentence in crossing:
        assert sentence.text in RIVER
        assert doc.page_at(sentence.end - 1) == doc.page_at(sentence.start) + 1


def test_an_image_only_pdf_is_skipped_with_its_reason(files):
    with pytest.raises(DocumentError, match="no text layer.*OCR is not supported"):
        read(files / "scan.pdf")


@pytest.mark.parametrize(
    "name, make, reason",
    [
        ("locked.pdf", lambda f, out: encrypted_pdf(f / "article.pdf", out), "encrypted PDF"),
        ("cut.pdf", lambda f, out: out.write_bytes((f / "article.pdf").read_bytes()[:900]),
         "damaged PDF"),
        ("empty.pdf", lambda f, out: out.write_bytes(b""), "empty PDF"),
        ("empty.docx", lambda f, out: out.write_bytes(b""), "empty DOCX"),
        ("cut.docx", lambda f, out: out.write_bytes((f / "article.docx").read_bytes()[:700]),
         "damaged DOCX"),
        ("renamed.docx", lambda f, out: shutil.copy(f / "article.pdf", out), "damaged DOCX"),
    ],
)  # fmt: skip
def test_bad_pdf_and_docx_files_raise_their_reason(files, tmp_path, name, make, reason):
    make(files, tmp_path / name)
    with pytest.raises(DocumentError, match=reason):
        read(tmp_path / name)


def test_bad_files_are_skipped_and_nothing_indexed_is_lost(files, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("article.pdf", "article.docx", "scan.pdf"):
        shutil.copy(files / name, corpus / name)
    encrypted_pdf(files / "article.pdf", corpus / "locked.pdf")
    store = Store(tmp_path / "index", chunk_words=60)
    report = Indexer(store, HashEmbedding()).sync(corpus)
    assert sorted(report.added) == ["article.docx", "article.pdf"]
    reasons = dict(report.skipped)
    assert "no text layer" in reasons["scan.pdf"] and "encrypted" in reasons["locked.pdf"]
    chunks_before = sorted(c[0] for c in store.records()["article.pdf"].chunks)

    # The indexed PDF is overwritten by a damaged copy: it is skipped, its chunks are kept.
    (corpus / "article.pdf").write_bytes((files / "article.pdf").read_bytes()[:900])
    report = Indexer(store, HashEmbedding()).sync(corpus)
    assert "damaged PDF" in dict(report.skipped)["article.pdf"]
    assert sorted(c[0] for c in store.records()["article.pdf"].chunks) == chunks_before
    stored = set(store.collection.get(include=[])["ids"])
    assert set(chunks_before) <= stored
    assert store.records()["article.pdf"].pages  # pages survive the catalog


# --- DOCX -----------------------------------------------------------------------------------


def test_a_docx_keeps_its_headings_as_sections_and_its_tables_as_rows(tmp_path):
    import docx

    document = docx.Document()
    document.core_properties.author = "QA Team"
    document.add_heading("Release notes", 0)
    document.add_heading("Installation", 1)
    document.add_paragraph("Run the installer. It asks for a folder to install into.")
    document.add_heading("Supported systems", 2)
    table = document.add_table(rows=3, cols=2)
    for row, cells in zip(table.rows, [("System", "Minimum version"), ("Debian", "12"),
                                       ("Windows", "11")]):  # fmt: skip
        for cell, text in zip(row.cells, cells):
            cell.text = text
    document.add_paragraph("Older systems are not tested.")
    document.add_heading("Upgrading", 1)
    document.add_paragraph("Upgrades keep your settings.")
    document.save(tmp_path / "notes.docx")

    doc = read(tmp_path / "notes.docx")
    assert doc.title == "Release notes" and doc.author == "QA Team"
    assert doc.pages == [] and doc.page_at(10) is None  # Word files have no reliable pages
    assert [(h.level, h.text) for h in doc.headings] == [
        (1, "Release notes"), (2, "Installation"), (3, "Supported systems"), (2, "Upgrading"),
    ]  # fmt: skip
    assert "System | Minimum version\n\nDebian | 12\n\nWindows | 11" in doc.text
    sections = {c.text.split("\n")[0]: c.section for c in chunk_document(doc, 12)}
    assert sections["Supported systems"] == "Installation › Supported systems"
    assert sections["Upgrading"] == "Upgrading"
    assert_offsets_hold(doc)


# --- HTML -----------------------------------------------------------------------------------

SAVED_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>River authority opens new weir | The Valley Courier</title>
<meta name="author" content="Ann Example">
<meta property="article:published_time" content="2025-03-14T09:00:00Z">
</head><body>
<div id="cookie-banner" class="cookie-consent">We use cookies to improve your experience.
<button>Accept all cookies</button></div>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
<li><a href="/sport">Sport</a></li></ul></nav></header>
<main><article>
<h1>River authority opens new weir</h1>
<p>The river authority opened a new weir near the old mill on Friday, after two years of
building work that cost 4.2 million pounds.</p>
<p>It will hold back the spring floods that reached the market square three times in the
last decade, the authority's engineer said.</p>
<h2>What changes for boats</h2>
<p>Boats longer than twelve metres must now use the new lock on the east bank.</p>
</article>
<div class="share-buttons"><a href="#">Share on Facebook</a> <a href="#">Share on X</a></div>
<section class="comments"><h3>Leave a comment</h3>
<form><textarea>Your comment</textarea><button>Post comment</button></form></section>
</main>
<footer>© 2025 The Valley Courier. All rights reserved. Privacy policy.</footer>
</body></html>"""


def test_a_saved_web_page_loses_its_furniture_and_keeps_its_metadata(tmp_path):
    (tmp_path / "weir.html").write_text(SAVED_PAGE, encoding="utf-8")
    doc = read(tmp_path / "weir.html")
    assert doc.title == "River authority opens new weir"
    assert doc.author == "Ann Example" and doc.date == "2025-03-14"
    assert "4.2 million pounds" in doc.text and "twelve metres" in doc.text
    for furniture in ("cookies", "Sport", "Share on", "Post comment", "Your comment",
                      "All rights reserved"):  # fmt: skip
        assert furniture not in doc.text, furniture
    assert [(h.level, h.text) for h in doc.headings][-1] == (2, "What changes for boats")
    assert_offsets_hold(doc)


# --- citations ------------------------------------------------------------------------------


def test_citations_from_a_pdf_carry_their_page_everywhere(files, tmp_path, make_assistant):
    corpus = tmp_path / "pdfs"
    corpus.mkdir()
    shutil.copy(files / "river.pdf", corpus / "river.pdf")
    on_page_two = RIVER[40]
    bot = make_assistant(reply=lambda messages: f"{on_page_two} [1]", corpus_dir=corpus)
    bot.index()
    answer = bot.ask("How many tonnes of silt does the river carry in sentence number 41?")
    assert not answer.refused, answer.raw_text
    [citation] = answer.citations
    record = bot.documents()[0]
    assert citation.page == record.page_at(citation.start) == 2
    assert record.text[citation.start : citation.end] == citation.quote
    assert citation.locator == "river.pdf · p. 2"
    assert answer.to_dict()["citations"][0]["page"] == 2
    assert "`river.pdf · p. 2`" in answer._repr_markdown_()


def test_citations_elsewhere_have_no_page():
    citation = Citation("guide.html", "Guide", "q", 0, 1, 1.0, section="Usage")
    assert citation.page is None and citation.locator == "guide.html · Usage"
    answer = Answer("q", "a [1].", False, [citation])
    assert answer.to_dict()["citations"][0]["page"] is None


def test_a_narrow_justified_column_with_page_numbers_reads_as_running_text(tmp_path):
    words = (
        "Extraordinarily comprehensive internationalization considerations notwithstanding, "
        "the characteristically uncompromising administrators implemented telecommunications "
        "infrastructure modernization programmes."
    )
    body = " ".join([words] * 30)
    page = (
        '<html lang="en"><head><meta charset="utf-8"><title>Column</title><style>'
        "@page { margin: 2cm; @bottom-center { content: counter(page); } }"
        "body { width: 9cm; text-align: justify; font-size: 14px }"
        f"</style></head><body><p>{body}</p></body></html>"
    )
    doc = read(print_pdf(page, tmp_path / "column.pdf", header_footer=False))
    assert len(doc.pages) >= 2
    assert doc.text == body  # short ragged lines joined, page numbers gone


def test_words_hyphenated_at_a_line_end_are_mended():
    # Chromium has no hyphenation dictionaries here, so this one starts from extracted lines.
    from assistant.readers import _join_pages

    lines = [["The committee discussed the imple-", "mentation of the plan over several long",
              "afternoons, from 2019 -", "2021, and then voted."]]  # fmt: skip
    text, starts = _join_pages(lines, running=set())
    assert text == (
        "The committee discussed the implementation of the plan over several long "
        "afternoons, from 2019 - 2021, and then voted."
    )
    assert starts == [0]
