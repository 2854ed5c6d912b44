"""Media understanding engines: the real offline engines on media made in the test (espeak-ng voice
notes, Pillow images, python-docx/openpyxl/hand-written PDF documents), and the AWS engines' request
shapes with botocore's Stubber (validated against the service models)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.engines import EngineSettings, build_engines, understand
from chalicelib.engines import audio as audio_decoding
from chalicelib.engines.documents import LocalDocumentReader
from chalicelib.engines.factory import Engines
from chalicelib.engines.images import size_and_png
from chalicelib.engines.pocketsphinx import PocketsphinxTranscriber
from chalicelib.engines.rekognition import RekognitionImageReader
from chalicelib.engines.settings import load_engine_settings
from chalicelib.engines.textract import TextractDocumentReader
from chalicelib.engines.transcribe import AmazonTranscriber
from infra.local.sample_files import (
    docx_bytes,
    ffmpeg,
    ogg_opus,
    pdf_bytes,
    speak,
    text_image,
    xlsx_bytes,
)
from parley.errors import InvalidSettings
from parley.media_types import DOCX, XLSX
from parley.media_understanding import Audio16k, MediaEngineError, Transcript

QUESTION = "When is the fall application deadline?"
needs_media_tools = pytest.mark.skipif(
    not (shutil.which("espeak-ng") and shutil.which("ffmpeg")), reason="espeak-ng/ffmpeg missing"
)


# ---------------------------------------------------------------- media made in the test


def local_engines(**settings: Any) -> Engines:
    return build_engines(EngineSettings(media_engines="local", **settings))


def words_heard(text: str) -> set[str]:
    return {"fall", "application", "deadline"} & set(text.lower().split())


# ---------------------------------------------------------------- voice notes, offline


@pytest.fixture(scope="module")
def voice_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("voice")


@needs_media_tools
def test_english_ogg_opus_voice_note_is_transcribed_by_pocketsphinx(voice_dir: Path) -> None:
    note = ogg_opus(speak(voice_dir, QUESTION))

    result = understand(note, "audio/ogg; codecs=opus", "audio", engines=ENGINES, language="en")

    print("pocketsphinx heard:", repr(result.text))
    assert result.status == "understood"
    assert len(words_heard(result.text)) >= 2, result.text
    assert result.transcript is not None and result.transcript.language == "en-US"
    assert 0.0 < result.transcript.confidence <= 1.0
    assert result.duration_seconds is not None and 2.0 < result.duration_seconds < 4.0


@needs_media_tools
def test_ogg_opus_decodes_without_ffmpeg(voice_dir: Path) -> None:
    note = ogg_opus(speak(voice_dir, QUESTION))

    clip = audio_decoding.decode(note, "audio/ogg", limit_seconds=60, ffmpeg="no-such-ffmpeg")

    assert 2.0 < clip.duration_seconds < 4.0


@needs_media_tools
def test_m4a_voice_note_is_decoded_with_ffmpeg_and_transcribed(voice_dir: Path) -> None:
    wav = speak(voice_dir, QUESTION)
    note = ffmpeg(wav, voice_dir / "note.m4a", "-c:a", "aac")

    result = understand(note, "audio/mp4", "audio", engines=ENGINES, language="en")

    assert len(words_heard(result.text)) >= 2, result.text


@needs_media_tools
def test_a_video_s_sound_track_is_transcribed(voice_dir: Path) -> None:
    wav = speak(voice_dir, QUESTION)
    video = voice_dir / "clip.mp4"
    command = ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=blue:s=64x64"]
    command += ["-i", str(wav), "-shortest", "-c:v", "mpeg4", "-c:a", "aac", str(video)]
    subprocess.run(command, check=True)

    result = understand(video.read_bytes(), "video/mp4", "video", engines=ENGINES, language="en")

    assert len(words_heard(result.text)) >= 2, result.text


class RefusingTranscriber:
    def transcribe(self, audio: Audio16k, language_hint: str | None) -> Transcript:
        raise AssertionError("the engine must not be called")


def engines_with(transcriber: Any, **settings: Any) -> Engines:
    base = local_engines(**settings)
    return Engines(transcriber, base.image_reader, base.document_reader, base.settings)


@needs_media_tools
def test_a_clip_under_half_a_second_is_answered_without_an_engine(voice_dir: Path) -> None:
    wav = speak(voice_dir, QUESTION)
    clip = ffmpeg(wav, voice_dir / "short.ogg", "-t", "0.3", "-c:a", "libopus")

    result = understand(clip, "audio/ogg", "audio", engines=engines_with(RefusingTranscriber()))

    assert result.status == "too_short"
    assert result.reply and "too short" in result.reply


@needs_media_tools
def test_a_clip_over_the_maximum_is_answered_without_an_engine(voice_dir: Path) -> None:
    note = ogg_opus(speak(voice_dir, QUESTION))
    engines = engines_with(RefusingTranscriber(), max_audio_seconds=1.0)

    result = understand(note, "audio/ogg", "audio", engines=engines, language="es")

    assert result.status == "too_long"
    assert result.reply and "más larga" in result.reply


@needs_media_tools
def test_a_spanish_voice_note_offline_gets_an_honest_answer_in_spanish(voice_dir: Path) -> None:
    note = ogg_opus(speak(voice_dir, "¿Cuándo es la fecha límite de solicitud?", voice="es"))

    result = understand(note, "audio/ogg", "audio", engines=ENGINES, language="es")

    assert result.status == "cannot_listen"
    assert result.reply == "No puedo escuchar este audio, ¿podrías escribirlo?"
    assert result.text == ""


class FixedTranscriber:
    def __init__(self, transcript: Transcript) -> None:
        self.transcript = transcript

    def transcribe(self, audio: Audio16k, language_hint: str | None) -> Transcript:
        return self.transcript


@pytest.mark.parametrize(
    ("language", "confidence", "expected"),
    [
        ("en-US", 0.3, 'I heard: "when is the deadline". Is that right?'),
        ("es-US", 0.3, 'Entendí: "when is the deadline". ¿Es correcto?'),
        ("en-US", 0.9, None),
    ],
)
def test_a_low_confidence_transcript_is_confirmed_with_the_customer(
    language: str, confidence: float, expected: str | None
) -> None:
    heard = Transcript(text="when is the deadline", confidence=confidence, language=language)
    engines = engines_with(FixedTranscriber(heard), transcript_confirm_below=0.5)
    one_second = Audio16k(pcm=b"\x01\x00" * 16000).wav_bytes()

    result = understand(one_second, "audio/wav", "audio", engines=engines)

    assert result.status == "understood" and result.text == "when is the deadline"
    assert result.confirmation == expected


# ---------------------------------------------------------------- images, offline


@pytest.mark.skipif(not shutil.which("tesseract"), reason="tesseract missing")
def test_printed_text_in_an_image_is_read_by_tesseract() -> None:
    image = text_image(["Which scholarships can I apply for?", "Deadline: March 1"])

    result = understand(image, "image/png", "image", engines=ENGINES)

    assert result.status == "understood"
    assert "scholarships" in result.text.lower()
    assert result.image is not None and (result.image.width, result.image.height) == (1400, 280)


@pytest.mark.skipif(not shutil.which("tesseract"), reason="tesseract missing")
def test_a_webp_sticker_is_converted_and_read() -> None:
    sticker = text_image(["Scholarships"], fmt="WEBP")

    result = understand(sticker, "image/webp", "sticker", engines=ENGINES)

    assert "scholarships" in result.text.lower()


def test_a_broken_image_is_answered_honestly() -> None:
    result = understand(b"not an image", "image/jpeg", "image", engines=ENGINES, language="es")

    assert result.status == "unreadable" and result.reason == "unreadable_media"
    assert result.reply and result.reply.startswith("No pude abrir")


# ---------------------------------------------------------------- documents, offline


def aid_docx() -> bytes:
    return docx_bytes("Financial aid", ["The merit scholarship covers half of tuition."])


def dates_xlsx() -> bytes:
    return xlsx_bytes("Deadlines", [["Term", "Deadline"], ["Fall", "March 1"]])


@pytest.mark.parametrize(
    ("data", "mime", "filename", "expected"),
    [
        (pdf_bytes([["Fall application deadline: March 1"]]), "application/pdf", "a.pdf",
         ["Fall application deadline: March 1"]),
        (aid_docx(), DOCX, "aid.docx", ["Financial aid", "merit scholarship covers half"]),
        (dates_xlsx(), XLSX, "dates.xlsx", ["Deadlines", "Term: Fall; Deadline: March 1"]),
        (b"Term,Deadline\nFall,March 1\n", "text/csv", "dates.csv", ["Term: Fall"]),
        (b"Where is the library?", "text/plain", "", ["Where is the library?"]),
    ],
)  # fmt: skip
def test_documents_reach_the_ai_as_text(
    data: bytes, mime: str, filename: str, expected: list[str]
) -> None:
    result = understand(data, mime, "document", engines=ENGINES, filename=filename)

    assert result.status == "understood", result
    for fragment in expected:
        assert fragment in result.text


def test_a_document_can_be_given_as_a_path(tmp_path: Path) -> None:
    path = tmp_path / "download.bin"
    path.write_bytes(pdf_bytes([["Page one"], ["Page two"]]))

    result = understand(path, "application/pdf", "document", engines=ENGINES)

    assert result.document is not None and result.document.pages == 2
    assert "Page one" in result.text and "Page two" in result.text


def test_an_unsupported_document_or_kind_is_acknowledged_honestly() -> None:
    legacy = understand(b"\xd0\xcf\x11\xe0", "application/msword", "document", engines=ENGINES)
    location = understand(b"", "", "location", engines=ENGINES, language="es")

    assert (
        legacy.status == "unsupported" and legacy.reply and "can't read this type" in legacy.reply
    )
    assert location.status == "unsupported" and location.reply
    assert location.reply.startswith("Recibí tu archivo")


def test_long_text_is_cut_to_the_maximum() -> None:
    engines = local_engines(max_text_chars=10)

    result = understand(b"x" * 50, "text/plain", "document", engines=engines)

    assert result.truncated and result.text == "x" * 10


# ---------------------------------------------------------------- settings and factory


def test_engines_are_chosen_by_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIA_ENGINES", "aws")
    monkeypatch.delenv("MEDIA_BUCKET", raising=False)
    with pytest.raises(InvalidSettings, match="MEDIA_BUCKET"):
        load_engine_settings()
    monkeypatch.setenv("MEDIA_BUCKET", "parley-dev-media")

    aws = build_engines(load_engine_settings())
    local = local_engines()

    assert isinstance(aws.transcriber, AmazonTranscriber)
    assert isinstance(aws.image_reader, RekognitionImageReader)
    assert isinstance(aws.document_reader, TextractDocumentReader)
    assert isinstance(local.transcriber, PocketsphinxTranscriber)
    assert isinstance(local.document_reader, LocalDocumentReader)


# ---------------------------------------------------------------- AWS engines (Stubber)


def stubbed(service: str) -> tuple[Any, Any]:
    import boto3
    from botocore.stub import Stubber

    client = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    ).client(service)
    return client, Stubber(client)


@pytest.fixture
def s3() -> Iterator[tuple[Any, Any]]:
    client, stub = stubbed("s3")
    with stub:
        yield client, stub
    stub.assert_no_pending_responses()


def streaming(body: bytes) -> Any:
    from botocore.response import StreamingBody

    return StreamingBody(io.BytesIO(body), len(body))


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def transcribe_job(status: str, **extra: Any) -> dict[str, Any]:
    return {"TranscriptionJob": {"TranscriptionJobName": "job", "TranscriptionJobStatus": status,
                                 **extra}}  # fmt: skip


@pytest.mark.parametrize(
    ("hint", "seconds", "language"),
    [("es", 2.0, {"LanguageCode": "es-US"}),
     (None, 2.0, {"IdentifyLanguage": True, "LanguageOptions": ["en-US", "es-US"]}),
     ("en", 12.0, {"IdentifyLanguage": True, "LanguageOptions": ["en-US", "es-US"]})],
)  # fmt: skip
def test_amazon_transcribe_job_request_and_result(
    s3: tuple[Any, Any], hint: str | None, seconds: float, language: dict[str, Any]
) -> None:
    from botocore.stub import ANY

    s3_client, s3_stub = s3
    client, stub = stubbed("transcribe")
    clock = FakeClock()
    transcriber = AmazonTranscriber(
        bucket="parley-dev-media", prefix="engines/transcribe/", transcribe_client=client,
        s3_client=s3_client, sleep=clock.sleep, clock=clock,
    )  # fmt: skip
    audio = Audio16k(pcm=b"\x00\x00" * int(16000 * seconds))
    output = {"results": {"language_code": "es-US",
                          "transcripts": [{"transcript": "¿Cuándo cierra la solicitud?"}],
                          "items": [{"type": "pronunciation", "alternatives": [
                              {"confidence": "0.9", "content": "cuándo"}]},
                                    {"type": "pronunciation", "alternatives": [
                              {"confidence": "0.7", "content": "cierra"}]}]}}  # fmt: skip
    s3_stub.add_response("put_object", {}, {"Bucket": "parley-dev-media", "Key": ANY, "Body": ANY})
    request = {"TranscriptionJobName": ANY, "Media": {"MediaFileUri": ANY}, "MediaFormat": "wav",
               "MediaSampleRateHertz": 16000, "OutputBucketName": "parley-dev-media",
               "OutputKey": ANY, **language}  # fmt: skip
    stub.add_response("start_transcription_job", transcribe_job("QUEUED"), request)
    stub.add_response(
        "get_transcription_job", transcribe_job("IN_PROGRESS"), {"TranscriptionJobName": ANY}
    )
    stub.add_response("get_transcription_job", transcribe_job("COMPLETED", LanguageCode="es-US"),
                      {"TranscriptionJobName": ANY})  # fmt: skip
    s3_stub.add_response("get_object", {"Body": streaming(json.dumps(output).encode())},
                         {"Bucket": "parley-dev-media", "Key": ANY})  # fmt: skip
    for _ in range(2):
        s3_stub.add_response("delete_object", {}, {"Bucket": "parley-dev-media", "Key": ANY})
    stub.add_response("delete_transcription_job", {}, {"TranscriptionJobName": ANY})

    with stub:
        transcript = transcriber.transcribe(audio, hint)
        stub.assert_no_pending_responses()

    assert transcript.text == "¿Cuándo cierra la solicitud?" and transcript.language == "es-US"
    assert transcript.confidence == pytest.approx(0.8)
    assert clock.now == 2.0  # one poll interval


def test_amazon_transcribe_throttling_is_retryable_and_cleans_up(s3: tuple[Any, Any]) -> None:
    from botocore.stub import ANY

    s3_client, s3_stub = s3
    client, stub = stubbed("transcribe")
    transcriber = AmazonTranscriber(bucket="b-media", transcribe_client=client, s3_client=s3_client)
    s3_stub.add_response("put_object", {}, {"Bucket": "b-media", "Key": ANY, "Body": ANY})
    stub.add_client_error("start_transcription_job", "LimitExceededException", http_status_code=400)
    for _ in range(2):
        s3_stub.add_client_error("delete_object", "AccessDenied", http_status_code=403)
    stub.add_client_error("delete_transcription_job", "NotFoundException", http_status_code=400)

    with stub, pytest.raises(MediaEngineError) as raised:
        transcriber.transcribe(Audio16k(pcm=b"\x00\x00" * 16000), "en")

    assert raised.value.retryable


def test_rekognition_reads_a_webp_sticker_as_png() -> None:
    client, stub = stubbed("rekognition")
    sticker = text_image(["Hi"], fmt="WEBP")
    _, _, png, _ = size_and_png(sticker, "image/webp", frozenset())
    image = {"Image": {"Bytes": png}}
    stub.add_response("detect_text", {"TextDetections": [
        {"DetectedText": "Scholarships 2026", "Type": "LINE", "Confidence": 99.0},
        {"DetectedText": "Scholarships", "Type": "WORD", "Confidence": 99.0}]}, image)  # fmt: skip
    stub.add_response("detect_labels", {"Labels": [{"Name": "Text", "Confidence": 98.0}]},
                      {**image, "MaxLabels": 10, "MinConfidence": 60.0})  # fmt: skip
    stub.add_response("detect_moderation_labels", {"ModerationLabels": [
        {"Name": "Violence", "ParentName": "", "Confidence": 75.0}]},
                      {**image, "MinConfidence": 60.0})  # fmt: skip
    engines = Engines(PocketsphinxTranscriber(), RekognitionImageReader(client=client),
                      LocalDocumentReader(), EngineSettings())  # fmt: skip

    with stub:
        result = understand(sticker, "image/webp", "sticker", engines=engines)
        stub.assert_no_pending_responses()

    assert result.text == "Scholarships 2026"
    assert result.image is not None and result.image.labels == ["Text"]
    assert result.image.moderation[0].name == "Violence"
    assert result.image.moderation[0].confidence == pytest.approx(0.75)


def test_rekognition_refusing_an_image_is_answered_not_retried() -> None:
    client, stub = stubbed("rekognition")
    stub.add_client_error("detect_text", "InvalidImageFormatException", http_status_code=400)
    engines = Engines(PocketsphinxTranscriber(), RekognitionImageReader(client=client),
                      LocalDocumentReader(), EngineSettings())  # fmt: skip

    with stub:
        result = understand(text_image(["x"]), "image/png", "image", engines=engines)

    assert result.status == "unreadable" and result.reason == "media_engine_rejected"


def line(text: str, page: int) -> dict[str, Any]:
    return {"BlockType": "LINE", "Text": text, "Page": page}


def test_textract_reads_a_single_page_pdf_synchronously() -> None:
    client, stub = stubbed("textract")
    pdf = pdf_bytes([["scanned"]])
    stub.add_response("detect_document_text", {"Blocks": [line("Fall deadline", 1)]},
                      {"Document": {"Bytes": pdf}})  # fmt: skip
    reader = TextractDocumentReader(bucket="b-media", textract_client=client)

    with stub:
        document = reader.read(pdf, "application/pdf", "scan.pdf")

    assert document.text == "Fall deadline" and document.pages == 1


def test_textract_reads_a_multi_page_pdf_with_the_asynchronous_api(s3: tuple[Any, Any]) -> None:
    from botocore.stub import ANY

    s3_client, s3_stub = s3
    client, stub = stubbed("textract")
    clock = FakeClock()
    pdf = pdf_bytes([["one"], ["two"]])
    reader = TextractDocumentReader(
        bucket="b-media", prefix="engines/textract/", textract_client=client, s3_client=s3_client,
        sleep=clock.sleep, clock=clock,
    )  # fmt: skip
    s3_stub.add_response("put_object", {}, {"Bucket": "b-media", "Key": ANY, "Body": pdf})
    location = {"DocumentLocation": {"S3Object": {"Bucket": "b-media", "Name": ANY}}}
    stub.add_response("start_document_text_detection", {"JobId": "job-1"}, location)
    stub.add_response(
        "get_document_text_detection", {"JobStatus": "IN_PROGRESS"}, {"JobId": "job-1"}
    )
    first = {"JobStatus": "SUCCEEDED", "NextToken": "t2", "Blocks": [line("Page one", 1)]}
    stub.add_response("get_document_text_detection", first, {"JobId": "job-1"})
    stub.add_response("get_document_text_detection",
                      {"JobStatus": "SUCCEEDED", "Blocks": [line("Page two", 2)]},
                      {"JobId": "job-1", "NextToken": "t2"})  # fmt: skip
    s3_stub.add_response("delete_object", {}, {"Bucket": "b-media", "Key": ANY})

    with stub:
        document = reader.read(pdf, "application/pdf", "long.pdf")
        stub.assert_no_pending_responses()

    assert document.text == "Page one\n\nPage two" and document.pages == 2


def test_textract_leaves_office_documents_to_the_extractors() -> None:
    client, stub = stubbed("textract")  # no responses: any call would fail
    reader = TextractDocumentReader(bucket="b-media", textract_client=client)

    with stub:
        document = reader.read(aid_docx(), DOCX, "aid.docx")

    assert "merit scholarship" in document.text


ENGINES = local_engines()
