"""``--time-limit``: a watchdog thread in each rank that ends the job when time is up.

No wasm code is interrupted (no epoch interruption: the machine code and its cache key stay
the same, and compute kernels pay nothing). The guest runs on the rank's main thread inside a
ctypes call, which releases the GIL, so this thread wakes at the deadline whether the guest is
computing or blocked in the host MPI. It prints where the rank is (the bridge records the MPI
function it serves), waits a moment so that every rank's line gets out, then ends the process
with :data:`~wasmpi.errors.TimeLimitReached.exit_code`; mpiexec then ends the rest of the job.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable

from .errors import TimeLimitReached

#: Between a rank's report and its end: the first rank to end makes mpiexec kill the others,
#: which must have printed their line by then (all ranks share one deadline; a loaded node
#: wakes their watchdog threads late).
GRACE = 2.0


def seconds(limit: float) -> str:
    return f"{limit:g} s"


class Watchdog:
    """Ends this process at ``deadline`` (time.time()) with a line saying where it was.

    ``where``, ``current`` and ``idle`` are read when it fires: the prefix of the line (e.g.
    ``wasmpi: rank 1``), the MPI call the rank is in (None when it is in none), and what the
    rank does then: starting up until the guest runs, then computing.
    """

    def __init__(self, limit: float, deadline: float) -> None:
        self.limit = limit
        self.deadline = deadline
        self.where = "wasmpi"
        self.current: Callable[[], str | None] = lambda: None
        self.idle = "while starting up"
        #: seconds the job has spent paused so far (`wasmpi pause`): they do not count
        self.paused: Callable[[], float] = lambda: 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="wasmpi-time-limit",
                                        daemon=True)

    def start(self) -> Watchdog:
        self._thread.start()
        return self

    def guest_started(self) -> None:
        self.idle = "while computing"

    def stop(self) -> None:
        """The rank is over: it must end with its own status, whatever time it is."""
        self._done.set()

    def _watch(self) -> None:
        # a paused rank's thread is stopped with it and wakes late: it then asks how long the
        # job was paused (recorded before the job was resumed) and moves its deadline as far
        paused = 0.0
        while True:
            if self._done.wait(max(0.0, self.deadline + paused - time.time())):
                return
            try:
                now_paused = self.paused()
            except Exception:  # the registry is unreadable: count wall time
                now_paused = paused
            if now_paused <= paused or time.time() >= self.deadline + now_paused:
                break
            paused = now_paused
        call = self.current()
        state = f"in {call}" if call else self.idle
        if self._done.is_set():
            return
        sys.stderr.write(f"{self.where}: time limit ({seconds(self.limit)}) reached {state}\n")
        sys.stderr.flush()
        time.sleep(GRACE)
        if not self._done.is_set():
            os._exit(TimeLimitReached.exit_code)
