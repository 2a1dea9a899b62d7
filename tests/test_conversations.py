"""Saved conversations with a canned LLM: saving, reopening after documents change, export,
privacy, concurrent writers and a killed writer."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from conftest import ARTICLE_A, REPO

from assistant.conversations import ConversationNotFound, ConversationStore
from assistant.errors import AssistantError
from assistant.results import Answer, Citation

QUOTED = "The talks were co-chaired on January 4 by Chinese Foreign Minister Wang Yi [1]."
SENTENCE = (
    "The talks were co-chaired on January 4 by Chinese Foreign Minister Wang Yi and "
    "Pakistan’s Deputy Prime Minister and Foreign Minister Mohammad Ishaq Dar, who was on "
    "a three-day visit to China from January 3 to 5 at Wang’s invitation."
)


@pytest.fixture
def bot(make_assistant):
    return make_assistant(reply=lambda messages: QUOTED)


def test_a_conversation_keeps_each_answer_whole_and_reads_follow_ups_with_it(bot):
    first = bot.ask("When were the talks co-chaired?", conversation=None)
    cid = first.conversation_id
    assert cid and bot.conversations.list()[0].title == "When were the talks co-chaired?"
    second = bot.ask("And who led them?", conversation=cid)
    assert second.conversation_id == cid
    [rewrite_prompt] = [str(p) for p in bot.llm.prompts if "Rewrite the last question" in str(p)]
    assert "When were the talks co-chaired?" in rewrite_prompt  # with the saved first turn

    saved = bot.conversations.get(cid)
    assert [m.question for m in saved.messages] == [
        "When were the talks co-chaired?", "And who led them?",
    ]  # fmt: skip
    answer = saved.messages[0].answer
    assert answer.text == first.text and answer.refused is False
    assert answer.citations == first.citations  # source, quote, offsets, page, section
    assert saved.history == [(m.question, m.answer.text) for m in saved.messages]
    assert bot.ask("Anything else?").conversation_id is None  # by default nothing is saved
    assert len(bot.conversations.list()) == 1


def test_conversations_are_listed_newest_first_renamed_and_deleted_from_the_file(bot):
    older = bot.ask("When were the talks co-chaired?", conversation=None).conversation_id
    time.sleep(1.1)  # timestamps have whole seconds
    newer = bot.ask("Who hosted the talks in Beijing?", conversation=None).conversation_id
    assert [c.id for c in bot.conversations.list()] == [newer, older]
    bot.conversations.rename(older, "Dates")
    assert {c.id: c.title for c in bot.conversations.list()}[older] == "Dates"

    bot.conversations.delete(newer)
    assert [c.id for c in bot.conversations.list()] == [older]
    path = bot.conversations.store.path
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    assert b"Who hosted the talks in Beijing?" not in raw  # gone, not hidden
    with pytest.raises(ConversationNotFound, match="no conversation"):
        bot.conversations.get(newer)
    with pytest.raises(AssistantError, match="no conversation"):
        bot.ask("More?", conversation="nope")


def test_a_reopened_citation_follows_its_quote_or_says_the_source_changed(bot, corpus):
    cid = bot.ask("When were the talks co-chaired?", conversation=None).conversation_id
    [saved] = bot.conversations.get(cid).messages[0].answer.citations
    assert saved.status == "current" and saved.quote == SENTENCE

    article = corpus / ARTICLE_A
    article.write_text("Editor's note: updated.\n\n" + article.read_text(encoding="utf-8"))
    bot.index()
    [moved] = bot.conversations.get(cid).messages[0].answer.citations
    text = bot.store.records()[ARTICLE_A].text
    assert moved.status == "moved" and moved.start > saved.start
    assert text[moved.start : moved.end] == SENTENCE
    assert bot.paragraph_of(moved)[1] == SENTENCE

    article.write_text(article.read_text(encoding="utf-8").replace(SENTENCE, ""))
    bot.index()
    [changed] = bot.conversations.get(cid).messages[0].answer.citations
    assert changed.status == "changed" and changed.quote == SENTENCE
    from assistant.ui import render_sources

    card = render_sources(bot, bot.conversations.get(cid).messages[0].answer)
    assert "The source has changed since this answer" in card and "Wang Yi" in card

    bot.remove_document(ARTICLE_A)
    [removed] = bot.conversations.get(cid).messages[0].answer.citations
    assert removed.status == "removed"
    assert "Source removed" in render_sources(bot, bot.conversations.get(cid).messages[0].answer)


def test_exports_hold_the_questions_answers_and_numbered_sources(bot):
    cid = bot.ask("When were the talks co-chaired?", conversation=None).conversation_id
    markdown = bot.conversations.export(cid, "md")
    assert "## When were the talks co-chaired?" in markdown
    assert "January 4" in markdown and "1. **" in markdown and SENTENCE in markdown
    data = json.loads(bot.conversations.export(cid, "json"))
    [message] = data["messages"]
    assert message["question"] == "When were the talks co-chaired?"
    assert message["answer"]["citations"][0]["quote"] == SENTENCE
    assert message["answer"]["citations"][0]["status"] == "current"
    with pytest.raises(AssistantError, match="use md or json"):
        bot.conversations.export(cid, "pdf")


def test_saving_can_be_turned_off_everywhere(make_assistant, tmp_path):
    bot = make_assistant(reply=lambda messages: QUOTED)
    bot.settings.save_conversations = False
    answer = bot.ask("When were the talks co-chaired?", conversation=None)
    assert not answer.refused and answer.conversation_id is None
    assert bot.conversations.list() == []
    assert not list((tmp_path / "index").glob("conversations*"))
    with pytest.raises(AssistantError, match="ASSISTANT_SAVE_CONVERSATIONS=false"):
        bot.conversations.get("any")


def _answer(n: int) -> Answer:
    citation = Citation("a.txt", "A", f"quote {n}", 0, 7, 1.0)
    return Answer(f"question {n}", f"answer {n} [1].", False, [citation])


def test_two_writers_at_once_lose_nothing(tmp_path):
    path = tmp_path / "conversations.sqlite3"
    cid = ConversationStore(path).create("shared")

    def write(offset: int) -> None:
        store = ConversationStore(path)  # a connection of its own, as another process has
        for n in range(offset, offset + 40):
            store.append(cid, f"question {n}", _answer(n), {"a.txt": "hash"})

    threads = [threading.Thread(target=write, args=(start,)) for start in (0, 1000)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    conversation, _ = ConversationStore(path).get(cid)
    questions = {m.question for m in conversation.messages}
    assert len(conversation.messages) == 80
    assert questions == {f"question {n}" for n in [*range(40), *range(1000, 1040)]}


WRITER = """
import sys
from pathlib import Path
from assistant.conversations import ConversationStore
from assistant.results import Answer, Citation
store = ConversationStore(Path(sys.argv[1]))
cid = store.create("killed")
print(cid, flush=True)
n = 0
while True:
    store.append(cid, f"question {n}", Answer(f"q{n}", "a " * 500, False,
                 [Citation("a.txt", "A", "q", 0, 1, 1.0)]), {"a.txt": "h"})
    n += 1
"""


def test_a_writer_killed_mid_write_leaves_every_finished_message(tmp_path):
    path = tmp_path / "conversations.sqlite3"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True,
        cwd=REPO, env={**os.environ},
    )  # fmt: skip
    cid = proc.stdout.readline().strip()
    time.sleep(1.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conversation, _ = ConversationStore(path).get(cid)
    numbers = [int(m.question.split()[1]) for m in conversation.messages]
    assert numbers == list(range(len(numbers))) and len(numbers) > 5  # a whole prefix


def test_the_cli_lists_shows_exports_and_deletes_conversations(bot, tmp_path):
    cid = bot.ask("When were the talks co-chaired?", conversation=None).conversation_id
    index = str(tmp_path / "index")

    def cli(*args, stdin=None):
        return subprocess.run(
            [sys.executable, "-m", "assistant.cli", "conversations", *args, "--index-dir", index],
            capture_output=True, text=True, cwd=REPO, input=stdin, timeout=120,
        )  # fmt: skip

    listed = cli("list")
    assert listed.returncode == 0 and listed.stdout.startswith(cid)
    assert "When were the talks co-chaired?" in listed.stdout
    shown = cli("show", cid).stdout
    assert "## When were the talks co-chaired?" in shown and SENTENCE in shown
    exported = json.loads(cli("export", cid, "--format", "json").stdout)
    assert exported["messages"][0]["answer"]["citations"][0]["quote"] == SENTENCE
    assert cli("delete", cid, stdin="n\n").returncode != 0  # declined: kept
    assert cid in cli("list").stdout
    assert cli("delete", cid, "--yes").returncode == 0
    assert cli("list").stdout == ""
    missing = cli("show", cid)
    assert missing.returncode == 1 and missing.stderr.startswith("error: no conversation")
