"""SRU (Search/Retrieve via URL) 1.1, 1.2 and 2.0 for copy cataloguing: the CQL parser, the
translation of CQL to the catalogue's search, the record schemas, explain, and the server."""
