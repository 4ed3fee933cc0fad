"""Who is calling and what they may do: principals, the permission matrix, credentials, and the
HTTP guards around them (CORS for portals, rate limits, security headers)."""
