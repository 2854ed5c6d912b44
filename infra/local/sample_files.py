"""Files the tests and benchmarks make themselves (nothing is downloaded): speech (espeak-ng,
ffmpeg), images of printed text (Pillow), PDF, DOCX and XLSX documents."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any


def speak(folder: Path, text: str, voice: str = "en-us", name: str | None = None) -> Path:
    """`text` spoken by espeak-ng at 140 words a minute, as a WAV in `folder`."""
    wav = folder / f"{name or voice}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "140", "-w", str(wav), text], check=True)
    return wav


def ffmpeg(source: Path, target: Path, *args: str) -> bytes:
    """`source` converted by ffmpeg to `target` (format from its suffix and `args`); its bytes."""
    command = ["ffmpeg", "-loglevel", "error", "-y", "-i", str(source), *args, str(target)]
    subprocess.run(command, check=True)
    return target.read_bytes()


def ogg_opus(wav: Path) -> bytes:
    """A WAV as WhatsApp sends a voice note: OGG/Opus at 48 kHz."""
    return ffmpeg(wav, wav.with_suffix(".ogg"), "-c:a", "libopus", "-ar", "48000")


def text_image(lines: list[str], fmt: str = "PNG", size: int = 44) -> bytes:
    """Printed text, black on white, one line per item, in DejaVu Sans when installed."""
    from PIL import Image, ImageDraw, ImageFont

    font: Any
    found = _font_file("DejaVu Sans")
    font = ImageFont.truetype(found, size) if found else ImageFont.load_default(size=size)
    image = Image.new("RGB", (1400, 120 + 80 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((60, 60 + 80 * number), line, fill="black", font=font)
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def _font_file(family: str) -> str | None:
    try:
        found = subprocess.run(
            ["fc-match", "-f", "%{file}", family], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        return None
    return found if found.endswith((".ttf", ".otf")) else None


def docx_bytes(heading: str, paragraphs: list[str]) -> bytes:
    """A Word document: one heading, then the paragraphs."""
    from docx import Document

    document = Document()
    document.add_heading(heading, 1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx_bytes(title: str, rows: list[list[str]]) -> bytes:
    """An Excel workbook with one sheet named `title` holding `rows` (the first is the header)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def pdf_bytes(pages: list[list[str]], title: str | None = None) -> bytes:
    """A minimal valid PDF, one page per item, each line shown in Helvetica (WinAnsi); `title`
    goes in the document information."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    count = len(pages)
    font = 3 + 2 * count
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(count))
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>",
    ]
    for i, lines in enumerate(pages):
        shown = " ".join(f"({escape(line)}) Tj T*" for line in lines)
        content = f"BT /F1 12 Tf 14 TL 72 720 Td {shown} ET"
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R"
            f" /Resources << /Font << /F1 {font} 0 R >> >> >>"
        )
        objects.append(f"<< /Length {len(content)} >>\nstream\n{content}\nendstream")
    objects.append(
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    objects.append(f"<< /Title ({escape(title)}) >>" if title else "<< >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1"))
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    info = len(objects)
    trailer = f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {info} 0 R >>\n"
    out.write(f"{trailer}startxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()
