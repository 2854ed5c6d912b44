"""The ai_processing service's own code."""
