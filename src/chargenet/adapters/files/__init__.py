"""File imports (CSV and JSON): registry, areas, statistics and targets. Formats are in
docs/import-formats.md."""
