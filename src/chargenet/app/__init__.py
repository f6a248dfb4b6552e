"""Use cases: the event path and the questions asked of state. Talks to the world only
through the Protocols in `ports.py`."""
