"""The CLI is a thin layer: errors are one line on stderr with a non-zero exit."""

import json
import logging
import subprocess
import sys

import pytest
from conftest import ARTICLE_A, REPO, CannedLLM

from assistant import cli


def run(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env=env,
    )


def test_an_empty_question_is_one_clear_error(tmp_path):
    out = run("ask", "  ", "--index-dir", str(tmp_path / "ix"))
    assert out.returncode == 1
    assert out.stderr.strip().splitlines()[-1] == (
        "error: the question is empty: type a question about the documents"
    )


def test_an_unknown_corpus_is_one_clear_error(tmp_path):
    out = run("index", "--corpus", str(tmp_path / "nope"), "--index-dir", str(tmp_path / "ix"))
    assert out.returncode == 1
    assert out.stderr.strip() == f"error: corpus folder not found: {tmp_path / 'nope'}; " + (
        "pass an existing folder with --corpus"
    )


def test_index_skips_unreadable_files_lists_them_and_summarises(tmp_path, corpus):
    (corpus / "bad.txt").write_bytes(b"\x00\x01binary")
    out = run("index", "--corpus", str(corpus), "--index-dir", str(tmp_path / "ix"))
    assert out.returncode == 0, out.stderr
    assert "skipped bad.txt: binary file, not text" in out.stderr
    assert out.stdout.startswith("2 documents, ")
    again = run("index", "--corpus", str(corpus), "--index-dir", str(tmp_path / "ix"))
    assert "2 unchanged" in again.stdout and "+0/-0 chunks" in again.stdout


@pytest.fixture
def fake_cli(monkeypatch, make_assistant):
    def reply(messages):
        return "The talks were co-chaired on January 4 [1]."

    monkeypatch.setattr(
        cli, "_open", lambda corpus, index_dir, progress=True: make_assistant(reply)
    )


def test_ask_json_prints_answer_and_citations(fake_cli):
    from click.testing import CliRunner

    result = CliRunner().invoke(cli.cli, ["ask", "--json", "When were the talks co-chaired?"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"answer", "refused", "citations", "unsupported", "rewritten", "usage",
                         "conversation_id"}  # fmt: skip
    assert data["refused"] is False
    assert data["citations"][0]["source"] == ARTICLE_A
    citation = data["citations"][0]
    assert set(citation) == {"source", "title", "quote", "start", "end", "section", "page"}
    assert citation["page"] is None  # a text file has no pages


def test_ask_prints_numbered_sources(fake_cli):
    from click.testing import CliRunner

    result = CliRunner().invoke(cli.cli, ["ask", "--timings", "When were the talks co-chaired?"])
    assert result.exit_code == 0, result.output
    assert "Sources:\n  [1] Pakistan, China launch" in result.output
    assert "co-chaired on January 4" in result.output


def test_chat_streams_answers_until_an_empty_line(fake_cli, monkeypatch):
    from click.testing import CliRunner

    monkeypatch.setattr(CannedLLM, "chat", lambda self, messages, **kw: None)  # warm-up
    result = CliRunner().invoke(cli.cli, ["chat"], input="When were the talks co-chaired?\n\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("co-chaired on January 4") >= 2  # streamed text, then the quote


def test_chat_saves_its_conversation_and_resume_continues_it(fake_cli, tmp_path):
    from click.testing import CliRunner

    from assistant.conversations import ConversationStore

    nothing = CliRunner().invoke(cli.cli, ["chat", "--resume"], input="\n")
    assert nothing.exit_code == 1 and "no saved conversation to resume" in str(nothing.exception)
    first = CliRunner().invoke(cli.cli, ["chat"], input="When were the talks co-chaired?\n\n")
    assert first.exit_code == 0, first.output
    store = ConversationStore(tmp_path / "index" / "conversations.sqlite3")
    [saved] = store.list()
    resumed = CliRunner().invoke(cli.cli, ["chat", "--resume"], input="And then?\n\n")
    assert resumed.exit_code == 0, resumed.output
    assert "> When were the talks co-chaired?" in resumed.output  # the earlier turn, shown
    again = CliRunner().invoke(cli.cli, ["chat", "--resume", saved.id], input="More?\n\n")
    assert again.exit_code == 0, again.output
    conversation, _ = store.get(saved.id)
    assert [m.question for m in conversation.messages] == [
        "When were the talks co-chaired?", "And then?", "More?",
    ]  # fmt: skip
    assert len(store.list()) == 1


def test_verbose_logs_retrieval_hits_prompt_tokens_and_timings(fake_cli, caplog):
    from click.testing import CliRunner

    caplog.set_level(logging.INFO)  # what reaches the root logger; the CLI sets its own level
    quiet = CliRunner().invoke(cli.cli, ["ask", "When were the talks co-chaired?"])
    assert quiet.exit_code == 0 and not caplog.records
    loud = CliRunner().invoke(cli.cli, ["--verbose", "ask", "When were the talks co-chaired?"])
    assert loud.exit_code == 0, loud.output
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("hit 1: ") for m in messages), messages
    assert any(m.startswith("answered in ") and "prompt tokens" in m for m in messages)


def test_the_index_progress_bar_shows_documents_per_second_and_an_eta(monkeypatch):
    import io
    import time

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    update = cli._progress_bar()
    for done in range(0, 40, 10):
        update(done, 40, f"docs/page{done}.html")
        time.sleep(0.05)
    shown = screen.getvalue().replace("\r", "\n").splitlines()[-1]
    assert "30/40 docs" in shown and "docs/s" in shown and "ETA 00:0" in shown, shown
    assert "page30.html" in shown
