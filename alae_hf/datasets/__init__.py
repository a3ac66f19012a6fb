"""Procedural datasets whose generative factors are known (for training and measuring edits)."""
