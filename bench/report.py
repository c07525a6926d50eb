"""docs/performance.md: the floors, the machine, and the figures block ``make bench`` rewrites.

Only the text between ``BEGIN``/``END`` markers is generated; the method, the profiling notes and
the before/after records around it are written by people and kept as they are.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench.refresh_storm import PROVIDER_LATENCY_MS

BEGIN = "<!-- figures:begin (written by `make bench`; edit outside these markers) -->"
END = "<!-- figures:end -->"
PACKAGES = (
    *("fastapi", "starlette", "uvicorn", "uvloop", "httptools", "sqlalchemy", "pydantic"),
    *("streamlit", "playwright", "descope", "httpx"),
)


@dataclass(frozen=True)
class Floor:
    """A figure's acceptance bound (issue 8)."""

    name: str
    op: str  # ">=", "<=" or "=="
    bound: float

    def met(self, value: float) -> bool:
        """Whether ``value`` satisfies the bound."""
        if self.op == ">=":
            return value >= self.bound
        if self.op == "<=":
            return value <= self.bound
        return value == self.bound


FLOORS = (
    Floor("fetch_ratio", ">=", 0.6),
    Floor("fetch_p99_ms", "<=", 5),
    Floor("fetch_vs_bare", ">=", 0.6),
    Floor("health_vs_bare", ">=", 0.9),
    Floor("fetch_p99_vs_bare", "<=", 2),
    Floor("fetch_vs_bare_pg", ">=", 0.4),
    Floor("storm_provider_calls", "==", 1),
    Floor("storm_p99_ms", "<=", PROVIDER_LATENCY_MS + 500),
    Floor("inventory_ratio", ">=", 10),
    Floor("inventory_s", "<=", 10),
    Floor("inventory_100k_s", "<=", 10),
    Floor("rss_100k_mb", "<=", 250),
    Floor("page_interactive_s", "<=", 3),
    Floor("page_interactive_100k_s", "<=", 4),
)


def _run(argv: list[str]) -> str:
    if shutil.which(argv[0]) is None:
        return "not installed"
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    out = (done.stdout or done.stderr).strip().splitlines()
    return out[0] if out else "unknown"


def _meminfo_gib() -> str:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine(load_before: tuple[float, float, float]) -> list[str]:
    """Markdown bullet lines describing this machine and the software measured."""
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (absent)")
    commit = _run(["git", "rev-parse", "--short", "HEAD"])
    dirty = _run(["git", "status", "--porcelain", "--untracked-files=no"])
    load_after = os.getloadavg()
    return [
        f"- CPU: {os.cpu_count()} cores, {_cpu_model()}",
        f"- Memory: {_meminfo_gib()}",
        f"- OS: {platform.platform()}",
        f"- Python {sys.version.split()[0]}; " + ", ".join(versions),
        f"- wrk: {_run(['wrk', '-v'])}; chromium: {_run(['chromium', '--version'])}",
        f"- Commit: {commit}" + (" (uncommitted changes in the tree)" if dirty else ""),
        "- Load average (1/5/15 min) before: "
        + " / ".join(f"{x:.2f}" for x in load_before)
        + "; after: "
        + " / ".join(f"{x:.2f}" for x in load_after),
    ]


def figures_block(
    results: dict[str, float],
    missing: dict[str, str],
    load_before: tuple[float, float, float],
    elapsed_s: float,
) -> str:
    """The generated part of docs/performance.md."""
    floors = {f.name: f for f in FLOORS}
    lines = [
        BEGIN,
        f"Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {elapsed_s:.0f} s in all.",
        "",
        "| figure | value | floor | met |",
        "|---|---:|---|---|",
    ]
    for name, value in results.items():
        floor = floors.get(name)
        bound = f"{floor.op} {floor.bound:g}" if floor else ""
        met = ("yes" if floor.met(value) else "**no**") if floor else ""
        lines.append(f"| `{name}` | {value:g} | {bound} | {met} |")
    for name in floors:
        if name not in results:
            lines.append(f"| `{name}` | — | {floors[name].op} {floors[name].bound:g} | not run |")
    if missing:
        lines += ["", "Not measured in this run:"]
        lines += [f"- **{name}**: {reason}" for name, reason in missing.items()]
    lines += ["", "Machine:", *machine(load_before), END]
    return "\n".join(lines)


def write_report(path: Path, block: str) -> None:
    """Replace the generated block of ``path`` (or append it when the file has none)."""
    text = path.read_text() if path.exists() else "# Performance\n\n"
    if BEGIN in text and END in text:
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)
