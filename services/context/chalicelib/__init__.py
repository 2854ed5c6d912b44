"""The context service's own code."""
