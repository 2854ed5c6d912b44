"""Knowledge base: extraction of every supported type from real files, chunking, languages."""

from __future__ import annotations

import itertools

import pytest
from test_knowledge_support import HTML, docx_bytes, pdf_bytes, xlsx_bytes

from chalicelib.knowledge.chunking import chunk_document, pack, tail
from chalicelib.knowledge.documents import Block, ExtractedDocument
from chalicelib.knowledge.exceptions import DocumentRejected, UnsupportedDocument
from chalicelib.knowledge.extract import extract
from chalicelib.knowledge.language import detect_language, stems
from chalicelib.knowledge.query import Lexicon, match_expression

MARKDOWN = b"""# Housing Guide

Intro paragraph about **housing** with a [link](https://example.org).

## Residence halls

| Hall | Price |
|---|---|
| Riverside | $5,600 |

### Quiet floors

Quiet hours start at 10 p.m.

## Dining
Meal plans are required.
"""


def texts(document: ExtractedDocument) -> list[tuple[tuple[str, ...], str]]:
    return [(block.headings, block.text) for block in document.blocks]


def test_markdown_keeps_headings_as_the_section_path_and_strips_markup() -> None:
    document = extract("demo/housing.md", MARKDOWN)
    assert document.title == "Housing Guide"
    assert texts(document) == [
        (("Housing Guide",), "Intro paragraph about housing with a link."),
        (("Housing Guide", "Residence halls"), "Hall | Price\nRiverside | $5,600"),
        (("Housing Guide", "Residence halls", "Quiet floors"), "Quiet hours start at 10 p.m."),
        (("Housing Guide", "Dining"), "Meal plans are required."),
    ]


def test_text_is_split_into_paragraphs_and_titled_after_the_file() -> None:
    document = extract("notes/bus-schedule.txt", b"First line.\n\nSecond\nparagraph.")
    assert document.title == "Bus schedule"
    assert texts(document) == [((), "First line."), ((), "Second\nparagraph.")]


def test_html_drops_scripts_and_styles_and_keeps_headings() -> None:
    document = extract("web/parking.html", HTML)
    assert document.title == "Parking on campus"
    joined = " ".join(block.text for block in document.blocks)
    assert "scriptword" not in joined and "color" not in joined
    assert (("Parking on campus", "Permits"), "Students buy a zebrapermit online.") in texts(
        document
    )
    assert (("Parking on campus", "Permits"), "Lot | Price\nNorth | $90") in texts(document)


def test_csv_rows_become_header_value_text() -> None:
    document = extract("fees/extras.csv", b"item;price\nbus pass;45\nlocker;10\n")
    assert texts(document) == [
        (("Extras",), "item: bus pass; price: 45"),
        (("Extras",), "item: locker; price: 10"),
    ]


def test_xlsx_sheets_become_sections_of_rows() -> None:
    data = xlsx_bytes({"Fees": [["Item", "Cost"], ["Gym", 120], [None, None]], "Dates": [["Due"]]})
    document = extract("fees/sheet.xlsx", data)
    assert texts(document) == [(("Fees",), "Item: Gym; Cost: 120"), (("Dates",), "Due")]


def test_docx_headings_paragraphs_and_tables() -> None:
    data = docx_bytes(
        "Library hours",
        {"Opening times": ["The library opens at 7 a.m."], "Borrowing": ["Up to 30 books."]},
        [["Day", "Hours"], ["Saturday", "9-5"]],
    )
    document = extract("guides/library.docx", data)
    assert document.title == "Library hours"
    assert texts(document) == [
        (("Opening times",), "The library opens at 7 a.m."),
        (("Borrowing",), "Up to 30 books."),
        (("Borrowing",), "Day: Saturday; Hours: 9-5"),
    ]


def test_pdf_text_by_page_with_its_metadata_title() -> None:
    data = pdf_bytes(
        ["Shuttle (route 7) every 20 minutes.", "Night service ends at midnight."], "Shuttle"
    )
    document = extract("guides/shuttle.pdf", data)
    assert document.title == "Shuttle"
    [block] = document.blocks
    assert block.headings == ("Page 1",)
    assert block.text.splitlines() == [
        "Shuttle (route 7) every 20 minutes.",
        "Night service ends at midnight.",
    ]


@pytest.mark.parametrize(
    ("key", "data", "reason"),
    [
        ("a/broken.pdf", b"%PDF-1.4 garbage", "cannot read the PDF file"),
        ("a/broken.docx", b"not a zip", "cannot read the DOCX file"),
        ("a/broken.xlsx", b"PK\x03\x04junk", "cannot read the XLSX file"),
        ("a/empty.md", b"\n\n  \n", "no text found in the MD file"),
        ("a/blank.pdf", pdf_bytes([]), "no text found in the PDF file"),
    ],
)
def test_a_broken_file_is_rejected_with_its_reason(key: str, data: bytes, reason: str) -> None:
    with pytest.raises(DocumentRejected) as caught:
        extract(key, data)
    assert reason in caught.value.message
    assert caught.value.retryable is False


def test_an_unsupported_type_is_rejected_by_name() -> None:
    with pytest.raises(UnsupportedDocument, match=r"unsupported file type \.png"):
        extract("a/logo.png", b"\x89PNG")


def test_chunks_keep_key_title_and_section_and_overlap_inside_a_section() -> None:
    sentences = [f"Sentence number {n} talks about topic {n}." for n in range(60)]
    paragraphs = [" ".join(sentences[i : i + 5]) for i in range(0, 60, 5)]
    document = ExtractedDocument(
        title="Guide",
        blocks=[Block(("Guide", "Long part"), p) for p in paragraphs]
        + [Block(("Guide", "Short part"), "Just this.")],
    )
    chunks = chunk_document("demo/guide.md", document, target=400, overlap=100)
    long_part = [c for c in chunks if c.section == "Long part"]
    assert len(long_part) > 3
    assert all(len(c.text) <= 400 + 100 for c in long_part)
    for before, after in itertools.pairwise(long_part):
        head = after.text[:60]
        assert head in before.text, "the next chunk starts with the end of the previous one"
    assert chunks[-1].section == "Short part" and chunks[-1].text == "Just this."
    assert {(c.document, c.title) for c in chunks} == {("demo/guide.md", "Guide")}
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    everything = " ".join(c.text for c in long_part)
    assert all(s in everything for s in sentences)


def test_a_paragraph_longer_than_the_target_is_split_at_sentences() -> None:
    long = " ".join(f"Clause {n} ends here." for n in range(100))
    document = ExtractedDocument(title="T", blocks=[Block((), long)])
    result = chunk_document("k.txt", document, target=200, overlap=50)
    assert len(result) > 10
    assert all(len(c.text) <= 250 for c in result)
    assert all(c.text.endswith(".") for c in result)


def test_paragraphs_are_packed_up_to_the_target() -> None:
    assert pack([["aaaa"], ["bbbb"], ["cccc"]], 10, 0) == ["aaaa\nbbbb", "cccc"]


def test_overlap_tail_starts_at_a_word() -> None:
    assert tail("alpha beta gamma delta", 12) == "gamma delta"
    assert tail("short", 50) == "short"
    assert tail("anything", 0) == ""


def test_language_detection_and_stemming_in_english_and_spanish() -> None:
    assert detect_language("¿Cuánto cuesta la matrícula?") == "es"
    assert detect_language("When is the fall application deadline?") == "en"
    assert detect_language("MBA 2027", default="es") == "es"
    assert stems("application deadlines", "en") == ["applic", "deadlin"]
    assert stems("la matrícula cuesta", "es") == stems("matricula cuesta", "es")
    assert Lexicon().analyse("¿Cuánto cuesta la matrícula?").stems["es"] == ["cuest", "matricul"]


def test_the_query_is_matched_in_both_languages() -> None:
    assert match_expression("When is the deadline?") == 'en : ("deadlin") OR es : ("deadlin")'
    assert match_expression("   ") == ""
