"""Real PDF and DOCX files for tests, made by real tools: Debian's Chromium prints HTML to PDF,
python-docx writes Word files. No hand-written PDF bytes."""

from __future__ import annotations

import base64
import html
import subprocess
import tempfile
import zlib
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"


def print_pdf(page_html: str, out: Path, header_footer: bool = True) -> Path:
    """``page_html`` printed to ``out`` by headless Chromium (A4/Letter, its own margins)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / "page.html"
        source.write_text(page_html, encoding="utf-8")
        args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", f"--user-data-dir={work}/profile",
                f"--print-to-pdf={out}", source.as_uri()]  # fmt: skip
        if not header_footer:
            args.insert(1, "--no-pdf-header-footer")
        subprocess.run(args, capture_output=True, timeout=120, check=True)
    assert out.exists() and out.stat().st_size > 0, "Chromium printed no PDF"
    return out


def article_html(text: str, title: str, font_px: int = 22) -> str:
    """A plain article page: each line of ``text`` a paragraph."""
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n") if p.strip())
    return (
        f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body style='font-size:{font_px}px'>{paragraphs}</body></html>"
    )


def article_pdf(text_file: Path, out: Path) -> Path:
    """A .txt article printed to PDF, as a person saves a page from their browser."""
    text = text_file.read_text(encoding="utf-8")
    return print_pdf(article_html(text, text_file.stem), out)


def article_docx(text_file: Path, out: Path) -> Path:
    """A .txt article as a Word file: its first line the title, then its paragraphs, with a
    table of the visit's dates."""
    import docx

    lines = [line for line in text_file.read_text(encoding="utf-8").split("\n") if line.strip()]
    document = docx.Document()
    document.add_heading(lines[0][:80], 0)
    for line in lines[1:]:
        short = len(line.split()) <= 8 and not line.rstrip().endswith(".")
        document.add_heading(line, 1) if short else document.add_paragraph(line)
    document.save(out)
    return out


def image_only_pdf(out: Path) -> Path:
    """A PDF of a picture and no text: what a scanner makes."""
    width, height = 200, 120
    rows = b"".join(b"\x00" + bytes((x * y) % 256 for x in range(width)) for y in range(height))
    png = _png(width, height, rows)
    image = base64.b64encode(png).decode()
    page = f"<html><body><img src='data:image/png;base64,{image}' width=600></body></html>"
    return print_pdf(page, out, header_footer=False)


def _png(width: int, height: int, rows: bytes) -> bytes:
    import struct

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def encrypted_pdf(source: Path, out: Path, password: str = "secret") -> Path:
    """``source`` encrypted with a user password by pypdf (RC4, needs no extra package)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password=password, owner_password=password, algorithm="RC4-128")
    with out.open("wb") as f:
        writer.write(f)
    return out
