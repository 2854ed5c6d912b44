"""The ingestion service's own code."""
