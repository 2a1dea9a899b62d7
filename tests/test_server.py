"""`assistant serve`'s routes with a canned LLM and a fake embedder (fast); the real model,
real clients and a real server process are in test_serve_e2e.py."""

from __future__ import annotations

import asyncio
import base64
import json
import threading

import pytest
from conftest import ARTICLE_A

from assistant.errors import AssistantError
from assistant.server import check_exposure, create_app, question_and_history

CO_CHAIRS = "The talks were co-chaired on January 4 by Chinese Foreign Minister Wang Yi [1]."


@pytest.fixture
def client_for(make_assistant):
    from fastapi.testclient import TestClient

    clients = []

    def make(reply=lambda messages: CO_CHAIRS, **settings):
        bot = make_assistant(reply=reply)
        for key, value in settings.items():
            setattr(bot.settings, key, value)
        client = TestClient(create_app(bot))
        client.__enter__()  # runs the app's lifespan (the MCP session manager)
        clients.append(client)
        client.bot = bot
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def chat(client, question, stream=False, **kwargs):
    body = {"model": "assistant", "messages": [{"role": "user", "content": question}]}
    return client.post("/v1/chat/completions", json={**body, "stream": stream}, **kwargs)


def test_a_chat_completion_is_openai_shaped_with_citations(client_for):
    client = client_for()
    assert client.get("/v1/models").json()["data"][0]["id"] == "assistant"
    reply = chat(client, "When were the talks co-chaired?").json()
    assert reply["object"] == "chat.completion"
    message = reply["choices"][0]["message"]
    assert message["role"] == "assistant" and "January 4" in message["content"]
    assert "[1]" in message["content"] and reply["refused"] is False
    [citation] = reply["citations"]
    text = client.bot.store.records()[citation["source"]].text
    assert text[citation["start"] : citation["end"]] == citation["quote"]
    assert set(citation) == {"source", "title", "quote", "start", "end", "page"}


def test_a_streamed_completion_sends_the_verified_answer_then_citations_then_done(client_for):
    client = client_for()
    response = chat(client, "When were the talks co-chaired?", stream=True)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert content == CO_CHAIRS.replace(" [1].", " [1].")  # verified, markers renumbered
    final = chunks[-1]
    assert final["choices"][0]["finish_reason"] == "stop"
    assert final["refused"] is False and final["citations"][0]["source"] == ARTICLE_A
    assert all("citations" not in c for c in chunks[:-1])


def test_a_refusal_is_flagged(client_for):
    client = client_for(reply=lambda messages: "The sources do not say.")
    reply = chat(client, "What will the weather be in Beijing?").json()
    assert reply["refused"] is True and reply["citations"] == []


def test_earlier_turns_become_the_history_of_the_last_question():
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Who co-chaired the dialogue?"},
        {"role": "assistant", "content": "Wang Yi and Ishaq Dar [1]."},
        {"role": "user", "content": [{"type": "text", "text": "Where is the next round?"}]},
    ]
    question, history = question_and_history(messages)
    assert question == "Where is the next round?"
    assert history == [("Who co-chaired the dialogue?", "Wang Yi and Ishaq Dar [1].")]


@pytest.mark.parametrize(
    "body, message",
    [
        ({"messages": [{"role": "user", "content": "   "}]}, "question is empty"),
        ({"messages": [{"role": "user", "content": "why " * 2000}]}, "the limit is 2,000"),
        ({"messages": [{"role": "system", "content": "hi"}]}, "no user message"),
        ({"messages": "hello"}, "must be a list"),
        ({}, "must be a list"),
    ],
)
def test_bad_requests_get_openai_errors_that_say_what_to_do(client_for, body, message):
    response = client_for().post("/v1/chat/completions", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert message in error["message"] and error["type"] == "invalid_request_error"


def test_a_key_guards_programs_and_the_ui(client_for):
    client = client_for(api_key="s3cret")
    assert chat(client, "When?").status_code == 401
    wrong = chat(client, "When?", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "ASSISTANT_API_KEY" in wrong.json()["error"]["message"]
    assert wrong.headers["www-authenticate"] == "Bearer"
    assert chat(client, "When?", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert client.get("/api/documents").status_code == 401
    assert client.post("/mcp", json={}).status_code == 401
    # A browser gets a password prompt for the UI and the files; the key is the password.
    page = client.get("/")
    assert page.status_code == 401 and page.headers["www-authenticate"].startswith("Basic")
    basic = "Basic " + base64.b64encode(b"me:s3cret").decode()
    assert client.get(f"/source/{ARTICLE_A}", headers={"Authorization": basic}).status_code == 200
    # Basic is for browsers, not for programs.
    assert client.get("/api/documents", headers={"Authorization": basic}).status_code == 401


def test_no_key_keeps_the_server_on_this_machine():
    check_exposure("127.0.0.1", None)
    check_exposure("::1", None)
    check_exposure("0.0.0.0", "key")
    with pytest.raises(AssistantError, match="without an API key: set ASSISTANT_API_KEY"):
        check_exposure("0.0.0.0", None)


def test_a_question_that_waits_too_long_for_a_slot_gets_503_with_retry_after(client_for):
    client = client_for(queue_timeout=0.2)
    held = client.bot.stream("When were the talks co-chaired?")  # takes the only slot
    assert client.get("/api/health").json()["slots"] == {"total": 1, "busy": 1}
    response = chat(client, "Who co-chaired?")
    assert response.status_code == 503 and int(response.headers["retry-after"]) >= 1
    assert "slot" in response.json()["error"]["message"]
    list(held)  # finished: the slot is free again
    assert client.get("/api/health").json()["slots"]["busy"] == 0
    assert chat(client, "Who co-chaired?").status_code == 200


def test_a_generation_dropped_or_cancelled_frees_its_slot(make_assistant):
    bot = make_assistant(reply=lambda messages: CO_CHAIRS)
    generation = bot.stream("When were the talks co-chaired?")
    assert bot.busy_slots == 1
    del generation  # never read
    assert bot.busy_slots == 0
    generation = bot.stream("When were the talks co-chaired?")
    pieces = iter(generation)
    next(pieces)
    generation.cancel()
    assert list(pieces) == [] and generation.answer is None
    assert bot.busy_slots == 0


def test_the_json_api_asks_searches_and_manages_documents(client_for, tmp_path):
    client = client_for()
    answer = client.post("/api/ask", json={"question": "When were the talks co-chaired?"}).json()
    assert answer["refused"] is False and answer["citations"][0]["source"] == ARTICLE_A
    assert "unsupported" in answer and answer["conversation_id"] is None
    saved = client.post("/api/ask", json={"question": "When?", "conversation": None}).json()
    cid = saved["conversation_id"]
    follow = client.post("/api/ask", json={"question": "Who?", "conversation": cid}).json()
    assert follow["conversation_id"] == cid
    assert len(client.bot.conversations.get(cid).messages) == 2
    unknown = client.post("/api/ask", json={"question": "Who?", "conversation": "nope"})
    assert unknown.status_code == 404 and "no conversation" in unknown.json()["error"]["message"]
    found = client.get("/api/search", params={"q": "Gwadar port", "k": 2}).json()["results"]
    assert len(found) == 2 and all(h["text"] and h["end"] > h["start"] for h in found)
    assert [d["id"] for d in client.get("/api/documents").json()["documents"]] == sorted(
        client.bot.store.records()
    )
    note = tmp_path / "ferry.txt"
    note.write_text("Ferry notes\n\nThe ferry leaves at 9 from pier 4.\n")
    with note.open("rb") as f:
        added = client.post("/api/documents", files={"files": ("ferry.txt", f)}).json()
    assert added["added"] == ["ferry.txt"] and "ferry.txt" in client.bot.store.records()
    with (tmp_path / "ferry.txt").open("rb") as f:
        bad = client.post("/api/documents", files={"files": ("tool.exe", f)})
    assert bad.status_code == 400 and "unsupported type" in bad.json()["error"]["message"]
    removed = client.delete("/api/documents/ferry.txt").json()
    assert removed["removed"] == "ferry.txt" and ".trash" in removed["moved_to"]
    assert "ferry.txt" not in client.bot.store.records()
    assert client.delete("/api/documents/../secret.txt").status_code == 404


def test_the_mcp_tools_answer_search_and_list(make_assistant):
    from mcp import Client

    from assistant.mcp_tools import build_mcp

    bot = make_assistant(reply=lambda messages: CO_CHAIRS)

    async def session():
        async with Client(build_mcp(bot)) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            asked = await client.call_tool("ask", {"question": "When were the talks held?"})
            found = await client.call_tool("search", {"query": "Gwadar", "k": 3})
            listed = await client.call_tool("list_documents", {})
            return tools, asked, found, listed

    tools, asked, found, listed = asyncio.run(session())
    assert tools == {"ask", "search", "list_documents"}
    assert "January 4" in asked.content[0].text and "Sources:" in asked.content[0].text
    assert asked.structured_content["citations"][0]["source"] == ARTICLE_A
    assert len(found.structured_content["results"]) == 3
    ids = [d["id"] for d in listed.structured_content["documents"]]
    assert ids == sorted(bot.store.records())
    assert threading.active_count() < 50


def test_a_model_that_cannot_load_gives_503_saying_what_to_do(make_assistant, tmp_path):
    from fastapi.testclient import TestClient

    broken = tmp_path / "model.gguf"
    broken.write_bytes(b"not a model at all")
    bot = make_assistant(llm=None)
    bot.settings.model_path = broken
    with TestClient(create_app(bot)) as client:
        response = chat(client, "When were the talks co-chaired?")
        health = client.get("/api/health").json()
    assert response.status_code == 503
    error = response.json()["error"]
    assert (
        "not a GGUF model file" in error["message"] and "ASSISTANT_MODEL_PATH" in error["message"]
    )
    assert health["slots"]["busy"] == 0  # the failed question gave its slot back


def test_cors_is_off_unless_origins_are_configured(client_for):
    preflight = {"Origin": "https://notes.example", "Access-Control-Request-Method": "POST"}
    closed = client_for()
    refused = closed.options("/v1/chat/completions", headers=preflight)
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
    # A page of another site cannot make a visitor's browser call the API (on loopback,
    # without a key, it could otherwise upload or delete documents).
    cross = closed.delete("/api/documents/x.txt", headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403 and "ASSISTANT_CORS_ORIGINS" in cross.json()["error"]["message"]
    assert closed.get("/api/documents").status_code == 200  # no Origin: not a web page
    same = closed.get("/api/documents", headers={"Origin": "http://testserver"})
    assert same.status_code == 200  # the server's own pages (/api/docs)
    client = client_for(api_key="k", cors_origins="https://notes.example")
    allowed = client.options("/v1/chat/completions", headers=preflight)  # no key: a preflight
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://notes.example"
    other = client.options(
        "/v1/chat/completions", headers={**preflight, "Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in other.headers
    assert chat(client, "When?", headers={"Origin": "https://notes.example"}).status_code == 401
