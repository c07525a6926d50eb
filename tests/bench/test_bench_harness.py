"""The benchmark harness cannot rot: each benchmark runs in a tiny configuration and answers
figures under the names the report expects (no timing is asserted; numbers live in bench/)."""

from __future__ import annotations

import math
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bench import connect, fetch, fetch_pg, inventory, inventory_scale, memory, page, page_100k
from bench.__main__ import BENCHMARKS, Benchmark, run_one
from bench.report import BEGIN, END, FLOORS, figures_block, write_report
from bench.servers import BenchmarkUnavailable
from bench.wrk import INSTALL_HINT
from tests.support.servers import PG_URL_ENV

pytestmark = pytest.mark.slow
HAS_WRK = shutil.which("wrk") is not None


def assert_figures(figures: dict[str, float], names: set[str]) -> None:
    assert set(figures) == names
    assert all(isinstance(v, float | int) and math.isfinite(v) and v >= 0 for v in figures.values())


def test_fetch_answers_throughput_ratio_and_latency_or_says_how_to_install_wrk() -> None:
    names = {"fetch_rps", "noop_rps", "fetch_ratio", "fetch_p50_ms", "fetch_p99_ms"}
    names |= {"fetch_cpu_us", "noop_cpu_us", "bare_rps", "bare_cpu_us", "bare_p50_ms"}
    names |= {"bare_p99_ms", "fetch_vs_bare", "health_vs_bare", "fetch_p99_vs_bare"}
    names |= {"bare_noop_rps"}
    if not HAS_WRK:
        with pytest.raises(BenchmarkUnavailable, match="apt-get install -y wrk"):
            fetch.run(duration_s=1, warmup_s=1)
        return
    figures = fetch.run(duration_s=1, warmup_s=1)
    assert_figures(figures, names)
    assert figures["fetch_rps"] > 0 and figures["noop_rps"] > 0 and figures["bare_rps"] > 0
    assert figures["fetch_vs_bare"] == round(figures["fetch_rps"] / figures["bare_rps"], 3)


def test_fetch_pg_compares_two_workers_with_the_bare_apps_two_or_says_what_is_missing() -> None:
    names = {"fetch_pg_rps", "bare_2w_rps", "fetch_vs_bare_pg", "fetch_pg_p50_ms"}
    names |= {"fetch_pg_p99_ms", "fetch_pg_cpu_us", "bare_2w_cpu_us"}
    if not HAS_WRK or not os.environ.get(PG_URL_ENV):
        with pytest.raises(BenchmarkUnavailable, match=r"wrk|OUTBOUND_TEST_DATABASE_URL"):
            fetch_pg.run(duration_s=1, warmup_s=1)
        return
    figures = fetch_pg.run(duration_s=1, warmup_s=1)
    assert_figures(figures, names)
    assert figures["fetch_pg_rps"] > 0 and figures["bare_2w_rps"] > 0


def test_inventory_100k_times_the_server_side_page_and_checks_its_answers() -> None:
    figures = inventory_scale.run(users=40, apps=2)
    names = {"inventory_100k_s", "inventory_100k_first_s", "inventory_100k_filter_s"}
    assert_figures(figures, names | {"inventory_100k_seed_s"})


def test_memory_answers_rss_idle_and_loaded_and_fetch_rate() -> None:
    if not HAS_WRK:
        with pytest.raises(BenchmarkUnavailable, match=INSTALL_HINT.split(":")[0]):
            memory.run(tokens=20, duration_s=1)
        return
    figures = memory.run(tokens=20, duration_s=1)
    assert_figures(figures, {"rss_idle_mb", "rss_100k_mb", "fetch_rps_100k"})
    assert figures["rss_idle_mb"] > 10  # a Python web server is never this small: /proc was read


def test_inventory_times_the_dashboard_and_the_sdk_loop_over_the_same_connections() -> None:
    figures = inventory.run(users=3, apps=2)
    assert_figures(figures, {"inventory_s", "inventory_sdk_s", "inventory_ratio"})


def test_connect_counts_completed_flows() -> None:
    figures = connect.run(duration_s=1, clients=1)
    assert_figures(figures, {"connect_flows_per_s"})
    assert figures["connect_flows_per_s"] > 0


def test_a_missing_benchmark_module_is_reported_not_fatal() -> None:
    with pytest.raises(BenchmarkUnavailable, match="does not exist yet"):
        run_one(Benchmark("ghost", "bench.no_such_benchmark", 10), 10)


def test_every_floor_names_a_figure_some_benchmark_measures() -> None:
    modules = {b.module for b in BENCHMARKS}
    assert {
        "bench.fetch",
        "bench.fetch_pg",
        "bench.inventory_scale",
        "bench.refresh_storm",
        "bench.inventory",
        "bench.memory",
        "bench.page",
        "bench.page_100k",
        "bench.connect",
    } <= modules
    assert {f.name for f in FLOORS} >= {"fetch_ratio", "inventory_s", "rss_100k_mb"}
    assert {f.name for f in FLOORS} >= {"fetch_vs_bare", "health_vs_bare", "fetch_vs_bare_pg"}
    assert {f.name for f in FLOORS} >= {"inventory_100k_s", "storm_p99_ms", "fetch_p99_vs_bare"}
    assert {f.name for f in FLOORS} >= {"page_interactive_s", "page_interactive_100k_s"}


def test_the_report_rewrites_only_its_block(tmp_path: Path) -> None:
    report = tmp_path / "performance.md"
    report.write_text(f"# Performance\n\nintro\n\n{BEGIN}\nold\n{END}\n\n## Notes\nkept\n")
    block = figures_block(
        {"fetch_ratio": 0.5, "rss_100k_mb": 120.0}, {"storm": "absent"}, (1, 1, 1), 3
    )
    write_report(report, block)
    text = report.read_text()
    assert "old" not in text and "intro" in text and "## Notes\nkept" in text
    assert "| `fetch_ratio` | 0.5 | >= 0.6 | **no** |" in text
    assert "| `rss_100k_mb` | 120 | <= 250 | yes |" in text
    assert "**storm**: absent" in text


@pytest.mark.e2e
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="CI installs chromium")
def test_page_times_the_tokens_page_full_and_empty() -> None:
    # Playwright's sync API refuses a thread where another sync session runs (the e2e suite's
    # session-scoped browser): the benchmark gets a thread of its own, as it has under `make bench`.
    with ThreadPoolExecutor(1) as pool:
        figures = pool.submit(page.run, users=3, apps=1).result()
    assert_figures(figures, {"page_interactive_s", "page_empty_s"})
    assert figures["page_interactive_s"] > 0 and figures["page_empty_s"] > 0


@pytest.mark.e2e
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="CI installs chromium")
def test_page_100k_times_a_filter_typed_on_the_server_side_page() -> None:
    # Small: 4 users × 2 apps; the filter keeps one user's 2 rows (checked on screen).
    with ThreadPoolExecutor(1) as pool:
        figures = pool.submit(page_100k.run, users=4, apps=2).result()
    assert_figures(figures, {"page_load_100k_s", "page_interactive_100k_s"})
    assert figures["page_interactive_100k_s"] > 0
