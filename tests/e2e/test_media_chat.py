"""A customer's media end to end, in headless Chromium over `make run`'s stack
(infra/local/devstack.py on free ports): the web chat's microphone and attach buttons -> the
simulator (fake Graph API) -> ingestion -> media.fifo -> media (downloads from the simulator;
pocketsphinx, tesseract, document extractors) -> media.processed -> context -> ai_processing ->
the reply in the chat.

- a voice note: espeak-ng speaks "When is the fall application deadline?" into a WAV that
  Chromium's fake microphone plays (`--use-file-for-fake-audio-capture`); the page records it
  (Chromium records WebM/Opus, the simulator delivers it as OGG/Opus, as WhatsApp does) and the
  bot answers with the first-year (Regular Decision) deadline;
- a PNG made here with the printed question "Which scholarships can I apply for?" -> an answer
  from scholarships-and-aid.md;
- a PDF, a DOCX and an XLSX made here, each holding one question -> each is answered from the
  knowledge base on that question (the PDF's fall deadline after the customer taps which one),
  and the context service's history holds the extracted text.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import eventually, wait_for_index

from infra.local.devstack import DevStack
from infra.local.pytest_fixtures import CHROMIUM, CHROMIUM_ARGS
from infra.local.sample_files import docx_bytes, pdf_bytes, text_image, xlsx_bytes

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not all(shutil.which(tool) for tool in ("espeak-ng", "ffmpeg", "tesseract")),
        reason="espeak-ng, ffmpeg and tesseract are needed (`make test` installs them)",
    ),
]

VOICE_QUESTION = "When is the fall application deadline?"
IMAGE_QUESTION = "Which scholarships can I apply for?"
STEP = 60.0  # s: one media message to its reply (webhook, media engines, context, AI, sender)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UNREADABLE = ("could not be read", "couldn't read", "could not open", "no pude")


# ---------------------------------------------------------------------------------- media


def voice_wav(folder: Path) -> Path:
    """The spoken question, 48 kHz mono, with silence around it: Chromium's fake microphone loops
    the file, so the recording starts and ends in silence."""
    spoken, padded = folder / "question.wav", folder / "question-48k.wav"
    subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(spoken), VOICE_QUESTION], check=True
    )
    command = ["ffmpeg", "-loglevel", "error", "-y", "-i", str(spoken)]
    command += ["-af", "adelay=400:all=1,apad=pad_dur=2", "-ar", "48000", "-ac", "1", str(padded)]
    subprocess.run(command, check=True)
    return padded


def wav_seconds(path: Path) -> float:
    import wave

    with wave.open(str(path)) as wav:
        return wav.getnframes() / wav.getframerate()


# ---------------------------------------------------------------------------------- helpers


def _get(url: str, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.loads(response.read() or b"null")


def _logs(stack: DevStack, *services: str, lines: int = 25) -> str:
    """The last `lines` lines of each service's log, for a failure message."""
    parts = []
    for service in services:
        path = stack.run_dir / "logs" / f"{service}.log"
        text = path.read_text(errors="replace") if path.exists() else "(no log)"
        parts.append(f"--- {service}.log\n" + "\n".join(text.splitlines()[-lines:]))
    return "\n".join(parts)


def _conversation(stack: DevStack, wa_id: str) -> dict[str, Any]:
    business = _get(f"{stack.simulator_url}/_sim/config")["phone_number_id"]
    key = urllib.parse.quote(f"{business}:{wa_id}", safe="")
    headers = {"x-api-key": stack.api_key("context")}
    found: dict[str, Any] = _get(f"{stack.service_url('context')}/conversations/{key}", headers)
    return found


def _history_text(stack: DevStack, wa_id: str) -> str:
    """Everything the context service stored for the conversation (messages, media analyses)."""
    return json.dumps(_conversation(stack, wa_id)).lower()


def _answered_or_gap(reply: str, answered: bool, heard: bool, what: str) -> None:
    """Fail unless the media was read (`heard`) and the reply answers from its content."""
    assert heard, f"{what} was not read"
    assert answered, f"{what} was not answered from its content: {reply!r}"


class Chat:
    """The web chat page of one customer."""

    def __init__(self, page: Any, stack: DevStack, wa_id: str) -> None:
        self.page, self.stack, self.wa_id = page, stack, wa_id

    def replies(self) -> list[str]:
        texts = self.page.locator(".row.out .text").all_inner_texts()
        return [str(t) for t in texts]

    def next_reply(self, before: int, what: str, services: tuple[str, ...]) -> str:
        """The first business text bubble after the `before` ones, within STEP seconds."""
        try:
            replies = eventually(
                lambda: (found := self.replies()) and len(found) > before and found,
                f"the bot's answer to {what}",
                STEP,
            )
        except AssertionError as error:
            raise AssertionError(f"{error}\n{_logs(self.stack, *services)}") from None
        return str(replies[before])

    def choose_if_asked(self, reply: str, title: str) -> str:
        """When the bot answered with a clarifying question (reply buttons: the calendar has
        first-year and transfer fall deadlines), tap `title`; the answer that follows."""
        buttons = self.page.locator(".row.out").last.locator(".buttons button")
        if not buttons.count():
            return reply
        assert title in buttons.all_inner_texts(), (reply, buttons.all_inner_texts())
        before = len(self.replies())
        buttons.filter(has_text=title).click()
        return self.next_reply(before, f"the {title!r} button", PIPELINE)

    def attach(self, picker: str, name: str, mime: str, data: bytes) -> None:
        self.page.click("#attach")
        with self.page.expect_file_chooser() as chooser:
            self.page.click(f"[data-pick='{picker}']")
        chooser.value.set_files(files=[{"name": name, "mimeType": mime, "buffer": data}])


# ---------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media-chat")


@pytest.fixture(scope="module")
def question_wav(media_dir: Path) -> Path:
    return voice_wav(media_dir)


@pytest.fixture(scope="module")
def indexed_stack(stack: DevStack) -> DevStack:
    wait_for_index(stack)
    return stack


@pytest.fixture(scope="module")
def browser(question_wav: Path) -> Iterator[Any]:
    """Headless Chromium whose fake microphone plays the spoken question."""
    from playwright.sync_api import sync_playwright

    args = [*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={question_wav}"]
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        yield launched
        launched.close()


def _open_chat(browser: Any, stack: DevStack, wa_id: str) -> Iterator[Chat]:
    context = browser.new_context(viewport={"width": 420, "height": 860}, locale="en-US")
    context.grant_permissions(["microphone"], origin=stack.simulator_url)
    context.add_init_script(
        f"localStorage.setItem('sim.number', '{wa_id}');"
        "localStorage.setItem('sim.name', 'Sam Carter');"
    )
    page = context.new_page()
    page.goto(stack.simulator_url + "/")
    page.wait_for_selector("body[data-live='1']")
    yield Chat(page, stack, wa_id)
    context.close()


@pytest.fixture
def voice_chat(browser: Any, indexed_stack: DevStack) -> Iterator[Chat]:
    yield from _open_chat(browser, indexed_stack, "15551238801")


@pytest.fixture
def image_chat(browser: Any, indexed_stack: DevStack) -> Iterator[Chat]:
    yield from _open_chat(browser, indexed_stack, "15551238802")


@pytest.fixture
def document_chat(browser: Any, indexed_stack: DevStack) -> Iterator[Chat]:
    yield from _open_chat(browser, indexed_stack, "15551238803")


# ---------------------------------------------------------------------------------- tests

PIPELINE = ("simulator", "ingestion", "media", "context", "ai_processing")


def test_recorded_voice_note_is_transcribed_and_answered(
    voice_chat: Chat, question_wav: Path
) -> None:
    from playwright.sync_api import expect

    page = voice_chat.page
    mic = page.locator("#mic")
    mic.click()
    expect(mic).to_have_attribute("aria-pressed", "true")
    page.wait_for_timeout(int(wav_seconds(question_wav) * 1000))
    mic.click()
    expect(mic).to_have_attribute("aria-pressed", "false")

    note = page.locator(".row.in audio")
    expect(note).to_have_count(1, timeout=10_000)
    requests = _get(f"{voice_chat.stack.simulator_url}/_sim/chat?wa_id={voice_chat.wa_id}")
    audio = requests["messages"][-1]["payload"]["audio"]
    # Delivered as WhatsApp delivers a voice note, whatever the browser recorded.
    assert audio["voice"] is True and audio["mime_type"] == "audio/ogg; codecs=opus"

    reply = voice_chat.next_reply(0, "the voice note", PIPELINE)
    reply = voice_chat.choose_if_asked(reply, "Undergraduate")
    conversation = _conversation(voice_chat.stack, voice_chat.wa_id)
    print("bot:", reply, "\nstored:", json.dumps(conversation)[:3000])
    history = json.dumps(conversation).lower()
    heard = "fall application deadline" in history
    assert "application deadline" in history, history[:3000]  # pocketsphinx heard the question
    answered = "Regular Decision" in reply and "February 1, 2027" in reply
    _answered_or_gap(reply, answered, heard, "the voice note")


def test_image_of_printed_question_is_read_and_answered(image_chat: Chat) -> None:
    image_chat.attach("image", "question.png", "image/png", text_image([IMAGE_QUESTION]))
    from playwright.sync_api import expect

    expect(image_chat.page.locator(".row.in img")).to_have_count(1, timeout=10_000)

    reply = image_chat.next_reply(0, "the image", PIPELINE)
    history = _history_text(image_chat.stack, image_chat.wa_id)
    print("bot:", reply, "\nstored:", history[:3000])
    # tesseract read the printed question (it may read the lone "I" as "|")
    heard = "which scholarships can" in history and "apply for" in history
    assert heard, history[:3000]
    answered = "scholarships-and-aid.md" in reply and "scholarship" in reply.lower()
    _answered_or_gap(reply, answered, heard, "the image")


DOCUMENTS = [
    (
        "questions.pdf",
        "application/pdf",
        lambda: pdf_bytes([[VOICE_QUESTION]]),
        "fall application deadline",
        lambda reply: "Regular Decision" in reply and "February 1, 2027" in reply,
    ),
    (
        "aid.docx",
        DOCX,
        lambda: docx_bytes("Financial aid", [IMAGE_QUESTION]),
        "which scholarships can i apply for",
        lambda reply: "scholarships-and-aid.md" in reply,
    ),
    (
        "costs.xlsx",
        XLSX,
        # extracted as "Questions / Question: How much is tuition per year?" (sheet, header: cell)
        lambda: xlsx_bytes("Questions", [["Question"], ["How much is tuition per year?"]]),
        "how much is tuition per year",
        lambda reply: "tuition-and-fees.md" in reply and "$" in reply,
    ),
]


def test_pdf_docx_and_xlsx_reach_the_ai_as_text(document_chat: Chat) -> None:
    outcomes: list[tuple[str, str]] = []
    for name, mime, make, stored, answered in DOCUMENTS:
        before = len(document_chat.replies())
        document_chat.attach("document", name, mime, make())
        reply = document_chat.next_reply(before, name, PIPELINE)
        reply = document_chat.choose_if_asked(reply, "Undergraduate")
        print(f"bot ({name}):", reply)
        assert not any(phrase in reply.lower() for phrase in UNREADABLE), (name, reply)
        history = _history_text(document_chat.stack, document_chat.wa_id)
        assert stored in history, (name, history[:3000])
        if answered is not None and not answered(reply):
            outcomes.append((name, reply))
    failed = [f"{name}: {reply!r}" for name, reply in outcomes]
    assert not failed, "documents not answered from their text:\n" + "\n".join(failed)
