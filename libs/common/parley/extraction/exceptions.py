"""Errors of text extraction, in the `parley.errors` tree."""

from __future__ import annotations

from parley.errors import InvalidInput


class DocumentRejected(InvalidInput):
    """A document cannot be read as stored (unsupported type, broken file, too large, empty).

    Permanent: retrying the same bytes gives the same answer."""

    code = "document_rejected"


class UnsupportedDocument(DocumentRejected):
    code = "unsupported_document"
