"""Pure computations over state snapshots (uptime, coverage, targets): no I/O."""
