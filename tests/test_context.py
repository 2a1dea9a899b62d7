"""Context selection for large collections: whole chunks that keep their subject."""

from pathlib import Path

from llama_index.core.schema import TextNode

from assistant.config import Settings
from assistant.context import TAIL_WORDS, retrieved_passages, section_tail_end
from assistant.ingest import chunk_document, read_document
from assistant.verify import verify

TEXT = (
    "Netflix reported its results on Tuesday.\n\n"
    "It lost 200,000 subscribers in the first quarter. Shares fell 25 percent.\n\n"
    "The company plans an ad-supported tier. Analysts expect it next year.\n\n"
    "Weather was mild in California."
)


def chunk(start_text: str, end_text: str, doc_id: str = "a.txt", section: str = "") -> TextNode:
    start = TEXT.index(start_text)
    end = TEXT.index(end_text) + len(end_text)
    return TextNode(
        id_=f"{doc_id}#{start}",
        text=TEXT[start:end],
        metadata={
            "doc_id": doc_id,
            "title": "Results",
            "section": section,
            "start": start,
            "end": end,
        },  # fmt: skip
    )


def test_a_chunk_that_refers_back_gets_the_sentence_naming_its_subject():
    [passage] = retrieved_passages([chunk("It lost", "25 percent.")], {"a.txt": TEXT}.get, 500)
    assert passage.node.get_content().startswith("Netflix reported its results on Tuesday.")
    lo, hi = passage.spans[0]
    assert TEXT[lo:hi] == passage.node.get_content()


def test_touching_chunks_of_one_document_become_one_passage_in_rank_order():
    hits = [chunk("The company", "next year."), chunk("Netflix", "25 percent.")]
    [passage] = retrieved_passages(hits, {"a.txt": TEXT}.get, 500)
    assert passage.node.get_content() == TEXT[: TEXT.index("next year.") + len("next year.")]


def test_the_budget_keeps_the_best_chunk_and_skips_what_does_not_fit():
    hits = [chunk("The company", "next year."), chunk("Weather", "California.")]
    passages = retrieved_passages(hits, {"a.txt": TEXT}.get, budget=5)
    best = TEXT[TEXT.index("The company") : TEXT.index("next year.") + len("next year.")]
    assert [p.node.get_content() for p in passages] == [best]


def test_citations_into_a_merged_passage_point_at_the_document_text():
    hits = [chunk("It lost", "25 percent.")]
    passages = retrieved_passages(hits, {"a.txt": TEXT}.get, 500)
    verified = verify("Netflix lost 200,000 subscribers [1].", passages, [], {"a.txt": TEXT}.get)
    [citation] = verified.citations
    assert TEXT[citation.start : citation.end] == citation.quote
    assert "200,000 subscribers" in citation.quote


# A Sphinx page whose first definition is longer than a chunk of 20 words: its closing note
# goes to the next chunk, beside the start of the next definition.
SPHINX_PAGE = """<html><head><title>cachelib</title></head><body><div class="body" role="main">
<section id="cachelib"><h1>cachelib — Caches</h1>
<p>The module defines the following functions.</p>
<dl class="py function"><dt class="sig">cachelib.cache(function)</dt>
<dd><p>Wraps a function in a cache of its results that never forgets one.</p>
<p>A second call with the same arguments returns the stored result at once.</p>
<p>{note}</p></dd></dl>
<dl class="py function"><dt class="sig">cachelib.clear(function)</dt>
<dd><p>Empties the cache of a wrapped function.</p></dd></dl>
</section></div></body></html>"""


def _sphinx_chunks(folder: Path, note: str = "New in version 3.9."):
    page = folder / "cachelib.html"
    page.write_text(SPHINX_PAGE.format(note=note))
    doc = read_document(page, folder)
    chunks = chunk_document(doc, 20)
    rows = [(c.chunk_id, c.start, c.end, c.section) for c in chunks]
    return doc, chunks, rows


def _node(chunk) -> TextNode:
    metadata = {"doc_id": chunk.doc_id, "title": "cachelib", "section": chunk.section,
                "start": chunk.start, "end": chunk.end}  # fmt: skip
    return TextNode(id_=chunk.chunk_id, text=chunk.text, metadata=metadata)


def test_a_chunk_cut_short_of_its_sections_end_gets_the_few_words_left(tmp_path):
    doc, chunks, rows = _sphinx_chunks(tmp_path)
    cut = next(c for c in chunks if c.text.startswith("A second call"))
    assert "New in version" not in cut.text  # it went on to the next chunk, before clear()
    tail_end = lambda doc_id, end: section_tail_end(doc.text, rows, end)  # noqa: E731
    [passage] = retrieved_passages([_node(cut)], {cut.doc_id: doc.text}.get, 500, tail_end)
    assert passage.node.get_content().endswith("returns the stored result at once.\n\n"
                                               "New in version 3.9.")  # fmt: skip
    assert "cachelib.clear" not in passage.node.get_content()  # not the next definition
    lo, hi = passage.spans[0]
    assert doc.text[lo:hi] == passage.node.get_content()
    # A chunk followed by a section of its own, or ending the document, gets nothing.
    for chunk in chunks:
        if chunk is not cut:
            assert section_tail_end(doc.text, rows, chunk.end) == chunk.end, chunk.text


def test_text_without_headings_has_no_section_tails():
    # A news article's short last chunk is not a section's tail: nothing is added to the one
    # before it.
    rows = [("a.txt#0", 0, 186, ""), ("a.txt#1", 188, len(TEXT), "")]
    assert section_tail_end(TEXT, rows, 186) == 186


def test_a_long_rest_of_a_section_is_not_added(tmp_path):
    note = "It also notes " + "one more detail, " * TAIL_WORDS + "and so on."
    doc, chunks, rows = _sphinx_chunks(tmp_path, note)
    cut = next(c for c in chunks if c.text.startswith("A second call"))
    assert section_tail_end(doc.text, rows, cut.end) == cut.end


def test_an_answer_from_a_sections_tail_is_cited_from_it(make_assistant, tmp_path):
    corpus = tmp_path / "docs"
    corpus.mkdir()
    _sphinx_chunks(corpus)
    bot = make_assistant(
        reply=lambda messages: "The cache returns a second call's result since version 3.9 [1].",
        corpus_dir=corpus,
        settings=Settings(full_context_tokens=0, chunk_words=20, top_k=1, second_look=False),
    )
    answer = bot.ask("Since which version does the cache return a second call's stored result?")
    prompt = "\n".join(m.content for m in bot.llm.prompts[0])
    assert "at once.\n\nNew in version 3.9." in prompt and "cachelib.clear" not in prompt
    assert not answer.refused, answer.unsupported
    assert any(c.quote == "New in version 3.9." for c in answer.citations), answer.citations
