"""Errors of the knowledge-base manager, in the `parley.errors` tree.

`DocumentRejected` (a document cannot be indexed as stored: it is recorded in the index manifest's
`errors` with the reason and retried only when the document changes) comes from the shared
`parley.extraction`."""

from __future__ import annotations

from parley.errors import Conflict
from parley.extraction.exceptions import DocumentRejected, UnsupportedDocument

__all__ = ["DocumentRejected", "IndexConflict", "UnsupportedDocument"]


class IndexConflict(Conflict):
    """Another indexing run published a version first; this run is redone on top of it."""

    code = "index_conflict"
