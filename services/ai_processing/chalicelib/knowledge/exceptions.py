"""Errors of the knowledge-base manager, in the `parley.errors` tree."""

from __future__ import annotations

from parley.errors import Conflict, InvalidInput


class DocumentRejected(InvalidInput):
    """A document cannot be indexed as stored (unsupported type, broken file, too large, empty).

    Permanent: it is recorded in the index manifest's `errors` with this reason and retried only
    when the document changes."""

    code = "document_rejected"


class UnsupportedDocument(DocumentRejected):
    code = "unsupported_document"


class IndexConflict(Conflict):
    """Another indexing run published a version first; this run is redone on top of it."""

    code = "index_conflict"
