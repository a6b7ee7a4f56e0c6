"""Answers: top-k recommendations with explanation paths, similar items, one explanation."""
