"""Faults and scale-out: a Chroma server, a remote LLM that is down or slow, SIGKILL mid-index."""

import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import ARTICLE_A, REPO, HashEmbedding, free_port

from assistant.config import Settings
from assistant.errors import LLMUnavailableError


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """A real `chroma run` on 127.0.0.1, on a free port and a temp path, stopped at the end."""
    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        pytest.skip("the chroma CLI is not installed")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma run did not start")
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def test_indexing_and_answering_through_a_chroma_server(chroma_server, make_assistant, corpus):
    settings = Settings(chroma_url=chroma_server, collection="server-test")
    reply = lambda m: "The talks were co-chaired on January 4 [1]."  # noqa: E731
    bot = make_assistant(reply, settings=settings)
    assert sorted(bot.last_sync.added) == [ARTICLE_A, "001_d4563561c63a4494.txt"]
    ids = bot.store.collection.get(include=[])["ids"]
    assert len(ids) == len(set(ids)) == bot.last_sync.chunks
    again = make_assistant(
        reply, settings=Settings(chroma_url=chroma_server, collection="server-test")
    )
    assert again.last_sync.chunks_added == 0  # incremental against the server too
    answer = again.ask("When were the talks co-chaired?")
    assert answer.citations[0].source == ARTICLE_A
    (corpus / ARTICLE_A).unlink()
    assert again.index().removed == [ARTICLE_A]
    assert all(not i.startswith(ARTICLE_A) for i in again.store.collection.get(include=[])["ids"])


def test_an_unreachable_chroma_server_is_one_clear_error(make_assistant):
    from assistant.errors import IndexDamagedError

    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(IndexDamagedError, match="cannot open the index at http"):
        make_assistant(settings=Settings(chroma_url=url))


# --- remote LLM ----------------------------------------------------------------------------------


class _SlowHandler(http.server.BaseHTTPRequestHandler):
    delay = 3.0

    def do_POST(self):  # noqa: N802
        time.sleep(self.delay)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


class _StallingStreamHandler(http.server.BaseHTTPRequestHandler):
    """Streams two chunks, then goes quiet for longer than the client waits."""

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for word in ("The ", "talks "):
            chunk = {"choices": [{"delta": {"content": word}}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        time.sleep(3.0)

    def log_message(self, *args):
        pass


class _FakeOpenAIHandler(http.server.BaseHTTPRequestHandler):
    """Speaks just enough of /v1/chat/completions, streaming and not, to test the client."""

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        text = "The talks were co-chaired on January 4 [1]."
        if self.headers.get("Authorization") != "Bearer secret":
            self.send_response(401)
            self.end_headers()
            self.wfile.write(b'{"error": "bad key"}')
            return
        self.send_response(200)
        if not body.get("stream"):
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps({"choices": [{"message": {"content": text}}]}).encode())
            return
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for word in text.split(" "):
            chunk = {"choices": [{"delta": {"content": word + " "}}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    servers = []

    def start(handler):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/v1"

    yield start
    for server in servers:
        server.shutdown()


def remote_assistant(make_assistant, url, **settings):
    from assistant import Assistant

    base = make_assistant()
    return Assistant(
        corpus=base.corpus_dir,
        index_dir=base.settings.index_dir,
        embed_model=HashEmbedding(),
        settings=Settings(llm_url=url, **settings),
    )


def test_a_remote_llm_streams_and_answers(make_assistant, http_server):
    url = http_server(_FakeOpenAIHandler)
    bot = remote_assistant(make_assistant, url, llm_api_key="secret")
    generation = bot.stream("When were the talks co-chaired?")
    assert len(list(generation)) > 3
    assert generation.answer.citations[0].source == ARTICLE_A
    assert not bot.ask("When were the talks co-chaired?").refused


def test_a_remote_llm_error_status_is_reported(make_assistant, http_server):
    bot = remote_assistant(make_assistant, http_server(_FakeOpenAIHandler), llm_api_key="wrong")
    with pytest.raises(LLMUnavailableError, match="answered 401"):
        bot.ask("When were the talks co-chaired?")


def test_a_remote_llm_that_is_down_fails_fast_with_a_clear_error(make_assistant):
    bot = remote_assistant(make_assistant, f"http://127.0.0.1:{free_port()}/v1")
    with pytest.raises(LLMUnavailableError, match="cannot reach the LLM server"):
        bot.ask("When were the talks co-chaired?")


def test_a_remote_stream_that_stalls_midway_is_one_clear_error(make_assistant, http_server):
    bot = remote_assistant(make_assistant, http_server(_StallingStreamHandler), llm_timeout=0.5)
    generation = bot.stream("When were the talks co-chaired?")
    pieces = []
    began = time.monotonic()
    with pytest.raises(LLMUnavailableError, match="stopped answering"):
        for piece in generation:
            pieces.append(piece)
    # "The " could begin the refusal, which is held back; it goes out with "talks ".
    assert "".join(pieces) == "The talks " and generation.answer is None
    assert time.monotonic() - began < 3.0


def test_a_slow_remote_llm_times_out_instead_of_hanging(make_assistant, http_server):
    bot = remote_assistant(make_assistant, http_server(_SlowHandler), llm_timeout=0.5)
    began = time.monotonic()
    with pytest.raises(LLMUnavailableError, match="did not answer within 0.5 s"):
        bot.ask("When were the talks co-chaired?")
    assert time.monotonic() - began < 3.0


# --- crash safety --------------------------------------------------------------------------------

INDEXER = """
import sys
sys.path.insert(0, sys.argv[3])
from pathlib import Path
from conftest import HashEmbedding
from assistant.indexer import Indexer
from assistant.store import Store

def progress(done, total, name):
    print(done, flush=True)

store = Store(Path(sys.argv[2]), chunk_words=40)
Indexer.BATCH_CHUNKS = 16  # many commits, so kills land before, inside and between them
Indexer(store, HashEmbedding()).sync(Path(sys.argv[1]), progress=progress)
print("DONE", flush=True)
"""


def index_in_subprocess(corpus: Path, index: Path, kill_after: int | None = None) -> bool:
    """Run an indexer; SIGKILL it once it reports ``kill_after`` documents. True if it finished."""
    proc = subprocess.Popen(
        [sys.executable, "-c", INDEXER, str(corpus), str(index), str(REPO / "tests")],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    for line in proc.stdout:
        if kill_after is not None and line.strip().isdigit() and int(line) >= kill_after:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return False
        if line.startswith("DONE"):
            break
    return proc.wait() == 0


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory):
    sys.path.insert(0, str(REPO / "bench"))
    from corpus_gen import generate

    return generate(tmp_path_factory.mktemp("gen"), documents=160, questions=5) / "docs"


def chunk_ids(index: Path) -> list[str]:
    from assistant.store import Store

    return Store(index, chunk_words=40).collection.get(include=[])["ids"]


def test_sigkill_during_indexing_leaves_an_index_the_next_run_completes(tmp_path, big_corpus):
    assert index_in_subprocess(big_corpus, tmp_path / "clean")
    clean = sorted(chunk_ids(tmp_path / "clean"))
    for kill_after in (3, 51, 120, 159):
        index = tmp_path / f"killed-{kill_after}"
        assert not index_in_subprocess(big_corpus, index, kill_after=kill_after)
        assert index_in_subprocess(big_corpus, index)
        ids = chunk_ids(index)
        assert len(ids) == len(set(ids)), f"duplicates after a kill at {kill_after}"
        assert sorted(ids) == clean, f"orphans or gaps after a kill at {kill_after}"


def test_ctrl_c_during_indexing_stops_at_a_document_and_the_next_run_completes(
    make_assistant, big_corpus, monkeypatch
):
    from assistant.indexer import Indexer

    monkeypatch.setattr(Indexer, "BATCH_CHUNKS", 8)  # written every few documents
    bot = make_assistant(corpus_dir=big_corpus, update_index=False)

    def ctrl_c_at_document_40(done, total, name):
        if done == 40:
            os.kill(os.getpid(), signal.SIGINT)  # as Ctrl-C does; the main thread handles it
            time.sleep(0.5)

    with pytest.raises(KeyboardInterrupt):
        bot.index(progress=ctrl_c_at_document_40)
    kept = len(bot.documents())
    assert 0 < kept <= 41, "stopped at the next document, the batches written kept"
    assert not [t for t in threading.enumerate() if t.name.startswith("assistant-index")]
    report = bot.index()
    assert len(report.unchanged) == kept and len(bot.documents()) == 160


# --- bad input -----------------------------------------------------------------------------------


def test_bad_files_are_skipped_with_reasons_and_the_rest_indexed(make_assistant, corpus):
    (corpus / "binary.txt").write_bytes(bytes(range(256)) * 10)
    (corpus / "empty.txt").write_text("")
    (corpus / "latin1.txt").write_bytes("Caf\xe9 society in Islamabad.".encode("latin-1"))
    (corpus / "huge.txt").write_text("word " * 50_000)
    bot = make_assistant(settings=Settings(max_file_bytes=100_000))
    reasons = dict(bot.last_sync.skipped)
    assert set(reasons) == {"binary.txt", "empty.txt", "latin1.txt", "huge.txt"}
    assert "binary" in reasons["binary.txt"] and "UTF-8" in reasons["latin1.txt"]
    assert "no text" in reasons["empty.txt"] and "larger than" in reasons["huge.txt"]
    assert bot.last_sync.documents == 2


def test_a_corrupt_model_file_is_one_clear_error(tmp_path):
    model = tmp_path / "broken.gguf"
    model.write_bytes(b"GGUF" + os.urandom(4096))
    out = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ask", "Who co-chaired the dialogue?",
         "--index-dir", str(tmp_path / "ix")],
        capture_output=True, text=True, cwd=REPO, timeout=300,
        env={**os.environ, "ASSISTANT_MODEL_PATH": str(model)},
    )  # fmt: skip
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("error: cannot load the model") and "ASSISTANT_MODEL_PATH" in last


def test_a_missing_model_file_is_one_clear_error(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ask", "Who co-chaired the dialogue?",
         "--index-dir", str(tmp_path / "ix")],
        capture_output=True, text=True, cwd=REPO, timeout=300,
        env={**os.environ, "ASSISTANT_MODEL_PATH": str(tmp_path / "nope.gguf")},
    )  # fmt: skip
    assert out.returncode == 1
    assert out.stderr.strip().splitlines()[-1] == (
        f"error: model file not found: {tmp_path / 'nope.gguf'}; "
        "fix ASSISTANT_MODEL_PATH or unset it"
    )


def test_a_damaged_index_is_one_clear_error_and_rebuild_recovers(tmp_path, corpus):
    index = tmp_path / "ix"
    args = [sys.executable, "-m", "assistant.cli", "index", "--corpus", str(corpus),
            "--index-dir", str(index)]  # fmt: skip
    assert subprocess.run(args, capture_output=True, cwd=REPO, timeout=300).returncode == 0
    for name in ("catalog.sqlite3-wal", "catalog.sqlite3-shm"):
        (index / name).unlink(missing_ok=True)
    (index / "catalog.sqlite3").write_text("garbage" * 1000)
    out = subprocess.run(args, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert out.returncode == 1 and "run `assistant index --rebuild`" in out.stderr
    out = subprocess.run(
        [*args, "--rebuild"], capture_output=True, text=True, cwd=REPO, timeout=300
    )
    assert out.returncode == 0 and out.stdout.startswith("2 documents")
    shutil.rmtree(index)


@pytest.fixture(scope="module")
def llm_server():
    """`assistant llm-server`: llama.cpp's OpenAI-compatible server with the default model."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "llm-server", "--port", str(port)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    line = proc.stdout.readline()  # printed once the model is loaded and the port is open
    if "Serving" not in line:
        proc.kill()
        pytest.fail(f"the LLM server did not start: {line}{proc.stdout.read()[-2000:]}")
    yield f"http://127.0.0.1:{port}/v1"
    proc.terminate()
    proc.wait(timeout=60)


@pytest.mark.e2e
def test_the_co_chair_question_through_a_chroma_server_and_a_llama_cpp_server(
    chroma_server, llm_server, tmp_path, corpus
):
    from assistant import Assistant

    settings = Settings(chroma_url=chroma_server, collection="e2e", llm_url=llm_server)
    bot = Assistant(corpus=corpus, index_dir=tmp_path / "ix", settings=settings)
    assert bot.store.collection.count() == bot.last_sync.chunks > 0
    generation = bot.stream("Who co-chaired the strategic dialogue?")
    assert len(list(generation)) > 3  # streamed over HTTP
    answer = generation.answer
    assert "Wang Yi" in answer.text and "Dar" in answer.text, answer.raw_text
    assert answer.citations and answer.citations[0].source == ARTICLE_A
