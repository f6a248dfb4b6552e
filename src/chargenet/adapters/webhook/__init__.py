"""Operators' own channels: orders and notices as signed webhooks (docs/supervision.md)."""
