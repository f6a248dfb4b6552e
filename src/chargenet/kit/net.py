"""Sockets."""

from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on `host` just now: for a server that must be told its port before it
    starts (another process, settings that name their own URL, a server restarted on the
    same port). Another program may take it in between; a server that can bind port 0 and
    say which port it got has no such race, and should."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])
