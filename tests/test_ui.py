"""The web UI as a person uses it: real model and Chroma, Chromium driven by Playwright."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ARTICLE_A, ARTICLE_B, CORPUS, REPO, free_port
from documents import article_docx, article_pdf

from assistant.answer import Answer, Citation
from assistant.errors import AssistantError
from assistant.ui import check_port, render_answer

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = REPO / "test-artifacts"


# --- rendering, no browser needed ------------------------------------------------------------


def test_markers_become_links_and_unverified_sentences_are_marked():
    answer = Answer(
        question="q",
        text="Talks were on January 4 [1]. Tickets cost 40 dollars.",
        refused=False,
        citations=[Citation(ARTICLE_A, "T", "quote", 0, 5, 1.0)],
        unsupported=["Tickets cost 40 dollars."],
    )
    rendered = render_answer(answer)
    assert '<a class="cite" href="#src-1"' in rendered
    assert '<span class="unsupported"' in rendered and "Tickets cost 40 dollars." in rendered


def test_refusals_look_different_and_text_is_escaped():
    refused = Answer(question="q", text="The sources do not say.", refused=True)
    assert render_answer(refused).startswith('<div class="refusal">')
    tricky = Answer(question="q", text="<script>x</script> [1].", refused=False)
    assert "<script>" not in render_answer(tricky)


def test_a_port_in_use_is_one_clear_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(AssistantError, match=f"port {port} on 127.0.0.1 is in use.*--port"):
            check_port("127.0.0.1", port)
        out = subprocess.run(
            [sys.executable, "-m", "assistant.cli", "ui", "--port", str(port)],
            capture_output=True, text=True, cwd=REPO, timeout=120,
        )  # fmt: skip
        assert out.returncode == 1
        assert out.stderr.strip().startswith(f"error: port {port} on 127.0.0.1 is in use")


# --- the running app ------------------------------------------------------------------------


def run_ui(corpus: Path, work: Path, **env: str):
    """`assistant ui` on ``corpus``, on a free port; yields its URL, stops it at the end."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    port = free_port()
    log = (work / "ui.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "ui", "--corpus", str(corpus),
         "--index-dir", str(work / "index"), "--port", str(port)],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", **env},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 600
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail("the UI exited:\n" + (work / "ui.log").read_text()[-3000:])
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(1)
    yield url
    proc.terminate()
    proc.wait(timeout=60)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The UI on a copy of the bundled corpus: its URL and its work folder."""
    work = tmp_path_factory.mktemp("ui")
    shutil.copytree(CORPUS, work / "corpus")
    for url in run_ui(work / "corpus", work):
        yield url, work


@pytest.fixture(scope="module")
def app_url(app):
    return app[0]


@pytest.fixture(scope="module")
def office_url(tmp_path_factory):
    """The UI on the bundled articles as a printed PDF (000) and a Word file (001)."""
    work = tmp_path_factory.mktemp("office-ui")
    (work / "corpus").mkdir()
    article_pdf(CORPUS / ARTICLE_A, work / "corpus" / "article-000.pdf")
    article_docx(CORPUS / ARTICLE_B, work / "corpus" / "article-001.docx")
    (work / "secret.txt").write_text("outside the corpus")
    # Retrieved passages as the context: no whole-collection pre-fill before serving (~40 s).
    yield from run_ui(work / "corpus", work, ASSISTANT_FULL_CONTEXT_TOKENS="0")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield browser
        browser.close()


def ask(page, question: str) -> None:
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()


def last_answer(page):
    return page.locator("#chat .bot").last


@pytest.mark.e2e
def test_a_question_streams_a_cited_answer_with_highlighted_sources(app_url, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(app_url)
    began = time.perf_counter()
    ask(page, "Who co-chaired the strategic dialogue?")
    page.wait_for_function(
        "() => { const m = document.querySelectorAll('#chat .bot');"
        " return m.length && m[m.length - 1].innerText.trim().length > 0; }",
        timeout=300_000,
    )
    first_token = time.perf_counter() - began
    page.wait_for_selector("#sources .source mark", timeout=300_000)
    answer = last_answer(page).inner_text()
    assert "Wang Yi" in answer and "Ishaq Dar" in answer
    sources = page.locator("#sources").inner_text()
    assert ARTICLE_A in sources or ARTICLE_B in sources
    assert page.locator("#sources .source mark").first.inner_text().strip()
    page.locator("#chat a.cite").first.click()  # a marker selects its source
    assert page.evaluate("location.hash") == "#src-1"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui-chat.png"), full_page=True)
    print(f"time to first token in the UI: {first_token:.2f} s")

    # A follow-up is rewritten into a standalone question, shown in a muted line.
    ask(page, "Where will their next round be held?")
    page.wait_for_function(
        "() => document.querySelector('#rewritten').innerText.includes('Searched for:')",
        timeout=300_000,
    )
    rewritten = page.locator("#rewritten").inner_text()
    assert "their next round" not in rewritten, rewritten
    page.wait_for_function(
        "() => document.querySelectorAll('#chat .user').length == 2"
        " && !document.querySelector('#ask[disabled]')",
        timeout=300_000,
    )


@pytest.mark.e2e
def test_four_browser_sessions_at_once_get_their_own_answers(app, app_url, browser):
    questions = [
        ("Who co-chaired the strategic dialogue?", ["Wang Yi"]),
        ("Where will the next round of the Strategic Dialogue be held?", ["Islamabad"]),
        ("Which port's development will the two sides prioritise?", ["Gwadar"]),
        ("Which pass's year-round opening will boost trade?", ["Khunjerab"]),
    ]
    pages = []
    for _ in questions:
        page = browser.new_context().new_page()
        page.goto(app_url)
        pages.append(page)
    for page, (question, _) in zip(pages, questions):
        ask(page, question)  # all four are queued within a second
    for page, (question, expected) in zip(pages, questions):
        page.wait_for_selector("#sources .source mark", timeout=600_000)
        answer = last_answer(page).inner_text()
        assert all(e in answer for e in expected), (question, answer)
        assert page.locator("#chat .user").last.inner_text().strip() == question
    # Each session saved its own conversation, at the same time; none was lost.
    from assistant.conversations import ConversationStore

    saved = ConversationStore(app[1] / "index" / "conversations.sqlite3")
    kept = [saved.get(c.id)[0] for c in saved.list()]
    for question, expected in questions:
        assert any(
            [m.question for m in c.messages] == [question]
            and all(e in c.messages[0].answer.text for e in expected)
            for c in kept
        ), question


@pytest.mark.e2e
def test_an_uploaded_article_is_indexed_and_answers_questions(app_url, browser, tmp_path):
    article = tmp_path / "lake_ferry.txt"
    article.write_text(
        "Lake Tarnu ferry to start in March\n\n"
        "The Lake Tarnu ferry service will start on 3 March 2027. "
        "It will be operated by Blue Heron Lines, which won the tender in October.\n"
    )
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(app_url)
    page.get_by_role("tab", name="Documents").click()
    page.locator("#upload input[type=file]").set_input_files(str(article))
    page.wait_for_timeout(1000)
    page.locator("#add").click()
    page.wait_for_function(
        "() => document.body.innerText.includes('Added lake_ferry.txt')", timeout=120_000
    )
    assert "lake_ferry.txt" in page.locator("#documents").inner_text()
    page.get_by_role("tab", name="Chat").click()
    ask(page, "Which company will operate the Lake Tarnu ferry service?")
    page.wait_for_selector("#sources .source mark", timeout=600_000)
    assert "Blue Heron Lines" in last_answer(page).inner_text()
    assert "lake_ferry.txt" in page.locator("#sources").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui-upload.png"), full_page=True)


@pytest.mark.e2e
def test_a_pdf_source_opens_at_its_page_and_paths_outside_the_corpus_are_refused(
    office_url, browser, tmp_path
):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(office_url)
    ask(page, "On which date were the foreign ministers' talks in Beijing co-chaired?")
    page.wait_for_selector("#sources .source mark", timeout=300_000)
    assert "January 4" in last_answer(page).inner_text()
    card = page.locator("#sources .source", has_text="article-000.pdf").first
    assert "article-000.pdf · p. 1" in card.inner_text()
    link = card.locator("a.open")
    assert link.get_attribute("href") == "/source/article-000.pdf#page=1"
    with context.expect_page() as opened:
        link.click()
    original = opened.value
    original.wait_for_load_state()
    assert original.url == office_url + "source/article-000.pdf#page=1"
    served = context.request.get(office_url + "source/article-000.pdf")
    assert served.ok and served.headers["content-type"] == "application/pdf"
    assert served.body()[:5] == b"%PDF-"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui-pdf-source.png"), full_page=True)

    # Anything that is not a document of the corpus folder is refused.
    for outside in ("source/..%2Fsecret.txt", "source/%2e%2e/%2e%2e/etc/passwd",
                    "source/..%2F..%2F..%2Fetc%2Fpasswd", "source/%2Fetc%2Fpasswd",
                    "source/.trash/x.pdf", "source/missing.pdf"):  # fmt: skip
        refused = context.request.get(office_url + outside)
        assert refused.status == 404, outside
        assert "outside the corpus" not in refused.text()
    response = page.goto(office_url + "source/..%2Fsecret.txt")
    assert response.status == 404 and "no document" in page.content()

    # The Documents tab takes Word files too.
    import docx

    upload = docx.Document()
    upload.add_heading("Lake Tarnu ferry", 0)
    upload.add_paragraph("The Lake Tarnu ferry service will start on 3 March 2027.")
    upload.save(tmp_path / "lake_ferry.docx")
    page.goto(office_url)
    page.get_by_role("tab", name="Documents").click()
    page.locator("#upload input[type=file]").set_input_files(str(tmp_path / "lake_ferry.docx"))
    page.wait_for_timeout(1000)
    page.locator("#add").click()
    page.wait_for_function(
        "() => document.body.innerText.includes('Added lake_ferry.docx')", timeout=120_000
    )
    assert "Lake Tarnu ferry" in page.locator("#documents").inner_text()


def open_saved(page, url: str, title: str) -> None:
    """Load the page and open the saved conversation called ``title`` from the sidebar."""
    page.goto(url)
    entry = page.locator("#conversations label", has_text=title).first
    entry.wait_for(timeout=60_000)
    entry.click()
    page.wait_for_selector("#sources .source", timeout=60_000)


@pytest.mark.e2e
def test_a_saved_conversation_survives_restarts_and_edits_of_its_source(browser, tmp_path):
    from contextlib import contextmanager
    from functools import partial

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    # Retrieved passages, not the whole collection, are the context here: each restart after
    # an edit would otherwise pre-fill the whole collection again (~40 s) before serving.
    server = contextmanager(partial(run_ui, ASSISTANT_FULL_CONTEXT_TOKENS="0"))
    question = "Who co-chaired the strategic dialogue?"
    page = browser.new_page(viewport={"width": 1400, "height": 900})

    with server(corpus, tmp_path) as url:
        page.goto(url)
        ask(page, question)
        page.wait_for_selector("#sources .source mark", timeout=300_000)
        quote = page.locator("#sources .source mark").first.inner_text().strip()
        source = page.locator("#sources .source .meta").first.inner_text().split(" · ")[0]
        assert source in (ARTICLE_A, ARTICLE_B)
        page.locator("#conversations label", has_text=question).wait_for(timeout=60_000)
        with page.expect_download() as download:
            page.locator("#export-md").click()
            page.locator("#exported a").first.click()
        markdown = Path(download.value.path()).read_text(encoding="utf-8")
        assert f"## {question}" in markdown and "Wang Yi" in markdown
        assert "1. **" in markdown and quote in markdown

    with server(corpus, tmp_path) as url:  # a new process: the conversation is on disk
        open_saved(page, url, question)
        answer = last_answer(page).inner_text()
        assert "Wang Yi" in answer and "Ishaq Dar" in answer
        page.locator("#chat a.cite").first.click()
        assert page.evaluate("location.hash") == "#src-1"
        assert page.locator("#src-1 mark").inner_text().strip() == quote

    cited = corpus / source
    cited.write_text("Editor's note: this article was updated.\n\n" + cited.read_text())
    with server(corpus, tmp_path) as url:  # the quote moved: it is found again
        open_saved(page, url, question)
        assert page.locator("#src-1 mark").inner_text().strip() == quote
        assert "changed" not in page.locator("#src-1").inner_text()

    cited.write_text(cited.read_text().replace(quote, ""))
    with server(corpus, tmp_path) as url:  # the quote is gone: the card says so
        open_saved(page, url, question)
        card = page.locator("#src-1").inner_text()
        assert "The source has changed since this answer" in card and quote in card
        page.screenshot(path=str(ARTIFACTS / "ui-conversation-changed.png"), full_page=True)

        # Rename it, then delete it once confirmed; declining keeps it.
        page.locator("#conversation-title textarea").fill("Co-chairs")
        page.locator("#rename").click()
        page.locator("#conversations label", has_text="Co-chairs").wait_for(timeout=30_000)
        page.locator("#delete").click()
        page.locator("#keep").click()
        page.wait_for_timeout(1000)
        assert page.locator("#conversations label", has_text="Co-chairs").count() == 1
        assert page.locator("#chat .user").count() == 1
        page.locator("#delete").click()
        page.locator("#confirm-delete").click()
        page.wait_for_function(
            "() => !document.querySelector('#conversations').innerText.includes('Co-chairs')",
            timeout=30_000,
        )
        assert page.locator("#chat .user").count() == 0  # a new, empty conversation
