"""Context selection for large collections: whole chunks that keep their subject."""

from llama_index.core.schema import TextNode

from assistant.context import retrieved_passages
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
