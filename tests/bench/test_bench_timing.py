"""bench.timing: the CPU clocks the benchmarks read."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.timing import process_cpu_ns

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux CPU clocks")


@linux_only
def test_a_process_cpu_clock_reads_this_process_as_process_time_does():
    before = time.process_time_ns()
    read = process_cpu_ns(os.getpid())
    after = time.process_time_ns()
    assert read is not None and before <= read <= after


@linux_only
def test_a_process_cpu_clock_counts_another_process_and_its_exited_threads():
    # The child burns ~0.3 s of CPU in a thread that has exited before it is read, then waits.
    burn = (
        "import threading, time, sys\n"
        "def spin():\n"
        "    t = time.thread_time()\n"
        "    while time.thread_time() - t < 0.3: pass\n"
        "th = threading.Thread(target=spin); th.start(); th.join()\n"
        "print('ready', flush=True); sys.stdin.readline()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", burn], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        ns = process_cpu_ns(child.pid)
        fields = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    finally:
        assert child.stdin is not None
        child.stdin.write("\n")
        child.stdin.flush()
        child.wait(timeout=10)
    assert ns is not None and ns >= 0.3e9  # the exited thread's CPU is in it
    assert abs(ns / 1e9 - ticks_s) < 0.05  # as /proc/<pid>/stat counts it, to its ticks


def test_a_process_that_is_gone_has_no_cpu_clock():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=10)
    assert process_cpu_ns(child.pid) is None
