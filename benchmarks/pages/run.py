"""How soon people see something: the start-up time of light commands, and the time to
first meaningful content of the finder and the regulator dashboard on the demo city.

    .venv/bin/python -m benchmarks.pages.run                 # everything (starts a demo)
    .venv/bin/python -m benchmarks.pages.run --only cli      # the commands only
    .venv/bin/python -m benchmarks.pages.run --runs 7

Commands: `chargenet --help`, `chargenet ocpp set-password` and `chargenet users list` (on a
fresh SQLite file),
each run `--runs` times in a new process; the baseline, measured in the same run, is a
process that imports what every command used to import before running (the platform's
composition root, the web app and planning's solvers) and nothing else.

Pages (Debian's Chromium through Playwright, against `chargenet demo` on a fresh
database): the finder's first result card and the dashboard's overview cards, "cold" (the
first visit after start, with an empty browser cache: the server builds its caches) and
"warm" (the same visit again); also when every panel of the dashboard is filled
(`body[data-ready=1]`). Medians of `--runs` visits (cold: one, by definition)."""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CHARGENET = Path(sys.executable).with_name("chargenet")
HEAVY_IMPORTS = (
    "import chargenet.bootstrap, chargenet.entrypoints.web, chargenet.app.planning, "
    "chargenet.entrypoints.cli.plan, chargenet.entrypoints.cli.supervise"
)


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def median_of(runs: int, command: list[str]) -> tuple[float, list[float]]:
    times = [timed(command) for _ in range(runs)]
    return statistics.median(times), times


def cli(runs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = f"sqlite:///{folder}/bench.db"
        # a charger to set a password for: the demo's import files are not needed, one
        # registered charger is (imported through the ordinary import command)
        subprocess.run(
            [str(CHARGENET), "db", "upgrade", "--db", db], check=True, capture_output=True
        )
        charger = _one_charger(db, Path(folder))
        baseline, _ = median_of(runs, [sys.executable, "-c", HEAVY_IMPORTS])
        print(f"baseline (importing the platform, as every command did): {baseline:.3f} s")
        for name, command in (
            ("chargenet --help", [str(CHARGENET), "--help"]),
            (
                "chargenet ocpp set-password",
                [str(CHARGENET), "ocpp", "set-password", charger, "--db", db],
            ),
            ("chargenet users list", [str(CHARGENET), "users", "list", "--db", db]),
        ):
            median, times = median_of(runs, command)
            shown = ", ".join(f"{t:.3f}" for t in times)
            ratio = baseline / median
            print(f"{name:<30} median {median:.3f} s  ({shown})  {ratio:.1f}× faster")


def _one_charger(db: str, folder: Path) -> str:
    areas = folder / "areas.csv"
    areas.write_text(
        "code,level,parent_code,name_zh\n140000,province,,山西省\n140900,city,140000,忻州市\n",
        encoding="utf-8",
    )
    operators = folder / "operators.csv"
    operators.write_text("operator_id,name\nBENCH,Bench operator\n", encoding="utf-8")
    stations = folder / "stations.csv"
    stations.write_text(
        "station_id,operator_id,name,lat,lon,area_code\n"
        "BENCH-S1,BENCH,Bench station,38.41,112.73,140900\n",
        encoding="utf-8",
    )
    chargers = folder / "chargers.csv"
    chargers.write_text(
        "charger_id,station_id,evse_no,connector_no,standard,power_type,max_power_w,protocol\n"
        "BENCH-C1,BENCH-S1,1,1,gbt_dc,dc,60000,ocpp1.6\n",
        encoding="utf-8",
    )
    subprocess.run(
        [str(CHARGENET), "import", *map(str, (areas, operators, stations, chargers)), "--db", db],
        check=True,
        capture_output=True,
    )
    return "BENCH-C1"


def pages(runs: int) -> None:
    from playwright.sync_api import sync_playwright

    from tests.e2e.journeys import ARGS, CHROMIUM, demo_server

    folder = Path(tempfile.mkdtemp(prefix="chargenet-pages-"))
    server = demo_server(folder)
    base = next(server)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            finder = _visits(browser, f"{base}/", (".result",), runs)
            dashboard, ready = _visits(
                browser,
                f"{base}/dashboard",
                ("#card-piles .v", "body[data-ready='1']"),
                runs,
                login=base,
            )
            browser.close()
    finally:
        server.close()
        shutil.rmtree(folder, ignore_errors=True)
    for name, (cold, warm) in (
        ("finder: first result", finder[0]),
        ("dashboard: overview cards", dashboard),
        ("dashboard: every panel", ready),
    ):
        print(f"{name:<28} cold {cold:.2f} s   warm median {warm:.2f} s")


def _visits(
    browser: Any, url: str, selectors: tuple[str, ...], runs: int, login: str | None = None
) -> list[tuple[float, float]]:
    """(cold, warm median) seconds until each selector shows, in order, on the same visits
    (a visit waits for the last one: the next starts with the server idle)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = context.new_page()
    if login:  # a session cookie without visiting a page: the first visit stays cold
        context.request.post(
            f"{login}/api/v1/auth/login", data={"username": "xinzhou", "password": "demo-xinzhou"}
        )
    times: list[list[float]] = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        page.goto(url)
        seen = []
        for selector in selectors:
            page.wait_for_selector(selector, timeout=300_000)
            seen.append(time.perf_counter() - start)
        times.append(seen)
    context.close()
    return [
        (times[0][i], statistics.median(t[i] for t in times[1:])) for i in range(len(selectors))
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=("cli", "pages"))
    args = parser.parse_args()
    if args.only != "pages":
        cli(args.runs)
    if args.only != "cli":
        pages(args.runs)


if __name__ == "__main__":
    main()
