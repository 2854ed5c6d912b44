"""Voice note (about 10 s) -> reply, over `make run`'s stack: a phase of tests/bench/turns.py.

A question spoken by espeak-ng (~10 s at 140 words a minute), encoded as WhatsApp sends a voice
note (OGG/Opus, 48 kHz), is uploaded to the simulator as customer media; each sample is one
customer sending it as a voice note (`audio`, `voice: true`). Timed from the POST to the simulator
(webhook -> ingestion) to the moment the simulator records the bot's first message to that customer:
the whole path, media included (download from the simulator, the media bucket, pocketsphinx,
`media.processed`, context, the AI, the sender). Goal: <= 5 s locally (the seed's target: < 30 s).
"""

from __future__ import annotations

import json
import queue
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import requests

from infra.local.sample_files import ogg_opus, speak

VOICE_QUESTION = (
    "I am an international student applying for the fall semester. When is the "
    "application deadline, and do I need English test scores for a scholarship?"
)
GOAL_MS = 5000.0
SEED_TARGET_MS = 30000.0
FIRST_VOICE_CUSTOMER = 15550300001


def voice_note() -> tuple[bytes, float]:
    """The spoken question as OGG/Opus, and its length in seconds."""
    import soundfile

    with tempfile.TemporaryDirectory(prefix="parley-voice-") as folder:
        wav = speak(Path(folder), VOICE_QUESTION)
        seconds = float(soundfile.info(str(wav)).duration)
        return ogg_opus(wav), seconds


def upload(simulator_url: str, data: bytes) -> str:
    files = {"file": ("voice.ogg", data, "audio/ogg")}
    response = requests.post(f"{simulator_url}/_sim/customer/media", files=files, timeout=30)
    response.raise_for_status()
    return str(response.json()["id"])


def send_voice(simulator_url: str, wa_id: str, media_id: str) -> None:
    body = {"from": wa_id, "type": "audio", "media_id": media_id, "voice": True}
    response = requests.post(f"{simulator_url}/_sim/customer/messages", json=body, timeout=30)
    if response.status_code != 200 or not response.json().get("webhook", {}).get("ok"):
        raise RuntimeError(f"voice note not accepted: {response.status_code} {response.text[:200]}")


def first_reply(simulator_url: str, wa_id: str) -> str:
    with urllib.request.urlopen(f"{simulator_url}/_sim/chat?wa_id={wa_id}", timeout=10) as got:
        chat: dict[str, Any] = json.loads(got.read())
    for entry in chat.get("messages", []):
        if entry.get("direction") == "out":
            payload = entry.get("payload", {})
            body = payload.get("text") or payload.get("interactive", {}).get("body") or {}
            return f"({payload.get('type')}) {body.get('body') or body.get('text') or ''}"
    return ""


def ask_by_voice(
    simulator_url: str, inbox: queue.Queue[float], wa_id: str, media_id: str, timeout: float
) -> float | None:
    """ms from the POST to the first bot message at the simulator; None on timeout."""
    sent = time.time()
    send_voice(simulator_url, wa_id, media_id)
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            at = inbox.get(timeout=left)
        except queue.Empty:
            return None
        if at >= sent:
            return (at - sent) * 1000
    return None


def voice_phase(simulator_url: str, inboxes: Any, samples: int, timeout: float) -> list[float]:
    """`samples` voice notes, one customer each, one at a time (after one warm-up note);
    `inboxes(wa_id)` is the queue of that customer's bot-message timestamps."""
    note, seconds = voice_note()
    media_id = upload(simulator_url, note)
    customers = [str(FIRST_VOICE_CUSTOMER + n) for n in range(samples + 1)]
    if ask_by_voice(simulator_url, inboxes(customers[0]), customers[0], media_id, timeout) is None:
        raise RuntimeError("warm-up: no reply to the voice note")
    times: list[float] = []
    for wa_id in customers[1:]:
        took = ask_by_voice(simulator_url, inboxes(wa_id), wa_id, media_id, timeout)
        if took is not None:
            times.append(took)
    print(
        f"\n(1b) Voice note -> reply: a {seconds:.1f} s spoken question (OGG/Opus), {samples}"
        f" customers one at a time; {samples - len(times)} without a reply in {timeout:.0f} s"
    )
    print(f"  first reply: {first_reply(simulator_url, customers[1])[:160]!r}")
    return times
