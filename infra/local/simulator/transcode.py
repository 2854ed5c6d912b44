"""Voice notes recorded by the chat page, delivered the way WhatsApp delivers them: OGG/Opus.

Chromium's MediaRecorder records only WebM/Opus (`MediaRecorder.isTypeSupported("audio/ogg;
codecs=opus")` is false), a type WhatsApp never carries. WhatsApp's apps send voice notes as
OGG/Opus, so the simulator (local test tooling only) remuxes/re-encodes such an upload with ffmpeg
before the customer's message exists. Any other upload is stored as sent.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

TRANSCODED = frozenset({"audio/webm", "video/webm"})  # Chromium's voice-note recordings
OGG_OPUS = "audio/ogg"
TIMEOUT = 30.0  # seconds; a voice note is at most a few minutes of audio


class TranscodeError(Exception):
    """The recording could not be turned into OGG/Opus (ffmpeg missing or failed)."""


def needs_transcoding(mime_type: str) -> bool:
    return mime_type.split(";", 1)[0].strip().lower() in TRANSCODED


def to_ogg_opus(data: bytes, ffmpeg: str | None = None) -> bytes:
    """`data` (WebM/Opus, or anything ffmpeg reads) as mono 48 kHz OGG/Opus, as WhatsApp sends."""
    binary = ffmpeg or shutil.which("ffmpeg")
    if binary is None:
        raise TranscodeError("ffmpeg is not installed; it turns recorded WebM into OGG/Opus")
    with tempfile.TemporaryDirectory(prefix="sim-voice-") as folder:
        source, target = Path(folder) / "in.webm", Path(folder) / "out.ogg"
        source.write_bytes(data)
        command = [binary, "-nostdin", "-loglevel", "error", "-y", "-i", str(source), "-vn"]
        command += ["-c:a", "libopus", "-b:a", "32k", "-ar", "48000", "-ac", "1", str(target)]
        try:
            done = subprocess.run(command, capture_output=True, timeout=TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise TranscodeError(f"ffmpeg did not run: {exc}") from exc
        if done.returncode != 0 or not target.exists() or target.stat().st_size == 0:
            reason = done.stderr.decode(errors="replace").strip()[-300:]
            raise TranscodeError(f"ffmpeg could not convert the recording: {reason}")
        return target.read_bytes()


def ogg_filename(filename: str | None) -> str:
    stem = Path(filename or "voice").stem or "voice"
    return f"{stem}.ogg"
