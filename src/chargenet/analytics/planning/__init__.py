"""Planning computations: plan vs actual, ratios, coverage rules, road spacing, siting and
the monthly progress report. Pure: inputs are plain records, outputs are dataclasses."""
