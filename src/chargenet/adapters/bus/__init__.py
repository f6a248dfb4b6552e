"""Event bus: stored events fanned out to live listeners (in-process; NATS JetStream later)."""
