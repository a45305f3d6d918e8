"""Getting records in: format readers, decompression, the ingest pipeline, OAI-PMH harvesting."""
