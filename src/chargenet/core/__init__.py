"""The domain: plain, synchronous, deterministic Python. No I/O, no frameworks, no clocks."""
