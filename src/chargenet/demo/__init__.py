"""The demo city: a seeded world built from the seeds, and its activity."""
