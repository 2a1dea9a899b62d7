"""The corpus folder: what files it holds, uploads into it, and its trash."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from .errors import CorpusError, DocumentNotFound
from .ingest import SUPPORTED_SUFFIXES


class CorpusFolder:
    """One folder of documents. Nothing is ever written outside it or deleted from it: a
    removed document moves to ``.trash/`` inside it."""

    def __init__(self, root: Path, max_upload_bytes: int):
        self.root = root
        self.max_upload_bytes = max_upload_bytes

    def add(self, files: Sequence[str | Path], max_bytes: int | None = None) -> list[str]:
        """Copy files in (names sanitised, types and sizes checked); returns their ids.

        Every file is checked before any is copied, so a bad file adds none of them.
        """
        limit = max_bytes or self.max_upload_bytes
        sources = [Path(f) for f in files]
        for source in sources:
            if Path(safe_file_name(source.name)).suffix.lower() not in SUPPORTED_SUFFIXES:
                raise CorpusError(
                    f"{source.name}: unsupported type; use one of {', '.join(SUPPORTED_SUFFIXES)}"
                )
            size = source.stat().st_size
            if size > limit:
                raise CorpusError(f"{source.name}: {size:,} bytes is over the {limit:,} limit")
        added = []
        for source in sources:
            target = self.root / safe_file_name(source.name)
            if target.exists() and target.read_bytes() != source.read_bytes():
                target = self.root / f"{target.stem}-{int(time.time())}{target.suffix}"
            shutil.copyfile(source, target)
            added.append(target.relative_to(self.root).as_posix())
        return added

    def path_of(self, doc_id: str) -> Path:
        """The file of a document; refuses any path that is not a document of this folder
        (outside it, hidden, in the trash, or of an unsupported type)."""
        root = self.root.resolve()
        path = (root / doc_id).resolve()
        inside = root in path.parents
        hidden = inside and any(part.startswith(".") for part in path.relative_to(root).parts)
        supported = path.suffix.lower() in SUPPORTED_SUFFIXES
        if not inside or hidden or not supported or not path.is_file():
            raise DocumentNotFound(f"no document {doc_id!r} in the corpus folder {self.root}")
        return path

    def trash(self, doc_id: str) -> Path:
        """Move a document's file to ``.trash/``; returns its new path."""
        source = self.path_of(doc_id)
        target = self.root / ".trash" / f"{int(time.time())}-{source.name}"
        target.parent.mkdir(exist_ok=True)
        source.rename(target)
        return target


def safe_file_name(name: str) -> str:
    """A plain file name: no folders, no leading dots, only letters, digits, ``._-``."""
    name = Path(name.replace("\\", "/")).name
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).lstrip("._") or "document.txt"
    return name[:120]


def paragraph_around(text: str, start: int, end: int) -> tuple[str, str, str]:
    """The paragraph (line) holding ``text[start:end]``, as ``(before, quote, after)``."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    return text[line_start:start], text[start:end], text[end:line_end]
