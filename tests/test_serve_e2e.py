"""`assistant serve` and `assistant mcp` as programs use them: a real server process on a free
loopback port, the real model, and real clients (openai, LlamaIndex's OpenAILike, the mcp SDK)."""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from conftest import ARTICLE_A, ARTICLE_B, CORPUS, QUESTIONS, REPO, free_port

from assistant.ingest import read_document

pytestmark = pytest.mark.e2e
KEY = "test-key-5f2c"
CO_CHAIRS = "Who co-chaired the strategic dialogue?"
UNANSWERABLE = "What is the total dollar value of the CPEC 2.0 investment package?"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`assistant serve` on a copy of the bundled corpus, with an API key; yields its URL."""
    work = tmp_path_factory.mktemp("serve")
    shutil.copytree(CORPUS, work / "corpus")
    port = free_port()
    log = (work / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "serve", "--corpus", str(work / "corpus"),
         "--index-dir", str(work / "index"), "--port", str(port)],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "ASSISTANT_API_KEY": KEY, "GRADIO_ANALYTICS_ENABLED": "False"},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 600
    while True:
        if proc.poll() is not None or time.time() > deadline:
            pytest.fail("serve did not start:\n" + (work / "serve.log").read_text()[-3000:])
        try:
            if httpx.get(f"{url}/api/health", headers=auth(), timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(1)
    yield url
    proc.terminate()
    proc.wait(timeout=60)


def auth(key: str = KEY) -> dict:
    return {"Authorization": f"Bearer {key}"}


def openai_client(url: str, key: str = KEY):
    import openai

    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, timeout=600, max_retries=0)


def assert_cited_in_bundled_corpus(citations: list[dict]) -> None:
    assert citations
    for c in citations:
        assert c["source"] in (ARTICLE_A, ARTICLE_B)
        text = read_document(CORPUS / c["source"], CORPUS).text
        assert text[c["start"] : c["end"]] == c["quote"]


def test_the_openai_client_gets_cited_answers_plain_and_streamed(server):
    client = openai_client(server)
    assert [m.id for m in client.models.list()] == ["assistant"]

    reply = client.chat.completions.create(
        model="assistant", messages=[{"role": "user", "content": CO_CHAIRS}]
    )
    content = reply.choices[0].message.content
    assert "Wang Yi" in content and "Ishaq Dar" in content and "[1]" in content
    assert reply.model_extra["refused"] is False
    assert_cited_in_bundled_corpus(reply.model_extra["citations"])

    stream = client.chat.completions.create(
        model="assistant", messages=[{"role": "user", "content": CO_CHAIRS}], stream=True
    )
    chunks = list(stream)
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "Wang Yi" in streamed and "Ishaq Dar" in streamed
    final = chunks[-1]
    assert final.choices[0].finish_reason == "stop" and final.model_extra["refused"] is False
    assert_cited_in_bundled_corpus(final.model_extra["citations"])

    refused = client.chat.completions.create(
        model="assistant", messages=[{"role": "user", "content": UNANSWERABLE}]
    )
    assert refused.model_extra["refused"] is True and refused.model_extra["citations"] == []

    # A follow-up is read with the conversation before it.
    follow_up = client.chat.completions.create(
        model="assistant",
        messages=[
            {"role": "user", "content": CO_CHAIRS},
            {"role": "assistant", "content": content},
            {"role": "user", "content": "Where will their next round be held?"},
        ],
    )
    assert "Islamabad" in follow_up.choices[0].message.content


def test_llamaindex_openailike_answers_through_v1(server):
    from llama_index.core.llms import ChatMessage
    from llama_index.llms.openai_like import OpenAILike

    llm = OpenAILike(
        model="assistant", api_base=f"{server}/v1", api_key=KEY, is_chat_model=True,
        context_window=4096, timeout=600, max_retries=0,
    )  # fmt: skip
    response = llm.chat([ChatMessage(role="user", content=CO_CHAIRS)])
    assert "Wang Yi" in response.message.content and "Ishaq Dar" in response.message.content


def test_keys_are_required_and_an_open_address_needs_one(server):
    import openai

    assert httpx.get(f"{server}/v1/models").status_code == 401
    with pytest.raises(openai.AuthenticationError, match="ASSISTANT_API_KEY"):
        openai_client(server, key="wrong").models.list()
    assert httpx.get(f"{server}/v1/models", headers=auth()).status_code == 200
    assert httpx.get(f"{server}/api/documents", headers=auth("wrong")).status_code == 401

    env = {k: v for k, v in os.environ.items() if k != "ASSISTANT_API_KEY"}
    out = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "serve", "--host", "0.0.0.0",
         "--port", str(free_port())],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=120,
    )  # fmt: skip
    assert out.returncode == 1
    assert out.stderr.strip().startswith("error: refusing to listen on 0.0.0.0 without an API")


def test_the_mcp_tools_over_http(server):
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async def session():
        http = httpx2.AsyncClient(headers=auth(), timeout=600)
        async with Client(streamable_http_client(f"{server}/mcp", http_client=http)) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            asked = await client.call_tool("ask", {"question": CO_CHAIRS})
            found = await client.call_tool("search", {"query": "Gwadar port", "k": 3})
            return tools, asked, found

    tools, asked, found = asyncio.run(session())
    assert tools == {"ask", "search", "list_documents"}
    assert "Wang Yi" in asked.content[0].text and "Sources:" in asked.content[0].text
    assert_cited_in_bundled_corpus(asked.structured_content["citations"])
    hits = found.structured_content["results"]
    assert len(hits) == 3 and any("Gwadar" in h["text"] for h in hits)


def test_the_mcp_tools_over_stdio(tmp_path):
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "assistant.cli", "mcp", "--corpus", str(CORPUS),
              "--index-dir", str(tmp_path / "index")],
        env={**os.environ}, cwd=str(REPO),
    )  # fmt: skip

    async def session():
        async with Client(params, read_timeout_seconds=600) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            listed = await client.call_tool("list_documents", {})
            found = await client.call_tool("search", {"query": "Khunjerab Pass", "k": 2})
            asked = await client.call_tool("ask", {"question": CO_CHAIRS})
            return tools, listed, found, asked

    tools, listed, found, asked = asyncio.run(session())
    assert tools == {"ask", "search", "list_documents"}
    assert [d["id"] for d in listed.structured_content["documents"]] == [ARTICLE_A, ARTICLE_B]
    assert any("Khunjerab" in h["text"] for h in found.structured_content["results"])
    assert "Wang Yi" in asked.content[0].text
    assert_cited_in_bundled_corpus(asked.structured_content["citations"])


def test_eight_concurrent_clients_all_get_cited_answers(server):
    def ask(i: int):
        question, expected = QUESTIONS[i % len(QUESTIONS)]
        began = time.perf_counter()
        reply = openai_client(server).chat.completions.create(
            model="assistant", messages=[{"role": "user", "content": question}]
        )
        return question, expected, reply, time.perf_counter() - began

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(ask, range(8)))
    latencies = sorted(seconds for *_, seconds in results)
    for question, expected, reply, _ in results:
        content = reply.choices[0].message.content
        assert all(e in content for e in expected), (question, content)
        assert_cited_in_bundled_corpus(reply.model_extra["citations"])
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    print(f"8 concurrent clients: p50 {statistics.median(latencies):.2f} s, p95 {p95:.2f} s")


def test_a_client_that_leaves_mid_answer_frees_its_slot(server):
    body = {
        "model": "assistant", "stream": True,
        "messages": [{"role": "user", "content": "Describe in detail everything the two "
                      "sides agreed on economic cooperation, trade and CPEC 2.0."}],
    }  # fmt: skip
    with httpx.Client(timeout=600) as http:
        with http.stream("POST", f"{server}/v1/chat/completions", json=body, headers=auth()) as r:
            assert r.status_code == 200
            lines = r.iter_lines()
            while next(lines) != ": writing":  # the model is writing: leave now
                pass
            busy = httpx.get(f"{server}/api/health", headers=auth()).json()["slots"]["busy"]
            assert busy == 1
    left = time.perf_counter()
    while httpx.get(f"{server}/api/health", headers=auth()).json()["slots"]["busy"]:
        assert time.perf_counter() - left < 5, "the slot stayed busy after the client left"
        time.sleep(0.1)
    reply = openai_client(server).chat.completions.create(
        model="assistant", messages=[{"role": "user", "content": QUESTIONS[1][0]}]
    )
    assert "Islamabad" in reply.choices[0].message.content


def test_uploads_through_the_api_are_answered(server, tmp_path):
    note = tmp_path / "lake_ferry.txt"
    note.write_text(
        "Lake Tarnu ferry to start in March\n\nThe Lake Tarnu ferry service will start on "
        "3 March 2027. It will be operated by Blue Heron Lines.\n"
    )
    with note.open("rb") as f:
        added = httpx.post(f"{server}/api/documents", files={"files": f}, headers=auth(),
                           timeout=600).json()  # fmt: skip
    assert added["added"] == ["lake_ferry.txt"]
    answer = httpx.post(
        f"{server}/api/ask", json={"question": "Who will operate the Lake Tarnu ferry?"},
        headers=auth(), timeout=600,
    ).json()  # fmt: skip
    assert "Blue Heron Lines" in answer["answer"]
    assert answer["citations"][0]["source"] == "lake_ferry.txt"
    removed = httpx.delete(f"{server}/api/documents/lake_ferry.txt", headers=auth(), timeout=600)
    assert removed.status_code == 200
    assert Path(removed.json()["moved_to"]).name.endswith("lake_ferry.txt")
