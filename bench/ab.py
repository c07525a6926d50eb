"""A/B of the fetch: brokers from several checkouts side by side in one run, with the bare app.

    git archive <commit> | tar -x -C /tmp/before       # the "before" tree
    python -m bench.ab /tmp/before .                   # ≈ 2 minutes; [--seconds 40]

Each tree's broker (SQLite, one worker, one fresh token) and the bare app (``bench/bare.py``)
are driven by wrk at 32 connections in 2 s slices, the order rotating every round
(``bench.fetch.alternate``), so load from elsewhere falls on all alike. Prints, per broker,
requests per second, server CPU µs per request (``/proc``: what moves least with the machine's
load) and the ratio to the bare app's token answer: the "before / after" of a change, measured
in one sitting (docs/performance.md).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from contextlib import ExitStack
from pathlib import Path

from bench.bare import TOKEN_PATH, start_bare
from bench.fetch import Load, alternate, checked, fetch_load, prepare
from bench.servers import BrokerProcess, start_broker
from bench.wrk import require_wrk, run_wrk


def _fetch(broker: BrokerProcess, body: str) -> Load:
    return Load(
        lambda c, s: fetch_load(broker, body, connections=c, duration_s=s), broker.process.pid
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__)
    parser.add_argument("trees", nargs="+", type=Path, help="checkouts whose brokers to compare")
    parser.add_argument("--seconds", type=float, default=40.0, help="load per server, in all")
    args = parser.parse_args()
    require_wrk()
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as tmp, ExitStack() as stack:
        bare = start_bare(Path(tmp) / "bare")
        stack.callback(bare.stop)
        loads: dict[str, Load] = {}
        body = ""
        for n, tree in enumerate(args.trees):
            broker = start_broker(Path(tmp) / f"broker{n}", tree=tree.resolve())
            stack.callback(broker.stop)
            body = prepare(broker)
            loads[f"{n}: {tree}"] = _fetch(broker, body)
        loads["bare"] = Load(
            lambda c, s: checked(
                run_wrk(
                    bare.url + TOKEN_PATH, connections=c, duration_s=s, method="POST", body=body
                ),
                "bare",
            ),
            bare.process.pid,
        )
        for load in loads.values():
            load.drive(4, 2.0)  # warm up
        tallies = alternate(loads, connections=32, total_s=args.seconds)
    base = tallies["bare"].rps
    print(f"load average {os.getloadavg()[0]:.2f}")
    for name, tally in tallies.items():
        vs = tally.rps / base if base else 0.0
        print(
            f"{name}: {tally.rps:,.0f} req/s, {tally.cpu_us:.1f} µs CPU/request, {vs:.3f} of bare"
        )


if __name__ == "__main__":
    main()
