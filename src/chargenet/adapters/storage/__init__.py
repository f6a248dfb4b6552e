"""Durable event log and current-state tables (SQLite embedded, PostgreSQL scale-out)."""
