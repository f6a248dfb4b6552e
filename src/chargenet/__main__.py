"""`python -m chargenet`: the `chargenet` command."""

from chargenet.entrypoints.cli.main import app

app(prog_name="chargenet")
