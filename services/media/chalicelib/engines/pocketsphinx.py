"""Offline speech recognition with CMU pocketsphinx (the PyPI wheel ships the en-US acoustic model,
language model and dictionary inside it: nothing is downloaded at run time).

No maintained package ships a Spanish model (re-uploads of model weights by third parties are not
an acceptable dependency), so a Spanish hint raises UnsupportedLanguage and the caller answers
honestly instead of transcribing Spanish with an English model.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from parley.media_understanding import (
    Audio16k,
    EngineUnavailable,
    MediaEngineError,
    Transcript,
    UnsupportedLanguage,
    primary_language,
)

# Leading and trailing silence the decoder gets around the clip: its noise estimate and cepstral
# mean need a lead-in, and a clip cut right at the first word loses that word.
PAD_SECONDS = 0.5
_FILLERS = frozenset({"<s>", "</s>", "<sil>", "[NOISE]", "[SPEECH]"})


class PocketsphinxTranscriber:
    """`Transcriber` for English with pocketsphinx's bundled en-US model.

    The decoder (~0.3 s to load, ~60 MB) is built on first use and kept for the container's life;
    one utterance is decoded at a time."""

    languages = frozenset({"en"})

    def __init__(self, *, decoder_factory: Any = None) -> None:
        self._decoder_factory = decoder_factory or _default_decoder
        self._decoder: Any = None
        self._lock = threading.Lock()

    def transcribe(self, audio: Audio16k, language_hint: str | None) -> Transcript:
        language = primary_language(language_hint) or "en"
        if language not in self.languages:
            raise UnsupportedLanguage(f"no offline speech model for language {language!r}")
        padding = b"\x00\x00" * int(PAD_SECONDS * Audio16k.SAMPLE_RATE)
        with self._lock:
            decoder = self._get_decoder()
            try:
                decoder.start_utt()
                decoder.process_raw(padding + audio.pcm + padding, full_utt=True)
                decoder.end_utt()
            except RuntimeError as exc:  # pocketsphinx reports decoder failures this way
                raise MediaEngineError(f"pocketsphinx failed: {exc}") from exc
            words = [
                (_word(segment.word), float(segment.prob))
                for segment in decoder.seg()
                if segment.word not in _FILLERS and not segment.word.startswith("[")
            ]
        text = " ".join(word for word, _ in words)
        confidence = sum(p for _, p in words) / len(words) if words else 0.0
        return Transcript(text=text, confidence=min(1.0, max(0.0, confidence)), language="en-US")

    def _get_decoder(self) -> Any:
        if self._decoder is None:
            self._decoder = self._decoder_factory()
        return self._decoder


def _word(token: str) -> str:
    """`the(2)` (an alternative pronunciation in the dictionary) -> `the`."""
    return token.split("(", 1)[0]


def _default_decoder() -> Any:
    try:
        from pocketsphinx import Decoder
    except ImportError as error:  # not in the Lambda zip: AWS uses Amazon Transcribe
        raise EngineUnavailable(
            "offline speech recognition (pocketsphinx) is not installed: use MEDIA_ENGINES=aws"
        ) from error

    # dither: synthetic or heavily compressed audio has runs of exact digital silence, whose
    # log energy is -inf and throws the front end off; a fixed seed keeps results repeatable.
    return Decoder(samprate=Audio16k.SAMPLE_RATE, dither=True, seed=1, logfn=os.devnull)
