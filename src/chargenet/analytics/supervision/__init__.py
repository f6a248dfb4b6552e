"""Supervision's computations, pure: uptime and what counts for it (statusclass, timeline,
hours), zombie piles, alarm rules, scorecards, swap stations' figures (docs/supervision.md)."""
