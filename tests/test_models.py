"""Model assembly and verification on small made-up parts (the real one is checked end to end)."""

import hashlib

import pytest
from conftest import REPO

from assistant import models
from assistant.config import Settings
from assistant.errors import ModelError


@pytest.fixture
def parts(tmp_path):
    paths = []
    for n in range(1, 4):
        p = tmp_path / f"part{n:02d}.bin"
        p.write_bytes((b"GGUF" if n == 1 else b"") + bytes([n]) * 1000)
        paths.append(p)
    return paths


def digest(paths):
    return hashlib.sha256(b"".join(p.read_bytes() for p in paths)).hexdigest()


def test_parts_are_concatenated_in_order_and_verified(tmp_path, parts):
    target = tmp_path / "cache" / "m.gguf"
    models.assemble(parts, target, digest(parts))
    assert target.read_bytes() == b"".join(p.read_bytes() for p in parts)
    assert not list(target.parent.glob("*.part"))  # the temp file was renamed away


def test_a_wrong_checksum_leaves_no_model_behind(tmp_path, parts):
    target = tmp_path / "cache" / "m.gguf"
    with pytest.raises(ModelError, match="sha256"):
        models.assemble(list(reversed(parts)), target, digest(parts))
    assert not target.exists() and not list(target.parent.glob("*"))


def test_a_corrupted_cached_model_is_rebuilt_from_the_parts(tmp_path, parts, monkeypatch):
    monkeypatch.setattr(models, "part_paths", lambda count=22: parts)
    monkeypatch.setattr(models, "MODEL_SHA256", digest(parts))
    settings = Settings(model_cache_dir=tmp_path / "cache")
    path = models.ensure_model(settings)
    assert models.ensure_model(settings) == path  # reused: the stamp matches
    path.write_bytes(b"GGUF garbage")  # corrupt it (size and mtime change)
    assert models.ensure_model(settings).read_bytes() == b"".join(p.read_bytes() for p in parts)


def test_the_bundled_parts_are_installed_in_order():
    paths = models.part_paths()
    assert [p.name for p in paths] == [f"part{n:02d}.bin" for n in range(1, 23)]
    assert paths[0].read_bytes()[:4] == b"GGUF"


def test_a_user_model_path_must_be_a_gguf_file(tmp_path):
    with pytest.raises(ModelError, match="not found.*ASSISTANT_MODEL_PATH"):
        models.ensure_model(Settings(model_path=tmp_path / "missing.gguf"))
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="not a GGUF"):
        models.ensure_model(Settings(model_path=bad))
    good = tmp_path / "good.gguf"
    good.write_bytes(b"GGUF....")
    assert models.ensure_model(Settings(model_path=good)) == good


def test_settings_are_read_from_the_environment_when_created(monkeypatch):
    monkeypatch.setenv("ASSISTANT_TOP_K", "7")
    monkeypatch.setenv("ASSISTANT_N_THREADS", "3")
    settings = Settings()
    assert settings.top_k == 7 and settings.n_threads == 3
    for name, field in Settings.model_fields.items():
        assert field.description, f"{name} needs a description"


def test_prompts_ship_in_the_wheel(tmp_path):
    import subprocess
    import sys
    import zipfile

    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), "."],
        check=True,
        capture_output=True,
        cwd=REPO,
        timeout=300,
    )
    [wheel] = tmp_path.glob("assistant-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    prompts = sorted((REPO / "prompts").glob("*.txt"))
    assert len(prompts) >= 5
    for prompt in prompts:
        assert f"assistant/_data/prompts/{prompt.name}" in names
    assert "assistant/_data/corpus/000_5302f8b4374acc24.txt" in names


class FakeSlots:
    """llama.cpp's slot save/restore: "save" writes the state to a file, "restore" reads it."""

    def __init__(self, directory, state=b"kv state " * 1000, fail=False):
        self.directory, self.state, self.fail, self.restored = directory, state, fail, []

    def __call__(self, action, filename):
        if self.fail:
            raise OSError("HTTP Error 500")
        if action == "save":
            (self.directory / filename).write_bytes(self.state)
        else:
            self.restored.append((self.directory / filename).read_bytes())
        return {}


def test_a_saved_prompt_state_is_restored_by_its_key(tmp_path):
    from assistant.llm import PromptCache

    slots = FakeSlots(tmp_path)
    cache = PromptCache(tmp_path, slots)
    assert not cache.restore("prefix-abc")  # nothing saved yet
    assert cache.save("prefix-abc")
    assert [p.name.startswith("prefix-abc-") for p in tmp_path.iterdir()] == [True]
    assert cache.restore("prefix-abc") and slots.restored == [slots.state]
    assert not cache.restore("prefix-other")


def test_a_damaged_prompt_state_is_deleted_not_restored(tmp_path):
    from assistant.llm import PromptCache

    slots = FakeSlots(tmp_path)
    cache = PromptCache(tmp_path, slots)
    cache.save("prefix-abc")
    (saved,) = tmp_path.iterdir()
    saved.write_bytes(saved.read_bytes()[:-10])  # cut short, as by a full disk
    assert not cache.restore("prefix-abc")
    assert slots.restored == [] and list(tmp_path.iterdir()) == []


def test_a_failed_save_leaves_no_file_and_old_states_are_pruned(tmp_path):
    from assistant.llm import PromptCache

    assert not PromptCache(tmp_path, FakeSlots(tmp_path, fail=True)).save("prefix-abc")
    assert list(tmp_path.iterdir()) == []
    saved = PromptCache.keep + 2
    for n in range(saved):
        slots = FakeSlots(tmp_path, state=f"state {n}".encode())
        assert PromptCache(tmp_path, slots).save(f"prefix-{n}")
    kept = sorted(int(p.name.split("-")[1]) for p in tmp_path.glob("prefix-*.bin"))
    assert kept == list(range(2, saved))  # the newest PromptCache.keep
