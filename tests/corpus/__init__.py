"""Builders of bad inputs for tests/test_corpus.py: each makes files or frames in a temporary folder."""
