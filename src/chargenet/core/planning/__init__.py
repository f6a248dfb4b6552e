"""Planning knowledge as data: metric and ratio definitions, coverage rules, parking-space
ratios and the policy packs that carry them (R03, R10–R16, R20–R25)."""
