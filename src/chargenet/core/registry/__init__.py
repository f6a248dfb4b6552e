"""Operators, stations, chargers, connectors and swap stations."""
