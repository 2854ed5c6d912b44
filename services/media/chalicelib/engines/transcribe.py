"""Speech recognition with Amazon Transcribe's batch API (StartTranscriptionJob on an S3 object).

The decoded 16 kHz WAV goes to the media bucket under a work prefix; the job writes its transcript
JSON to the same bucket under a key we choose, so no pre-signed Transcribe-owned URL is fetched.
Both objects (and the job) are deleted once read: transcripts are customer data.

Language: `en-US` / `es-US` are the options. Language identification is weak on short clips, so a
clip shorter than `identify_min_seconds` is transcribed in the session's language (the hint);
a longer one, or one without a hint, is identified among the options.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from chalicelib.engines.aws_errors import engine_errors
from parley.media_understanding import (
    Audio16k,
    MediaEngineError,
    MediaEngineRejected,
    Transcript,
    primary_language,
)

LANGUAGE_CODES = {"en": "en-US", "es": "es-US"}


class AmazonTranscriber:
    """`Transcriber` with Amazon Transcribe, polling the job within `timeout_seconds`."""

    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "transcribe/",
        transcribe_client: Any = None,
        s3_client: Any = None,
        timeout_seconds: float = 90.0,
        poll_seconds: float = 2.0,
        identify_min_seconds: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self._transcribe = transcribe_client
        self._s3 = s3_client
        self.timeout_seconds = timeout_seconds
        self.poll_seconds = poll_seconds
        self.identify_min_seconds = identify_min_seconds
        self._sleep = sleep
        self._clock = clock

    @property
    def transcribe_client(self) -> Any:
        if self._transcribe is None:
            from parley import aws

            self._transcribe = aws.client("transcribe")
        return self._transcribe

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            from parley import aws

            self._s3 = aws.client("s3")
        return self._s3

    def transcribe(self, audio: Audio16k, language_hint: str | None) -> Transcript:
        job = f"parley-{uuid.uuid4().hex}"
        audio_key, output_key = f"{self.prefix}{job}.wav", f"{self.prefix}{job}.json"
        with engine_errors("Transcribe"):
            self.s3.put_object(Bucket=self.bucket, Key=audio_key, Body=audio.wav_bytes())
            try:
                self.transcribe_client.start_transcription_job(
                    **self.job_request(job, audio, language_hint, audio_key, output_key)
                )
                result = self._wait(job)
                return self._read(result, output_key)
            finally:
                self._clean_up(job, audio_key, output_key)

    def job_request(
        self,
        job: str,
        audio: Audio16k,
        language_hint: str | None,
        audio_key: str,
        output_key: str,
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "TranscriptionJobName": job,
            "Media": {"MediaFileUri": f"s3://{self.bucket}/{audio_key}"},
            "MediaFormat": "wav",
            "MediaSampleRateHertz": Audio16k.SAMPLE_RATE,
            "OutputBucketName": self.bucket,
            "OutputKey": output_key,
        }
        hinted = LANGUAGE_CODES.get(primary_language(language_hint))
        if hinted and audio.duration_seconds < self.identify_min_seconds:
            request["LanguageCode"] = hinted
        else:
            request["IdentifyLanguage"] = True
            request["LanguageOptions"] = sorted(LANGUAGE_CODES.values())
        return request

    def _wait(self, job: str) -> dict[str, Any]:
        deadline = self._clock() + self.timeout_seconds
        while True:
            found = self.transcribe_client.get_transcription_job(TranscriptionJobName=job)
            status = found["TranscriptionJob"]["TranscriptionJobStatus"]
            if status == "COMPLETED":
                return dict(found["TranscriptionJob"])
            if status == "FAILED":
                reason = found["TranscriptionJob"].get("FailureReason", "unknown")
                raise MediaEngineRejected(f"the transcription job failed: {reason}"[:300])
            if self._clock() + self.poll_seconds > deadline:
                raise MediaEngineError(f"the transcription job took over {self.timeout_seconds}s")
            self._sleep(self.poll_seconds)

    def _read(self, job: dict[str, Any], output_key: str) -> Transcript:
        body = self.s3.get_object(Bucket=self.bucket, Key=output_key)["Body"].read()
        results = json.loads(body)["results"]
        text = " ".join(t.get("transcript", "") for t in results.get("transcripts", [])).strip()
        confidences = [
            float(item["alternatives"][0]["confidence"])
            for item in results.get("items", [])
            if item.get("type") == "pronunciation" and item.get("alternatives")
        ]
        confidence = sum(confidences) / len(confidences) if confidences else 0.0
        language = str(job.get("LanguageCode") or results.get("language_code") or "en-US")
        return Transcript(text=text, confidence=confidence, language=language)

    def _clean_up(self, job: str, audio_key: str, output_key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        for key in (audio_key, output_key):
            with contextlib.suppress(BotoCoreError, ClientError):  # the lifecycle rule expires it
                self.s3.delete_object(Bucket=self.bucket, Key=key)
        with contextlib.suppress(BotoCoreError, ClientError):  # never started, or already gone
            self.transcribe_client.delete_transcription_job(TranscriptionJobName=job)
