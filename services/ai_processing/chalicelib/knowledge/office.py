"""PDF, DOCX and XLSX extraction: moved to `parley.extraction.office`, re-exported here."""

from parley.extraction.office import MAX_XML_BYTES, docx, pdf, xlsx

__all__ = ["MAX_XML_BYTES", "docx", "pdf", "xlsx"]
