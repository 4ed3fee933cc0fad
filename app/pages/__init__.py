"""Server-rendered web pages: the same services as the JSON API, a session cookie instead of a
bearer token, CSRF on every form, and every asset served by PartnerMap itself."""
