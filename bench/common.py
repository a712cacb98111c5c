"""What every bench prints besides its own figures: the machine's load at its start and at its end.

A bench on a shared 2-core machine measures the machine as much as the code: the load average beside the
figures says how far they can be trusted (and which runs are comparable).
"""

from __future__ import annotations

import atexit
import os
import time


def load_line(when: str) -> str:
    """One line with the 1/5/15-minute load averages and the number of cores, e.g. for the log of a run."""
    one, five, fifteen = os.getloadavg()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    return f"machine load at {when} ({stamp}): {one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min), {os.cpu_count()} cores"


def print_load_at_start_and_end() -> None:
    """Print the load now and again when the process exits (also on sys.exit and on a failed assertion)."""
    print(load_line("start"), flush=True)
    atexit.register(lambda: print(load_line("end"), flush=True))
