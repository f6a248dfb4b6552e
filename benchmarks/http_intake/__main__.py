"""`python -m benchmarks.http_intake`: see run.py (the load processes are spawned, so
what they run lives in an importable module, not in __main__)."""

from benchmarks.http_intake.run import main

main()
