"""WhatsApp's limits on what can be sent (reference §2), checked before anything is sent.

A violation raises `InvalidInput` (permanent: the job is parked in the DLQ) whose message names the
limit, e.g. "reply buttons: at most 3 buttons, got 4".
"""

from __future__ import annotations

from collections.abc import Iterable

from parley.errors import InvalidInput
from parley.payloads import Button, ListSection, MediaRef

BODY_MAX = 1024
BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
LIST_BUTTON_MAX = 20
LIST_SECTIONS_MAX = 10
LIST_ROWS_MAX = 10
SECTION_TITLE_MAX = 24
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
ROW_ID_MAX = 200
CAPTION_MAX = 1024
FILENAME_MAX = 240
NO_CAPTION = ("audio", "sticker")


def fail(what: str, limit: str, got: object) -> None:
    raise InvalidInput(f"{what}: {limit}, got {got}", detail={"limit": limit})


def check_text(what: str, value: str | None, maximum: int, *, required: bool = True) -> None:
    if value is None or value == "":
        if required:
            fail(what, "is required", "nothing")
        return
    if len(value) > maximum:
        fail(what, f"at most {maximum} characters", len(value))


def check_unique(what: str, values: Iterable[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            fail(what, "must be unique", repr(value))
        seen.add(value)


def check_buttons(body: str | None, buttons: list[Button]) -> None:
    """Reply buttons: 1-3, titles <= 20 characters and unique, ids <= 256 and unique."""
    check_text("reply buttons: body text", body, BODY_MAX)
    if not 1 <= len(buttons) <= BUTTONS_MAX:
        fail("reply buttons", f"1 to {BUTTONS_MAX} buttons", len(buttons))
    for button in buttons:
        check_text("reply buttons: button title", button.title, BUTTON_TITLE_MAX)
        check_text("reply buttons: button id", button.id, BUTTON_ID_MAX)
    check_unique("reply buttons: button titles", (b.title for b in buttons))
    check_unique("reply buttons: button ids", (b.id for b in buttons))


def check_list(body: str | None, label: str | None, sections: list[ListSection]) -> None:
    """List message: <= 10 sections, <= 10 rows in total, and the length limits of each part."""
    check_text("list: body text", body, BODY_MAX)
    check_text("list: button label", label, LIST_BUTTON_MAX)
    if not 1 <= len(sections) <= LIST_SECTIONS_MAX:
        fail("list", f"1 to {LIST_SECTIONS_MAX} sections", len(sections))
    rows = [row for section in sections for row in section.rows]
    if not 1 <= len(rows) <= LIST_ROWS_MAX:
        fail("list", f"1 to {LIST_ROWS_MAX} rows in total", len(rows))
    for section in sections:
        titled = len(sections) > 1
        check_text("list: section title", section.title, SECTION_TITLE_MAX, required=titled)
        if not section.rows:
            fail("list: section rows", "at least 1 row per section", 0)
    for row in rows:
        check_text("list: row title", row.title, ROW_TITLE_MAX)
        check_text("list: row description", row.description, ROW_DESCRIPTION_MAX, required=False)
        check_text("list: row id", row.id, ROW_ID_MAX)
    check_unique("list: row ids", (row.id for row in rows))


def check_media(kind: str | None, media: MediaRef | None) -> None:
    """Media: a kind, exactly one of id or http(s) link, captions only where WhatsApp shows them."""
    if kind is None or media is None:
        fail("media", "media_kind and media are required", "nothing")
        return
    if (media.media_id is None) == (media.url is None):
        fail(f"media {kind}", "exactly one of media_id or url", "both" if media.url else "neither")
    if media.url is not None and not media.url.startswith(("https://", "http://")):
        fail(f"media {kind}: url", "an http(s) link", repr(media.url[:40]))
    if kind in NO_CAPTION and media.caption:
        fail(f"media {kind}: caption", f"not allowed on {kind}", "a caption")
    check_text(f"media {kind}: caption", media.caption, CAPTION_MAX, required=False)
    if kind == "document":
        check_text("media document: filename", media.filename, FILENAME_MAX, required=False)
