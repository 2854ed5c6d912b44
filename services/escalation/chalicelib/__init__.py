"""The escalation service's own code."""
