"""Offline image reading: Tesseract OCR (English + Spanish) through its command-line binary, and the
image's basic properties. No labels or moderation offline: nothing here can tell what a photo
shows, so those stay empty rather than guessed."""

from __future__ import annotations

import shutil
import subprocess

from chalicelib.engines.images import size_and_png
from parley.media_understanding import (
    EngineUnavailable,
    ImageReading,
    MediaEngineError,
    UnreadableMedia,
)

_TESSERACT_INPUT = frozenset({"image/png", "image/jpeg"})


class TesseractImageReader:
    """`ImageReader` with the `tesseract` binary (Debian: tesseract-ocr, tesseract-ocr-spa)."""

    def __init__(
        self, *, binary: str = "tesseract", languages: str = "eng+spa", timeout: float = 30.0
    ) -> None:
        self.binary = binary
        self.languages = languages
        self.timeout = timeout

    def read(self, image_bytes: bytes, mime: str) -> ImageReading:
        width, height, data, _ = size_and_png(image_bytes, mime, _TESSERACT_INPUT)
        return ImageReading(text=self._ocr(data), width=width, height=height)

    def _ocr(self, data: bytes) -> str:
        binary = shutil.which(self.binary)
        if binary is None:
            raise EngineUnavailable(f"{self.binary} is not installed: cannot read images")
        command = [binary, "stdin", "stdout", "-l", self.languages, "--psm", "3"]
        try:
            result = subprocess.run(
                command, input=data, capture_output=True, timeout=self.timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise MediaEngineError("tesseract took too long") from exc
        if result.returncode != 0:
            reason = result.stderr.decode("utf-8", "replace").strip()[-300:]
            raise UnreadableMedia(f"tesseract could not read the image: {reason}")
        lines = (
            " ".join(line.split()) for line in result.stdout.decode("utf-8", "replace").split("\n")
        )
        return "\n".join(line for line in lines if line)
