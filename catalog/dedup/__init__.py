"""Deduplication: blocking keys, explicit pair rules, and union records built incrementally from them."""
