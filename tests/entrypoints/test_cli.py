"""The `chargenet` command, run as a user would."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chargenet.bootstrap import bootstrap, warn_development_key
from chargenet.config import Settings, warn_retired
from chargenet.entrypoints.cli.main import app

runner = CliRunner()

AREAS = """code,level,parent_code,name_zh,name_en,lat,lon
140000,province,,山西省,Shanxi,,
140900,city,140000,忻州市,Xinzhou,38.417,112.734
140902,county,140900,忻府区,Xinfu District,38.404,112.746
"""
OPERATORS = "operator_id,name,uscc\nOP1,晋北充电,91140900MA0KXXXX1X\n"
STATIONS = """station_id,operator_id,name,lat,lon,category,access,commissioned_on
S1,OP1,忻府中心站,38.405,112.748,public_car_park,public,2023-05-01
S2,OP1,豆罗镇站,38.55,112.80,public_car_park,public,2024-02-01
"""
CHARGERS = """charger_id,station_id,evse_no,connector_no,standard,power_type,max_power_w
C1,S1,1,1,gbt_dc,dc,120000
C1,S1,2,1,gbt_dc,dc,120000
C2,S2,1,1,gbt_ac,ac,7000
C3,S2,1,1,household,ac,2000
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, text in (
        ("areas", AREAS),
        ("operators", OPERATORS),
        ("stations", STATIONS),
        ("chargers", CHARGERS),
    ):
        out[name] = tmp_path / f"{name}.csv"
        out[name].write_text(text, encoding="utf-8")
    return out


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["serve"],
        ["demo"],
        ["import"],
        ["db"],
        ["db", "upgrade"],
        ["db", "rebuild"],
        ["db", "status"],
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_import_in_dependency_order_then_rebuild(files: dict[str, Path], sqlite_url: str) -> None:
    # Given in the wrong order on purpose: chargers need stations need operators.
    order = [files["chargers"], files["stations"], files["operators"], files["areas"]]
    result = runner.invoke(app, ["import", *map(str, order), "--db", sqlite_url])
    assert result.exit_code == 0, result.output
    assert "chargers.csv: 4 rows, 3 imported" in result.output
    platform = bootstrap(Settings(database_url=sqlite_url))
    piles = platform.read.pile_count(area_code="140900")
    assert (piles.total, piles.fast, piles.slow) == (3, 2, 1)  # the 2 kW socket is no pile
    stored = platform.read.station("S2")
    assert stored is not None and stored["area_placed"] == "nearest"
    platform.close()

    again = runner.invoke(app, ["import", str(files["stations"]), "--db", sqlite_url])
    assert "0 imported, 2 unchanged" in again.output

    rebuilt = runner.invoke(app, ["db", "rebuild", "--db", sqlite_url])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "applied 9 events, skipped 0" in rebuilt.output
    status = runner.invoke(app, ["db", "status", "--db", sqlite_url])
    assert "connectors: 4" in status.output


def test_a_file_with_bad_rows_imports_nothing_unless_skip_bad(
    tmp_path: Path, files: dict[str, Path], sqlite_url: str
) -> None:
    runner.invoke(app, ["import", str(files["areas"]), str(files["operators"]), "--db", sqlite_url])
    bad = tmp_path / "stations.csv"
    bad.write_text(
        STATIONS + "S3,OP1,Bad,38.4,500,public_car_park,public,2024-01-01\n"
        "S4,OP9,Unknown operator,38.41,112.75,public_car_park,public,2024-01-01\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["import", str(bad), "--db", sqlite_url])
    assert result.exit_code == 1
    assert "stations.csv:4: lon:" in result.output
    assert "nothing imported" in result.output
    platform = bootstrap(Settings(database_url=sqlite_url))
    assert platform.read.station_count() == 0

    # Fix the row syntax: the unknown operator still withholds the whole file.
    bad.write_text(
        STATIONS + "S4,OP9,Unknown operator,38.41,112.75,public_car_park,public,2024-01-01\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["import", str(bad), "--db", sqlite_url])
    assert result.exit_code == 1
    assert "stations.csv:4: operator_id: unknown operator 'OP9'" in result.output
    assert platform.read.station_count() == 0

    result = runner.invoke(app, ["import", str(bad), "--skip-bad", "--db", sqlite_url])
    assert result.exit_code == 0, result.output
    assert platform.read.station_count() == 2
    platform.close()


def test_a_negative_target_or_an_unknown_area_is_refused_with_the_field_named(
    tmp_path: Path, files: dict[str, Path], sqlite_url: str
) -> None:
    """R10 (seed 002 三年行动计划 一): "2023年底，全市建成公共充电桩 … 总量达到2000台" — a
    target counts piles, vehicles or a ratio of them: never less than nothing. A refused row
    names the column at fault, as every other bad cell does."""
    runner.invoke(app, ["import", str(files["areas"]), "--db", sqlite_url])
    header = "area_code,metric,year,value,source\n"
    negative = tmp_path / "targets.csv"
    negative.write_text(header + "140902,new_public_piles,2025,-6,002 附件1\n", encoding="utf-8")
    result = runner.invoke(app, ["import", str(negative), "--db", sqlite_url])
    assert result.exit_code == 1
    assert "targets.csv:2: value: " in result.output and "negative" in result.output
    unknown = tmp_path / "targets.csv"
    unknown.write_text(
        header + "140902,new_public_piles,2025,388,002 附件1\n"
        "149999,new_public_piles,2025,296,002 附件1\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["import", str(unknown), "--db", sqlite_url])
    assert result.exit_code == 1
    assert "targets.csv:3: area_code: unknown area '149999'" in result.output
    platform = bootstrap(Settings(database_url=sqlite_url))
    assert platform.read.targets() == []  # the file went in whole or not at all
    platform.close()


def test_a_file_of_unknown_kind_is_refused(tmp_path: Path, sqlite_url: str) -> None:
    odd = tmp_path / "misc.csv"
    odd.write_text("a,b\n1,2\n", encoding="utf-8")
    result = runner.invoke(app, ["import", str(odd), "--db", sqlite_url])
    assert result.exit_code == 2
    assert "pass --kind" in result.output


def test_db_upgrade_creates_the_schema(sqlite_url: str) -> None:
    result = runner.invoke(app, ["db", "upgrade", "--db", sqlite_url])
    assert result.exit_code == 0
    assert "schema is current" in result.output


def test_serve_listens_for_chargers_on_the_ocpp_port_it_is_given(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seed 002 十四五规划 三、19: "逐步建立市级充（换）电基础设施智能监管服务平台" — a city's
    platform and, say, a test instance on one host each need their own OCPP port."""
    import uvicorn

    from chargenet.entrypoints.cli import ocpp

    started: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.update(kw))
    gateway = ocpp.gateway_job

    def gateway_on(host: str, port: int) -> object:
        started["ocpp"] = port
        return gateway(host, port)

    monkeypatch.setattr(ocpp, "gateway_job", gateway_on)
    monkeypatch.delenv("CHARGENET_OCPP_PORT", raising=False)
    result = runner.invoke(
        app, ["serve", "--db", sqlite_url, "--port", "8181", "--ocpp-port", "9100", "--token", "t"]
    )
    assert result.exit_code == 0, result.output
    assert (started["port"], started["ocpp"]) == (8181, 9100)
    assert "ws://127.0.0.1:9100/ocpp/" in result.output
    # The embedded platform keeps asyncio's own loop whether or not uvloop is installed
    # (uvicorn's "auto" would take uvloop): only the cluster roles choose.
    assert started["loop"] == "asyncio"


@pytest.mark.parametrize("role", ["intake", "writer", "api"])
def test_a_cluster_role_without_nats_says_what_it_needs(role: str, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    result = runner.invoke(
        app, ["serve", "--role", role, "--db", db], env={"CHARGENET_NATS_URL": ""}
    )
    assert result.exit_code == 2
    assert "needs NATS" in result.output


def test_a_split_partition_or_a_count_not_dividing_64_is_refused(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    args = ["serve", "--role", "writer", "--db", db, "--nats", "nats://127.0.0.1:1"]
    result = runner.invoke(app, [*args, "--buckets", "0-20", "--partitions", "8"])
    assert result.exit_code == 2 and "buckets 16-23 are one" in result.output
    intake = ["serve", "--role", "intake", "--db", db, "--nats", "nats://127.0.0.1:1"]
    result = runner.invoke(app, [*intake, "--partitions", "6"])
    assert result.exit_code == 2 and "divide 64" in result.output


def test_serve_names_its_roles() -> None:
    result = runner.invoke(app, ["serve", "--role", "gateway"])
    assert result.exit_code == 2 and "intake" in result.output


def test_a_role_runs_on_the_event_loop_it_is_told(monkeypatch: pytest.MonkeyPatch) -> None:
    """CHARGENET_EVENT_LOOP: "asyncio" is asyncio's own loop; "auto" takes uvloop only when
    it is installed; asking for uvloop without it, or for a loop that does not exist, stops
    the process with the reason rather than running on another loop."""
    import asyncio
    import importlib
    import types

    from chargenet.entrypoints import cluster

    async def which() -> str:
        return type(asyncio.get_running_loop()).__module__

    def ran_on(choice: str) -> str:
        found: list[str] = []

        async def main() -> None:
            found.append(await which())

        cluster.run_role(Settings(event_loop=choice), main())
        return found[0]

    assert ran_on("asyncio").startswith("asyncio")
    with pytest.raises(SystemExit, match="event loop is one of"):
        cluster.run_role(Settings(event_loop="trio"), asyncio.sleep(0))

    real = importlib.import_module

    def without_uvloop(name: str, package: str | None = None) -> types.ModuleType:
        if name == "uvloop":
            raise ImportError(name)
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", without_uvloop)
    assert cluster.loop_factory("auto") is None
    assert ran_on("auto").startswith("asyncio")
    with pytest.raises(SystemExit, match="uvloop is not installed"):
        cluster.loop_factory("uvloop")
    assert Settings.from_env({"CHARGENET_EVENT_LOOP": "asyncio"}).event_loop == "asyncio"


def test_each_command_logs_to_the_console_once_and_only_while_it_runs(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """A process that runs the CLI several times (a script, the tests) sees each command's
    log lines once, and nothing of other code's logging after the command is over."""
    monkeypatch.delenv("CHARGENET_TOKEN_SECRET", raising=False)
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    for _ in range(2):
        warn_development_key.cache_clear()  # the warning is given once a process
        result = runner.invoke(app, ["db", "rebuild", "--db", sqlite_url])
        assert result.exit_code == 0, result.output
        assert result.output.count("CHARGENET_TOKEN_SECRET is not set") == 1
        assert (list(root.handlers), root.level) == before
    logging.getLogger("chargenet").warning("after the command")
    assert "after the command" not in capfd.readouterr().err


def test_a_retired_ocpp_variable_still_set_is_named_in_one_warning_at_start(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CHARGENET_OCPP_RETRY_AFTER_S is no longer read: a deployment that still sets it is
    told so, and what replaced it, rather than believing its setting counts."""
    monkeypatch.setenv("CHARGENET_OCPP_RETRY_AFTER_S", "10")
    warn_retired.cache_clear()  # the warning is given once a process
    result = runner.invoke(app, ["db", "rebuild", "--db", sqlite_url])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # the console wraps long lines
    assert said.count("CHARGENET_OCPP_RETRY_AFTER_S") == 1, result.output
    assert "CHARGENET_OCPP_RETRY_AFTER_S is set but no longer read (ignored)" in said
    assert "see CHARGENET_OCPP_ADMIT_RATE" in said
    monkeypatch.delenv("CHARGENET_OCPP_RETRY_AFTER_S")
    warn_retired.cache_clear()
    quiet = runner.invoke(app, ["db", "rebuild", "--db", sqlite_url])
    assert "RETRY_AFTER" not in quiet.output
