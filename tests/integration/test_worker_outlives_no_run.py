"""A rule worker process ends with the run that started it, however the run ended: one
killed outright (SIGKILL, the OOM killer) used to leave its workers waiting on their task
queue for ever."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

# A run's stand-in: starts one spawn worker as the run does (its start calls the real
# watch_parent), prints the worker's pid, then waits to be killed.
RUN = textwrap.dedent(
    """
    import multiprocessing, os, sys, time
    from concurrent.futures import ProcessPoolExecutor
    from auditor.evaluation import watch_parent

    if __name__ == "__main__":
        pool = ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=watch_parent,
            initargs=(0.1,),
        )
        print(pool.submit(os.getpid).result(), flush=True)
        time.sleep(600)
    """
)


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_a_worker_ends_soon_after_its_run_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "run.py"
    script.write_text(RUN)
    run = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    worker = 0
    try:
        assert run.stdout is not None
        worker = int(run.stdout.readline())
        assert alive(worker)
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
        deadline = time.monotonic() + 10
        while alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(worker), "the worker outlived its run"
    finally:
        run.kill()
        if worker and alive(worker):
            os.kill(worker, signal.SIGKILL)
