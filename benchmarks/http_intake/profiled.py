"""`chargenet serve` under cProfile, every thread included (the event loop's and the
workers' that commit), the stats written when the server stops (SIGINT). Each thread is
timed by its own CPU time (time.thread_time), not the wall clock: on a loaded machine the
wall clock charges a function for the time the thread waited for a core or the database.

    python -m benchmarks.http_intake.profiled OUT.prof serve --port …
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import threading
import time
from typing import Any

_profiles: list[cProfile.Profile] = []


def _start_thread_profiler(*_: Any) -> None:
    # Called once at the start of each new thread (threading.setprofile): replace this hook
    # with a profiler of the thread's own.
    profile = cProfile.Profile(time.thread_time)
    _profiles.append(profile)
    profile.enable()


def main() -> None:
    out, args = sys.argv[1], sys.argv[2:]
    threading.setprofile(_start_thread_profiler)
    main_profile = cProfile.Profile(time.thread_time)
    sys.argv = ["chargenet", *args]
    from chargenet.entrypoints.cli.main import app

    main_profile.enable()
    try:
        app(prog_name="chargenet", standalone_mode=False)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        main_profile.disable()
        stats = pstats.Stats(main_profile)
        for profile in _profiles:
            try:
                stats.add(profile)
            except TypeError:  # a thread that never ran a profiled call
                continue
        stats.dump_stats(out)


if __name__ == "__main__":
    main()
