"""Image reading with Amazon Rekognition: DetectText, DetectLabels and DetectModerationLabels on
the image bytes. Rekognition takes JPEG and PNG only, so a WebP sticker (or a GIF) is converted to
PNG first; an image over its 5 MB bytes limit is re-encoded smaller."""

from __future__ import annotations

from typing import Any

from chalicelib.engines.aws_errors import engine_errors
from chalicelib.engines.images import shrink_to, size_and_png
from parley.media_understanding import ImageReading, ModerationLabel

MAX_IMAGE_BYTES = 5 * 1024 * 1024
_REKOGNITION_INPUT = frozenset({"image/png", "image/jpeg"})


class RekognitionImageReader:
    """`ImageReader` with Amazon Rekognition (three calls per image)."""

    def __init__(
        self, *, client: Any = None, min_confidence: float = 60.0, max_labels: int = 10
    ) -> None:
        self._client = client
        self.min_confidence = min_confidence
        self.max_labels = max_labels

    @property
    def client(self) -> Any:
        if self._client is None:
            from parley import aws

            self._client = aws.client("rekognition", read_timeout=15.0)
        return self._client

    def read(self, image_bytes: bytes, mime: str) -> ImageReading:
        width, height, data, _ = size_and_png(image_bytes, mime, _REKOGNITION_INPUT)
        if len(data) > MAX_IMAGE_BYTES:
            data = shrink_to(data, MAX_IMAGE_BYTES)
        image = {"Bytes": data}
        with engine_errors("Rekognition"):
            text = self.client.detect_text(Image=image)
            labels = self.client.detect_labels(
                Image=image, MaxLabels=self.max_labels, MinConfidence=self.min_confidence
            )
            moderation = self.client.detect_moderation_labels(
                Image=image, MinConfidence=self.min_confidence
            )
        return ImageReading(
            text="\n".join(
                d["DetectedText"] for d in text.get("TextDetections", []) if d.get("Type") == "LINE"
            ),
            labels=[label["Name"] for label in labels.get("Labels", [])],
            moderation=[
                ModerationLabel(
                    name=label["Name"],
                    parent=label.get("ParentName", ""),
                    confidence=float(label.get("Confidence", 0.0)) / 100,
                )
                for label in moderation.get("ModerationLabels", [])
            ],
            width=width,
            height=height,
        )
