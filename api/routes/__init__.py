"""The API's resources, one router each, and the web pages; :func:`api.app.create_app` includes them."""
