"""The media service's own code."""
