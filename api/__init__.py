"""The interfaces: the HTTP application, its web pages, and the ``unioncat`` command line."""
