"""The Marketing API v3 surface: routes, request parsing, handlers and response shapes."""
