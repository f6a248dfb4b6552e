"""The read API over HTTP (JSON, OpenAPI): areas, registry, live status, events."""
