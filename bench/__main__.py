"""``make bench``: every benchmark in one run, each bounded in time, then docs/performance.md.

Each benchmark runs in its own process group (its servers included) with a time limit, so one
that hangs is stopped and reported without losing the others. Prints one
``RESULT <name>=<value>`` line per figure as it arrives, and a ``MISSING <benchmark>: <reason>``
line for a benchmark that could not run (a tool or a module not there yet) or failed.

    python -m bench                 # all of them (under 15 minutes)
    python -m bench fetch memory    # only some; the others show as "not run" in the report
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from bench.report import figures_block, write_report
from bench.servers import REPO_ROOT, BenchmarkUnavailable

REPORT = REPO_ROOT / "docs" / "performance.md"
TOTAL_BUDGET_S = 900.0
MARK = "BENCH-JSON "
UNAVAILABLE_EXIT = 3


@dataclass(frozen=True)
class Benchmark:
    """A benchmark module (with ``run() -> dict[str, float]``) and its time limit."""

    name: str
    module: str
    limit_s: float


BENCHMARKS = (
    Benchmark("fetch", "bench.fetch", 150),
    Benchmark("fetch_pg", "bench.fetch_pg", 150),
    Benchmark("storm", "bench.refresh_storm", 90),
    Benchmark("inventory_100k", "bench.inventory_scale", 240),
    Benchmark("connect", "bench.connect", 60),
    Benchmark("page", "bench.page", 150),
    Benchmark("page_100k", "bench.page_100k", 240),
    Benchmark("inventory", "bench.inventory", 240),
    Benchmark("memory", "bench.memory", 300),
)


def _child(module: str) -> int:
    """Run one benchmark in this process; print its figures as one JSON line."""
    try:
        figures = importlib.import_module(module).run()
    except BenchmarkUnavailable as exc:
        print(str(exc), file=sys.stderr)
        return UNAVAILABLE_EXIT
    print(MARK + json.dumps(figures), flush=True)
    return 0


def run_one(bench: Benchmark, limit_s: float) -> dict[str, float]:
    """The figures of one benchmark, run in a child process group stopped after ``limit_s``."""
    if importlib.util.find_spec(bench.module) is None:
        raise BenchmarkUnavailable(f"{bench.module} does not exist yet")
    argv = [sys.executable, "-m", "bench", "--child", bench.module]
    child = subprocess.Popen(
        argv, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        out, err = child.communicate(timeout=limit_s)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        raise RuntimeError(f"stopped after its time limit of {limit_s:.0f} s") from None
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
    if child.returncode == UNAVAILABLE_EXIT:
        raise BenchmarkUnavailable(err.strip().splitlines()[-1])
    line = next((x for x in out.splitlines() if x.startswith(MARK)), None)
    if child.returncode != 0 or line is None:
        tail = err.strip().splitlines()[-1] if err.strip() else f"exit status {child.returncode}"
        raise RuntimeError(tail)
    figures: dict[str, float] = json.loads(line[len(MARK) :])
    return figures


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks, print RESULT lines, rewrite the report."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args.child)
    chosen = [b for b in BENCHMARKS if not args.names or b.name in args.names]
    load_before = os.getloadavg()
    started = time.monotonic()
    results: dict[str, float] = {}
    missing: dict[str, str] = {}
    for bench in chosen:
        left = TOTAL_BUDGET_S - (time.monotonic() - started)
        if left < 20:
            missing[bench.name] = "not run: the run's time budget was spent"
            print(f"MISSING {bench.name}: {missing[bench.name]}", flush=True)
            continue
        print(f"# {bench.name} …", file=sys.stderr, flush=True)
        try:
            figures = run_one(bench, min(bench.limit_s, left))
        except (BenchmarkUnavailable, RuntimeError) as exc:
            missing[bench.name] = str(exc)
            print(f"MISSING {bench.name}: {exc}", flush=True)
            continue
        for name, value in figures.items():
            results[name] = value
            print(f"RESULT {name}={value:g}", flush=True)
    elapsed = time.monotonic() - started
    write_report(REPORT, figures_block(results, missing, load_before, elapsed))
    print(f"# wrote {REPORT.relative_to(REPO_ROOT)} ({elapsed:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
