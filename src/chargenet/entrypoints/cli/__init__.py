"""The `chargenet` command."""
