"""Follow-up rewriting, paragraph context and managing the corpus folder through the API."""

import pytest
from conftest import ARTICLE_A

from assistant.api import safe_file_name
from assistant.errors import CorpusError


def scripted(messages):
    prompt = messages[-1].content
    if prompt.startswith("Rewrite the last question"):
        return "Who hosted Mohammad Ishaq Dar?\n"
    return "Dar visited China at Wang's invitation [1]."


def test_a_follow_up_is_rewritten_before_retrieval(make_assistant):
    bot = make_assistant(scripted)
    history = [("Which Pakistani minister visited China?", "Mohammad Ishaq Dar [1].")]
    answer = bot.ask("And who hosted him?", history=history)
    assert answer.question == "And who hosted him?"
    assert answer.rewritten == "Who hosted Mohammad Ishaq Dar?"
    rewrite_prompt = bot.llm.prompts[0][-1].content
    assert "Q: Which Pakistani minister visited China?" in rewrite_prompt
    assert "[1]" not in rewrite_prompt  # markers are stripped from earlier answers
    assert bot.llm.prompts[1][-1].content.strip() == "Question: Who hosted Mohammad Ishaq Dar?"
    assert "rewrite_s" in answer.timings


def test_a_standalone_question_is_not_rewritten(make_assistant):
    bot = make_assistant(scripted)
    answer = bot.ask("Where will the next round be held?", history=[("Q", "A")])
    assert answer.rewritten is None
    assert len(bot.llm.prompts) == 1  # no rewriting call at all


def test_paragraph_of_a_citation_surrounds_the_quote(make_assistant):
    bot = make_assistant(scripted)
    citation = bot.ask("At whose invitation did Dar visit?").citations[0]
    before, quote, after = bot.paragraph_of(citation)
    paragraph = before + quote + after
    assert quote == citation.quote and "\n" not in paragraph
    assert paragraph in bot.store.records()[citation.source].text


@pytest.mark.parametrize(
    "name, safe",
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\win.ini.md", "win.ini.md"),
        (".hidden.txt", "hidden.txt"),
        ("my report (final).html", "my_report_final_.html"),
        ("", "document.txt"),
    ],
)
def test_uploaded_names_are_sanitised(name, safe):
    assert safe_file_name(name) == safe


def test_uploads_land_in_the_corpus_folder_and_are_indexed(make_assistant, tmp_path, corpus):
    bot = make_assistant(scripted)
    upload = tmp_path / "upload" / "..%2f evil name.md"
    upload.parent.mkdir()
    upload.write_text("# Port news\n\nThe Gwadar ferry starts in May.\n")
    [doc_id] = bot.add_documents([upload])
    assert (corpus / doc_id).is_file() and "/" not in doc_id
    assert bot.index().added == [doc_id]
    assert doc_id in [d.doc_id for d in bot.documents()]


def test_uploads_of_the_wrong_type_or_size_are_refused(make_assistant, tmp_path, corpus):
    bot = make_assistant(scripted)
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ")
    with pytest.raises(CorpusError, match="unsupported type"):
        bot.add_documents([exe])
    big = tmp_path / "big.txt"
    big.write_text("x" * 2000)
    with pytest.raises(CorpusError, match="over the 1,000 limit"):
        bot.add_documents([big], max_bytes=1000)
    assert sorted(p.name for p in corpus.iterdir()) == sorted(
        [ARTICLE_A, "001_d4563561c63a4494.txt"]
    )


def test_removing_a_document_keeps_its_file_in_the_trash(make_assistant, corpus):
    bot = make_assistant(scripted)
    moved = bot.remove_document(ARTICLE_A)
    assert moved.is_file() and moved.parent == corpus / ".trash"
    assert ARTICLE_A not in [d.doc_id for d in bot.documents()]
    assert all(not i.startswith(ARTICLE_A) for i in bot.store.collection.get(include=[])["ids"])
    with pytest.raises(CorpusError, match="no document"):
        bot.remove_document("../outside.txt")


def test_removing_a_document_while_an_answer_is_verified_keeps_that_answer_whole(make_assistant):
    bot = make_assistant(scripted)
    generation = bot.stream("At whose invitation did Dar visit?")
    cited = [d.doc_id for d in bot.documents() if "invitation" in d.text]
    for doc_id in cited:
        bot.remove_document(doc_id)  # indexing runs between planning and verifying
    pieces = list(generation)  # verification reads the text the passages came from
    assert pieces and not generation.answer.refused
    citation = generation.answer.citations[0]
    assert citation.source in cited
    assert citation.source not in {d.doc_id for d in bot.documents()}
    assert bot.paragraph_of(citation) == ("", citation.quote, "")  # the source is gone


def test_an_index_opened_without_updating_retrieves_with_the_configured_embedder(corpus, tmp_path):
    from conftest import CannedLLM

    from assistant import Assistant

    Assistant(corpus=corpus, index_dir=tmp_path / "ix", llm=CannedLLM())  # builds the index
    bot = Assistant(corpus=corpus, index_dir=tmp_path / "ix", llm=CannedLLM(), update_index=False)
    dense = bot.planner.retriever._dense  # before any question loaded the embedder
    assert type(dense._embed_model).__name__ == "OnnxEmbedding"  # not OpenAI's default
    assert bot.ask("Who co-chaired the strategic dialogue?").retrieved


def test_only_documents_of_the_corpus_folder_are_served(make_assistant, corpus, tmp_path):
    from fastapi.testclient import TestClient

    from assistant.server import create_app

    bot = make_assistant()
    (tmp_path / "secret.txt").write_text("not for the web")
    (corpus / ".hidden.txt").write_text("hidden")
    (corpus / "notes.exe").write_bytes(b"MZ")
    (corpus / "link.txt").symlink_to(tmp_path / "secret.txt")
    assert bot.source_file(ARTICLE_A) == (corpus / ARTICLE_A).resolve()
    for bad in ("../secret.txt", "/etc/passwd", ".hidden.txt", "notes.exe", "link.txt",
                "missing.txt", ".trash/x.txt", "sub/../../secret.txt"):  # fmt: skip
        with pytest.raises(CorpusError, match="no document"):
            bot.source_file(bad)

    client = TestClient(create_app(bot, programs=False))
    served = client.get(f"/source/{ARTICLE_A}")
    assert served.status_code == 200 and served.text == (corpus / ARTICLE_A).read_text()
    assert served.headers["content-security-policy"] == "sandbox"  # shown, never run
    for bad in ("..%2Fsecret.txt", "%2Fetc%2Fpasswd", "link.txt", ".hidden.txt"):
        refused = client.get(f"/source/{bad}")
        assert refused.status_code == 404 and "no document" in refused.json()["detail"]
