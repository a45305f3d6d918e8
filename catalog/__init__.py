"""The catalogue: data model, text normalisation, MARC field mapping, holdings, storage.

This package depends on neither ``harvest`` nor ``api``.
"""
