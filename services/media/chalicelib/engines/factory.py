"""Choosing the engines from settings: AWS services in AWS, real offline engines locally."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.engines.settings import EngineSettings
from parley.media_understanding import DocumentReader, ImageReader, Transcriber


@dataclass(frozen=True)
class Engines:
    transcriber: Transcriber
    image_reader: ImageReader
    document_reader: DocumentReader
    settings: EngineSettings


def build_engines(settings: EngineSettings) -> Engines:
    """The adapters `settings.media_engines` names; each creates its AWS client on first use."""
    if settings.media_engines == "aws":
        return _aws(settings)
    from chalicelib.engines.documents import LocalDocumentReader
    from chalicelib.engines.pocketsphinx import PocketsphinxTranscriber
    from chalicelib.engines.tesseract import TesseractImageReader

    return Engines(
        transcriber=PocketsphinxTranscriber(),
        image_reader=TesseractImageReader(
            binary=settings.tesseract_binary, languages=settings.ocr_languages
        ),
        document_reader=LocalDocumentReader(),
        settings=settings,
    )


def _aws(settings: EngineSettings) -> Engines:
    from chalicelib.engines.rekognition import RekognitionImageReader
    from chalicelib.engines.textract import TextractDocumentReader
    from chalicelib.engines.transcribe import AmazonTranscriber

    bucket = settings.media_bucket or ""
    prefix = settings.engine_work_prefix
    return Engines(
        transcriber=AmazonTranscriber(
            bucket=bucket,
            prefix=f"{prefix}transcribe/",
            timeout_seconds=settings.transcribe_timeout_seconds,
            identify_min_seconds=settings.transcribe_identify_min_seconds,
        ),
        image_reader=RekognitionImageReader(min_confidence=settings.rekognition_min_confidence),
        document_reader=TextractDocumentReader(
            bucket=bucket,
            prefix=f"{prefix}textract/",
            timeout_seconds=settings.textract_timeout_seconds,
        ),
        settings=settings,
    )
