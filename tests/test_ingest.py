from pathlib import Path

import pytest
from conftest import ARTICLE_A, ARTICLE_B, CORPUS

from assistant.errors import CorpusError
from assistant.ingest import (
    DocumentError,
    chunk_document,
    clean_text,
    list_corpus_files,
    read_document,
    split_sentences,
)

BOILERPLATE = [
    "LEAVE A REPLY",
    "Please enter your comment!",
    "Please enter your name here",
    "Subscribe to get the latest posts",
    "Discover more from",
    "Our monitoring team diligently searches",
    "Monitoring Desk",
]


@pytest.mark.parametrize("name", [ARTICLE_A, ARTICLE_B])
def test_seed_articles_lose_their_boilerplate_but_keep_their_text(name):
    raw = (CORPUS / name).read_text(encoding="utf-8")
    assert any(b in raw for b in BOILERPLATE)  # the fixture really has boilerplate
    doc = read_document(CORPUS / name, CORPUS)
    for phrase in BOILERPLATE:
        assert phrase not in doc.text
    assert "Wang Yi" in doc.text and "Mohammad Ishaq Dar" in doc.text
    last_sentences = {
        ARTICLE_A: "strengthening their All-weather Strategic Cooperative Partnership.",
        ARTICLE_B: "expected to dominate the agenda .",  # the source's own stray space
    }
    assert doc.text.endswith(last_sentences[name])  # the article ends where its text ends


def test_title_and_dateline_become_metadata():
    doc = read_document(CORPUS / ARTICLE_A, CORPUS)
    assert doc.title.startswith("Pakistan, China launch CPEC 2.0 push")
    assert doc.date == "Wednesday, January 7, 2026"
    other = read_document(CORPUS / ARTICLE_B, CORPUS)
    assert other.date is None
    assert other.title.startswith("China and Pakistan on Sunday agreed")  # no heading: 1st sentence


def test_author_box_and_comment_form_are_cut_from_any_page():
    raw = (
        "Title line\n\nBody sentence one. Body sentence two.\n\nJane Roe\nJane Roe\n"
        "Jane writes about trade.\n\nLEAVE A REPLY\n\nPlease enter your comment!\nSpam forever."
    )
    assert clean_text(raw) == "Title line\n\nBody sentence one. Body sentence two."


@pytest.mark.parametrize("name", [ARTICLE_A, ARTICLE_B])
def test_every_chunk_and_sentence_points_at_its_own_text(name):
    doc = read_document(CORPUS / name, CORPUS)
    for sentence in doc.sentences:
        assert doc.text[sentence.start : sentence.end] == sentence.text
    chunks = chunk_document(doc, max_words=40)
    assert len(chunks) > 3
    for chunk in chunks:
        assert doc.text[chunk.start : chunk.end] == chunk.text
        assert len(chunk.text.split()) <= 40
    # chunks cover the sentences in order, without overlap
    assert all(a.end <= b.start for a, b in zip(chunks, chunks[1:]))


def test_chunks_fit_the_embedder_window():
    """all-MiniLM-L6-v2 silently cuts inputs at 256 word pieces: chunks must stay well under."""
    from tokenizers import Tokenizer

    from assistant.config import Settings
    from assistant.models import embed_model_dir

    tokenizer = Tokenizer.from_file(str(embed_model_dir(Settings()) / "tokenizer.json"))
    for name in (ARTICLE_A, ARTICLE_B):
        doc = read_document(CORPUS / name, CORPUS)
        for chunk in chunk_document(doc, Settings().chunk_words):
            pieces = len(tokenizer.encode(doc.title + "\n" + chunk.text).ids)
            assert pieces < 230, (pieces, chunk.text[:60])


def test_code_heavy_text_is_chunked_by_the_embedders_word_pieces_so_every_word_is_read():
    """110 words of identifiers run far past 256 word pieces: counted in pieces, each chunk,
    with its title and section header, fits, and together the chunks hold every word."""
    from assistant.config import Settings
    from assistant.embedder import MAX_WORD_PIECES, OnnxEmbedding
    from assistant.ingest import Document
    from assistant.models import embed_model_dir

    tokenizer = str(embed_model_dir(Settings()) / "tokenizer.json")
    count = OnnxEmbedding(model_file="unused", tokenizer_file=tokenizer).count_pieces
    prose = "The function returns a list of the names found. " * 6
    code = " ".join(f"os.path.join(base_dir_{i}, sub_folder_{i}.name_{i}_x)" for i in range(60))
    text = f"{prose}\n\n{code}.\n\n{prose}"
    doc = Document("x.html", text, "os.path — Common pathname manipulations", None, "h",
                   split_sentences(text))  # fmt: skip
    assert len(text.split()) < 3 * 110 and count(code) > 3 * MAX_WORD_PIECES
    chunks = chunk_document(doc, 110, count)
    for chunk in chunks:
        header = f"title: {doc.title}\nsection: {chunk.section}\n\n"
        assert count(header + chunk.text) + 2 <= MAX_WORD_PIECES, chunk.text[:60]
    assert " ".join(c.text for c in chunks).split() == text.split()
    assert len(chunk_document(doc, 110)) < len(chunks)  # counted in words, fewer and too long


def test_chunk_ids_are_stable_and_depend_on_content():
    doc = read_document(CORPUS / ARTICLE_A, CORPUS)
    first = [c.chunk_id for c in chunk_document(doc, 110)]
    assert first == [c.chunk_id for c in chunk_document(doc, 110)]
    assert all(cid.startswith(ARTICLE_A + "#") for cid in first)
    assert len(set(first)) == len(first)


def test_sentence_splitter_respects_abbreviations_and_lines():
    text = "Mr. Dar met Dr. Wang in the U.S. capital. It went well!\n- Item one\n- Item two"
    assert [s.text for s in split_sentences(text)] == [
        "Mr. Dar met Dr. Wang in the U.S. capital.",
        "It went well!",
        "- Item one",
        "- Item two",
    ]


def test_a_long_sentence_is_cut_into_several_chunks():
    from assistant.ingest import Document

    text = " ".join(f"word{i}" for i in range(250)) + "."
    doc = Document("x.txt", text, "t", None, "h", split_sentences(text))
    chunks = chunk_document(doc, 100)
    assert [len(c.text.split()) for c in chunks] == [100, 100, 50]
    assert all(text[c.start : c.end] == c.text for c in chunks)


def test_html_and_markdown_are_read_as_text(tmp_path: Path):
    (tmp_path / "page.html").write_text(
        "<html><head><title>T</title><script>var x=1;</script></head><body>"
        "<nav>Home | About</nav><h1>Talks in Beijing</h1><p>The talks were held on "
        "January 4.</p><form>Please enter your comment!</form></body></html>"
    )
    (tmp_path / "note.md").write_text(
        "# Notes\n\nThe **talks** were [held](http://x) in Beijing.\n"
    )
    page = read_document(tmp_path / "page.html", tmp_path)
    assert page.title == "Talks in Beijing"
    assert "The talks were held on January 4." in page.text
    assert "var x" not in page.text and "Home" not in page.text and "comment" not in page.text
    note = read_document(tmp_path / "note.md", tmp_path)
    assert note.title == "Notes" and "The talks were held in Beijing." in note.text


@pytest.mark.parametrize(
    "content, reason",
    [(b"\x00\x01\x02binary", "binary"), (b"caf\xe9 au lait", "UTF-8"), (b"  \n\n ", "no text")],
)
def test_unreadable_files_raise_a_reason(tmp_path: Path, content: bytes, reason: str):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(DocumentError, match=reason):
        read_document(path, tmp_path)


def test_huge_files_are_refused(tmp_path: Path):
    path = tmp_path / "big.txt"
    path.write_text("word " * 1000)
    with pytest.raises(DocumentError, match="larger than"):
        read_document(path, tmp_path, max_bytes=100)


def test_listing_skips_hidden_and_unsupported_files(tmp_path: Path):
    (tmp_path / "a.txt").write_text("A.")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("B.")
    (tmp_path / ".hidden.txt").write_text("H.")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    names = [p.relative_to(tmp_path).as_posix() for p in list_corpus_files(tmp_path)]
    assert names == ["a.txt", "sub/b.md"]
    with pytest.raises(CorpusError, match="not found"):
        list_corpus_files(tmp_path / "missing")


SPHINX_PAGE = """<html><head><title>zlib — Compression &#8212; Python 3.11</title></head>
<body><div class="related" role="navigation"><ul><li><a href="#">index</a></li>
<li>next |</li></ul></div>
<div class="sphinxsidebar" role="navigation"><h3>Table of Contents</h3><ul><li>zlib</li></ul></div>
<div class="body" role="main">
<h1>zlib — Compression<a class="headerlink" href="#zlib">¶</a></h1>
<p>This module compresses data.</p>
<section><h2>Functions<a class="headerlink" href="#f">¶</a></h2><p>Both take bytes.</p>
<dl class="py function"><dt class="sig">zlib.compress(data, level=-1)<a class="headerlink">¶</a>
</dt>
<dd><p>It returns the compressed bytes. The default level is 6.</p>
<div class="highlight"><pre>&gt;&gt;&gt; compress(b"x")
b'x'</pre></div></dd></dl></section></div>
<div class="footer">Copyright 2023.</div></body></html>"""


def test_html_keeps_the_main_content_with_its_headings_and_definitions(tmp_path: Path):
    (tmp_path / "zlib.html").write_text(SPHINX_PAGE)
    doc = read_document(tmp_path / "zlib.html", tmp_path)
    assert doc.title == "zlib — Compression"
    for furniture in ("index", "next |", "Table of Contents", "Copyright", "¶"):
        assert furniture not in doc.text, furniture
    assert ">>> compress(b\"x\")\nb'x'" in doc.text  # code keeps its lines
    levels = [(h.level, h.text) for h in doc.headings]
    assert levels == [(1, "zlib — Compression"), (2, "Functions"),
                      (7, "zlib.compress(data, level=-1)")]  # fmt: skip
    for h in doc.headings:
        assert doc.text[h.start : h.start + len(h.text)] == h.text
    chunks = chunk_document(doc, 100)
    assert [c.text.split("\n")[0] for c in chunks] == ["zlib — Compression", "Functions"]
    assert [c.section for c in chunks] == ["", "Functions"]  # the title is shown on its own
    # A definition starts a chunk of its own once the chunk before it holds a third of a chunk.
    small = chunk_document(doc, 9)
    [definition] = [c for c in small if c.text.startswith("zlib.compress(")]
    assert definition.section == "Functions › zlib.compress(data, level=-1)"
    assert all(doc.text[c.start : c.end] == c.text for c in chunks + small)


def test_markdown_headings_give_chunks_their_section_path(tmp_path: Path):
    (tmp_path / "guide.md").write_text(
        "# Guide\n\nIntro text here.\n\n## Install\n\nRun the installer.\n\n"
        "### Options\n\nIt accepts --quiet.\n"
    )
    doc = read_document(tmp_path / "guide.md", tmp_path)
    assert doc.title == "Guide" and "#" not in doc.text
    sections = [c.section for c in chunk_document(doc, 100)]
    assert sections == ["", "Install", "Install › Options"]


def test_html_keeps_a_paragraph_that_is_only_a_link_to_code(tmp_path: Path):
    # Sphinx's summaries and tables: the term that heads a description, or a table cell, is a
    # paragraph holding one cross-reference; by its link density it reads as navigation.
    link = '<a class="reference internal" href="#enum.{0}"><code class="xref">{0}</code></a>'
    page = f"""<html><head><title>enum — Enumerations</title></head><body>
<div class="body" role="main"><h1>enum — Enumerations</h1>
<p>This module defines the enumeration classes that the sections below describe in detail.</p>
<p>{link.format("auto")}</p>
<blockquote><div><p>Instances are replaced with an appropriate value for Enum members.</p>
</div></blockquote>
<p>{link.format("unique")}</p>
<blockquote><div><p>Enum class decorator that ensures only one name is bound to any one
value.</p></div></blockquote>
<p>See {link.format("Flag")} for the flags, which the next section lists with examples.</p>
<table><tr><td><p>{link.format("os.makedirs()")}</p></td><td><p>{link.format("Path.mkdir()")}</p>
</td></tr></table></div></body></html>"""
    (tmp_path / "enum.html").write_text(page)
    text = read_document(tmp_path / "enum.html", tmp_path).text
    assert "auto\n\nInstances are replaced" in text
    assert "unique\n\nEnum class decorator" in text
    assert "os.makedirs() | Path.mkdir()" in text
    assert "See Flag for the flags" in text
