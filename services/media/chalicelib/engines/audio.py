"""Decoding audio (and video sound tracks) to 16 kHz mono PCM.

OGG/Opus, MP3, WAV and FLAC are decoded in-process by `soundfile` (its manylinux wheel bundles
libsndfile with Opus and MP3), so the common WhatsApp voice note needs no ffmpeg, also on Lambda.
AAC, M4A/MP4, AMR, 3GP and video go through an `ffmpeg` subprocess. At most `limit_seconds` are
decoded, so an hour-long file costs no more than a clip just over the maximum.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from typing import TYPE_CHECKING, Any

from parley.media_types import base_mime
from parley.media_understanding import Audio16k, EngineUnavailable, UnreadableMedia

if TYPE_CHECKING:
    import numpy as np

RATE = Audio16k.SAMPLE_RATE
SOUNDFILE_TYPES = frozenset(
    {
        "audio/ogg",
        "audio/opus",
        "audio/mpeg",
        "audio/mp3",
        "audio/wav",
        "audio/x-wav",
        "audio/wave",
        "audio/flac",
    }
)
FFMPEG_TIMEOUT_SECONDS = 60.0


def decode(data: bytes, mime: str, *, limit_seconds: float, ffmpeg: str = "ffmpeg") -> Audio16k:
    """`data` (audio or video of type `mime`) as 16 kHz mono, at most `limit_seconds` long.

    Raises UnreadableMedia for a file that does not decode, EngineUnavailable when the type needs
    ffmpeg and there is none."""
    if base_mime(mime) in SOUNDFILE_TYPES:
        try:
            return _soundfile(data, limit_seconds)
        except UnreadableMedia:
            if not shutil.which(ffmpeg):
                raise
            # a mislabelled file (an AAC sent as audio/mpeg): let ffmpeg sniff it
    return _ffmpeg(data, limit_seconds, ffmpeg)


def _soundfile(data: bytes, limit_seconds: float) -> Audio16k:
    import numpy as np
    import soundfile

    try:
        with soundfile.SoundFile(io.BytesIO(data)) as sound:
            rate = int(sound.samplerate)
            frames = sound.read(int(limit_seconds * rate) + 1, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
        raise UnreadableMedia(f"cannot decode the audio: {exc}"[:300]) from exc
    mono = frames.mean(axis=1) if frames.size else np.zeros(0, dtype=np.float32)
    return _pcm16(resample(mono, rate, RATE))


def _ffmpeg(data: bytes, limit_seconds: float, ffmpeg: str) -> Audio16k:
    binary = shutil.which(ffmpeg)
    if binary is None:
        raise EngineUnavailable(f"{ffmpeg} is not installed: cannot decode this audio type")
    command = [
        binary,
        "-nostdin",
        "-loglevel", "error",
        "-i", "pipe:0",
        "-t", f"{limit_seconds:.3f}",
        "-vn", "-ac", "1", "-ar", str(RATE),
        "-f", "s16le", "pipe:1",
    ]  # fmt: skip
    try:
        # MP4/M4A/3GP keep their index at the end: ffmpeg reads them from a pipe only when the
        # index comes first, so the bytes go through a seekable temporary file instead.
        result = _run_with_file(command, data)
    except subprocess.TimeoutExpired as exc:
        raise UnreadableMedia("decoding the audio took too long") from exc
    if result.returncode != 0:
        reason = result.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["?"]
        raise UnreadableMedia(f"cannot decode the audio: {reason[0]}"[:300])
    return Audio16k(pcm=result.stdout[: len(result.stdout) // 2 * 2])


def _run_with_file(command: list[str], data: bytes) -> subprocess.CompletedProcess[bytes]:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".media") as source:
        source.write(data)
        source.flush()
        command = [source.name if part == "pipe:0" else part for part in command]
        return subprocess.run(
            command, capture_output=True, timeout=FFMPEG_TIMEOUT_SECONDS, check=False
        )


def resample(signal: np.ndarray[Any, Any], rate: int, target: int) -> np.ndarray[Any, Any]:
    """Band-limit to the target's Nyquist frequency (windowed-sinc low-pass), then interpolate.
    Good enough for speech recognition, and needs only numpy."""
    import numpy as np

    if rate == target or signal.size == 0:
        return signal.astype(np.float32)
    if rate > target:
        taps = np.arange(101) - 50
        kernel = np.sinc(2 * 0.45 * target / rate * taps) * np.hamming(101)
        signal = np.convolve(signal, kernel / kernel.sum(), mode="same")
    length = round(signal.size * target / rate)
    positions = np.arange(length) * (rate / target)
    return np.interp(positions, np.arange(signal.size), signal).astype(np.float32)


def _pcm16(signal: np.ndarray[Any, Any]) -> Audio16k:
    import numpy as np

    return Audio16k(pcm=(np.clip(signal, -1.0, 1.0) * 32767).astype("<i2").tobytes())
