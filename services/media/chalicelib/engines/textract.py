"""Document reading with Amazon Textract: DetectDocumentText (synchronous) for images and
single-page PDFs, StartDocumentTextDetection + GetDocumentTextDetection (asynchronous, on an S3
object) for multi-page PDFs, which the synchronous API refuses. DOCX, XLSX, text and CSV are not
Textract's: they go to the fallback reader (the shared extractors)."""

from __future__ import annotations

import contextlib
import io
import time
import uuid
from collections.abc import Callable
from typing import Any

from chalicelib.engines.aws_errors import engine_errors
from chalicelib.engines.documents import LocalDocumentReader
from parley.media_types import base_mime
from parley.media_understanding import (
    DocumentReader,
    DocumentText,
    MediaEngineError,
    MediaEngineRejected,
    UnreadableMedia,
)

TEXTRACT_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png", "image/tiff"})
MAX_SYNC_BYTES = 10 * 1024 * 1024


class TextractDocumentReader:
    """`DocumentReader` with Amazon Textract for PDFs and images, `fallback` for other types."""

    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "textract/",
        textract_client: Any = None,
        s3_client: Any = None,
        fallback: DocumentReader | None = None,
        timeout_seconds: float = 60.0,
        poll_seconds: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self._textract = textract_client
        self._s3 = s3_client
        self.fallback = fallback or LocalDocumentReader()
        self.timeout_seconds = timeout_seconds
        self.poll_seconds = poll_seconds
        self._sleep = sleep
        self._clock = clock

    @property
    def textract(self) -> Any:
        if self._textract is None:
            from parley import aws

            self._textract = aws.client("textract", read_timeout=30.0)
        return self._textract

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            from parley import aws

            self._s3 = aws.client("s3")
        return self._s3

    def read(self, data: bytes, mime: str, filename: str) -> DocumentText:
        kind = base_mime(mime)
        if kind not in TEXTRACT_TYPES:
            return self.fallback.read(data, mime, filename)
        pages = pdf_pages(data) if kind == "application/pdf" else 1
        with engine_errors("Textract"):
            if pages == 1 and len(data) <= MAX_SYNC_BYTES:
                answer = self.textract.detect_document_text(Document={"Bytes": data})
                return DocumentText(text=lines_text(answer.get("Blocks", [])), pages=1)
            return DocumentText(text=self._asynchronous(data), pages=pages)

    def _asynchronous(self, data: bytes) -> str:
        key = f"{self.prefix}{uuid.uuid4().hex}.pdf"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)
        try:
            started = self.textract.start_document_text_detection(
                DocumentLocation={"S3Object": {"Bucket": self.bucket, "Name": key}}
            )
            return lines_text(self._wait(started["JobId"]))
        finally:
            self._delete(key)

    def _wait(self, job_id: str) -> list[dict[str, Any]]:
        deadline = self._clock() + self.timeout_seconds
        while True:
            answer = self.textract.get_document_text_detection(JobId=job_id)
            status = answer["JobStatus"]
            if status in {"SUCCEEDED", "PARTIAL_SUCCESS"}:
                return self._all_blocks(job_id, answer)
            if status == "FAILED":
                reason = answer.get("StatusMessage", "unknown")
                raise MediaEngineRejected(f"the text detection job failed: {reason}"[:300])
            if self._clock() + self.poll_seconds > deadline:
                raise MediaEngineError(f"text detection took over {self.timeout_seconds}s")
            self._sleep(self.poll_seconds)

    def _all_blocks(self, job_id: str, answer: dict[str, Any]) -> list[dict[str, Any]]:
        blocks = list(answer.get("Blocks", []))
        while answer.get("NextToken"):
            answer = self.textract.get_document_text_detection(
                JobId=job_id, NextToken=answer["NextToken"]
            )
            blocks.extend(answer.get("Blocks", []))
        return blocks

    def _delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        with contextlib.suppress(BotoCoreError, ClientError):  # the lifecycle rule expires it
            self.s3.delete_object(Bucket=self.bucket, Key=key)


def lines_text(blocks: list[dict[str, Any]]) -> str:
    """LINE blocks in reading order, a blank line between pages."""
    pages: dict[int, list[str]] = {}
    for block in blocks:
        if block.get("BlockType") == "LINE" and block.get("Text"):
            pages.setdefault(int(block.get("Page", 1)), []).append(block["Text"])
    return "\n\n".join("\n".join(pages[page]) for page in sorted(pages))


def pdf_pages(data: bytes) -> int:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        return len(PdfReader(io.BytesIO(data)).pages)
    except (PyPdfError, ValueError, OSError) as exc:
        raise UnreadableMedia(f"cannot read the PDF: {exc}"[:300]) from exc
