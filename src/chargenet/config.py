"""Typed settings, read once at start-up (environment, then command-line overrides) and
passed down; nothing below `bootstrap` reads them."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from chargenet.kit.timeutil import DEFAULT_LOCAL_TZ

DEFAULT_DB = "sqlite:///var/chargenet.db"

log = logging.getLogger(__name__)

# Variables no longer read, and what took their place: a deployment that still sets one
# is told at start rather than left believing it has an effect.
RETIRED_VARIABLES = {
    "CHARGENET_OCPP_RETRY_AFTER_S": (
        "CHARGENET_OCPP_ADMIT_RATE (refused chargers are booked to return at the rate the"
        " node lets them in, assumed to be at least this many a second until measured;"
        " docs/ocpp.md)"
    ),
}


@cache
def warn_retired(key: str) -> None:
    """Once per process however many platforms it starts (tools and tests start several)."""
    log.warning("%s is set but no longer read (ignored): see %s", key, RETIRED_VARIABLES[key])


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DB
    host: str = "127.0.0.1"
    port: int = 8080
    local_timezone: str = DEFAULT_LOCAL_TZ  # only for display and local-day boundaries
    currency: str = "CNY"
    # A base map for the finder's and the dashboard's maps: a tile URL template
    # (https://tiles.example.org/{z}/{x}/{y}.png; {s} for subdomains), e.g. the deployer's
    # own tile server. None (the default): maps drawn from the platform's data alone, which
    # works without internet. The pages' Content-Security-Policy admits its host only.
    map_tile_url: str | None = None
    map_tile_attribution: str = ""  # credit the tiles' licence asks for, shown on the map
    auto_migrate: bool = True
    sqlite_synchronous: str = "FULL"  # FULL: a committed batch survives power loss
    # PostgreSQL with fsync or full_page_writes off can lose acknowledged data: refused
    # at start unless this says otherwise (throw-away test databases only)
    allow_unsafe_durability: bool = False
    ingest_max_batch: int = 2000
    # "thread": the store writes in a thread of this process. "process": in a process of
    # its own, so that protocol servers keep the interpreter lock — for machines with cores
    # to spare; on 2 cores it measured slower (docs/ocpp.md, benchmarks/ocpp_ingest).
    ingest_writer: str = "thread"
    # Where guards live that several processes must agree on (T/CEC tokens and replay
    # guard, rate limits, failed log-ins): "memory" of this process (one process, the
    # embedded default) or the "database" every process shares (docs/scale.md).
    shared_state: str = "memory"
    log_level: str = "INFO"
    # Several processes in roles (`chargenet serve --role intake|writer|api`, docs/scale.md):
    # the NATS server whose JetStream carries intake's events to the writers, and the name
    # that prefixes this deployment's stream, subjects and key-value buckets.
    nats_url: str | None = None
    cluster_name: str = "chargenet"
    # A writer that has not acknowledged a message within this time is taken for dead and
    # the message is delivered again (to it once restarted).
    nats_ack_wait_s: float = 30.0
    # The stream's subjects: its 64 buckets (a charger's events share one) in this many
    # partitions, a divisor of 64, the same for every intake and writer of a deployment;
    # writers split whole partitions (docs/scale.md, "Partitions").
    stream_partitions: int = 4
    # A writer stores its partitions in up to this many lanes, each a round loop on a
    # database connection of its own: one lane's Python runs while another's statements
    # and commit run in PostgreSQL (docs/scale.md, "A writer's lanes").
    writer_lanes: int = 2
    # The event loop of the intake and writer roles: "uvloop" when installed ("auto"), or
    # asyncio's own ("asyncio"). uvloop's sockets and callbacks cost an intake less CPU
    # per message (docs/scale.md, "An intake's CPU"); the embedded platform (--role all)
    # always runs asyncio's.
    event_loop: str = "auto"
    # T/CEC 102 interconnection (docs/tcec.md)
    tcec_operator_id: str = "CHARGENET"  # our OperatorID towards partner platforms
    tcec_master_key: str | None = None  # Fernet key(s), comma-separated, newest first
    tcec_master_key_file: str = "var/tcec-master.key"  # used when no key is given
    tcec_token_ttl_s: int = 7200
    tcec_time_window_s: int = 300  # TimeStamp skew accepted; replays refused within it
    tcec_retry_attempts: int = 5  # resends of a failed push (Part 4: more than 3)
    tcec_retry_interval_s: float = 60.0  # Part 4: about a minute apart
    tcec_poll_interval_s: float = 300.0  # pulling status from query-only partners
    # Partners (their OperatorIDs, comma-separated) that chargenet serves as the city
    # platform feeding a provincial one (R37): their queries see every station, not only
    # their own operator's.
    tcec_upstream: str = ""
    # Back-fill (补采, docs/tcec.md): a partner silent this long is asked for the status
    # of its stations when it is heard again; a back-fill that failed is retried after.
    tcec_backfill_gap_s: float = 600.0
    tcec_backfill_retry_s: float = 60.0
    # The durable outbox (docs/supervision.md, "The outbox"): a failed delivery is resent
    # after base × 2^(attempts − 1) seconds, at most max, and given up after `attempts`.
    outbox_retry_base_s: float = 5.0
    outbox_retry_max_s: float = 3600.0
    outbox_attempts: int = 12
    outbox_keep_days: float = 7.0  # settled deliveries are kept this long, then forgotten
    # Jobs only one node runs (app/leases.py): a dead holder's job is taken over by another
    # node within this time (and a third of it).
    job_lease_s: float = 30.0
    # Retention of the metered load (docs/scale.md, "History at national scale"), in
    # calendar months counting the one in progress: quarters 13 (a year of 15-minute peaks
    # and the month in progress), then their hourly roll-up up to 5 years.
    load_quarters_keep_months: int = 13
    load_hourly_keep_months: int = 60
    # Retention of the meter samples (the event log keeps them all): 13 months of samples
    # (a year of bills to check sample by sample, and the month in progress), then each
    # connector's energy per hour up to 5 years.
    meter_history_keep_months: int = 13
    meter_hourly_keep_months: int = 60
    supervision_config: str | None = None  # TOML file: zombie, alarm, scorecard settings
    # OCPI party (docs/ocpi.md): how others reach us, who we are, how often we pull.
    public_url: str | None = None  # default http://host:port
    ocpi_party: str = "CN*CGN"  # country code * party id
    ocpi_name: str = "chargenet"
    ocpi_pull_interval_s: float = 900.0  # 0: no scheduled pulls
    # As a hub: a connected party quiet this long gets a still-alive check (GET versions;
    # HubClientInfo "when unsure, start with 5 minutes"); 0: no checks
    ocpi_still_alive_s: float = 300.0
    open_data_per_minute: int = 120  # requests per client address
    # OCPP gateway (docs/ocpp.md): its own port; chargers connect to ws(s)://HOST:PORT/ocpp/ID
    ocpp_port: int = 9000
    ocpp_heartbeat_s: int = 60  # interval given to chargers; offline after ~3 missed
    ocpp_security_profile: int = 1  # 0 identity only, 1 Basic auth, 2 TLS + Basic, 3 mTLS
    ocpp_tls_cert: str | None = None
    ocpp_tls_key: str | None = None
    ocpp_tls_client_ca: str | None = None  # profile 3: CA of the chargers' certificates
    # Admission control (docs/ocpp.md): while more connections than the bound are between
    # their request and their first answer (a bound of at most ocpp_max_arriving, lowered
    # while first answers take longer than ocpp_arrival_target_s), or more events than
    # ocpp_max_backlog wait to be durable, a new connection is held at the door for a place
    # (up to ocpp_admit_hold_s, while the node has room) or gets 503 with a Retry-After
    # that books its return in a queue spread at the rate the node lets chargers in
    # (measured; no slower than ocpp_admit_rate a second until the node has measured
    # enough, then whatever it measured) (0: no bound). On a busy
    # 2-core node, a storm of 10,000 at once: the acks of the chargers let in under a
    # second, the last of them connected about as soon as with the door open (scale.md).
    ocpp_max_arriving: int = 500
    ocpp_arrival_target_s: float = 0.5
    ocpp_max_backlog: int = 2000
    ocpp_admit_rate: float = 200.0
    # How often each OCPP gateway looks for changed or removed charger passwords (`chargenet
    # ocpp set-password`): the old password stops working within this many seconds.
    ocpp_credentials_poll_s: float = 5.0
    # How often `chargenet serve` (role all) reads the log for registry changes another
    # process wrote (an import, a second process on the database): a charger retired there
    # is cut off and refused within about this long (0: never; docs/ocpp.md)
    registry_poll_s: float = 2.0
    # Off: every OCPP message through websockets' asyncio recv()/send() (the former path)
    ocpp_direct_frames: bool = True
    # the rate assumed before the node has measured one (a storm's first burst): optimistic,
    # since a return booked too soon costs one more refusal and one booked too late cannot
    # be called back
    ocpp_admit_start_rate: float = 1000.0
    # how long a charger over the bound on arriving is held at the door for a place before
    # it is refused (as many held as the node lets in in that time); 0: refused at once
    ocpp_admit_hold_s: float = 2.0
    # Orderly charging (docs/orderly.md): the grid's time-of-use periods (TOML; default the
    # shipped sample) and the province whose periods price the plan.
    grid_tou_file: str | None = None
    grid_tou_region: str = "140000"
    openadr_vtn_url: str | None = None  # the grid operator's VTN; set: chargenet runs a VEN
    openadr_ven_name: str = "chargenet"
    # Stations that never shed for the grid (a bus depot, a hospital): comma-separated ids;
    # the VEN answers optOut for them (docs/orderly.md).
    openadr_opt_out: str = ""
    # Who answers OCPP Authorize (docs/settlement.md): "tokens" the platform's driver
    # tokens; "open" every token accepted (supervision only, no driver accounts); "auto"
    # tokens once any driver token is registered, open until then.
    ocpp_authorization: str = "auto"
    # Keys the digests of drivers' tokens (HMAC-SHA256; docs/settlement.md). Keep it out of
    # the database; unset, a public development secret is used and a warning logged.
    token_secret: str | None = None
    settlement_fee_rate: Decimal = Decimal("0.01")  # the platform's share of each charge
    # How far an operator's figures for a session may stray from the platform's before a
    # dispute opens by itself (docs/settlement.md: automatic disputes).
    dispute_energy_tolerance_wh: int = 10
    dispute_amount_tolerance: Decimal = Decimal("0.01")
    # WeChat Pay API v3 notifications (docs/settlement.md): all three set to take them
    wechatpay_apiv3_key: str | None = None  # 32 characters
    wechatpay_platform_cert: str | None = None  # PEM file: certificate or public key
    wechatpay_platform_serial: str | None = None
    wechatpay_mchid: str | None = None
    # Retired variables (RETIRED_VARIABLES) found in the environment: warned of at start,
    # once logging is set up (bootstrap), not while the settings are read.
    retired_set: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = dict(os.environ) if env is None else env
        values: dict[str, Any] = {}
        for name, kind in (
            ("database_url", str),
            ("host", str),
            ("port", int),
            ("local_timezone", str),
            ("currency", str),
            ("map_tile_url", str),
            ("map_tile_attribution", str),
            ("sqlite_synchronous", str),
            ("ingest_max_batch", int),
            ("ingest_writer", str),
            ("shared_state", str),
            ("log_level", str),
            ("nats_url", str),
            ("cluster_name", str),
            ("nats_ack_wait_s", float),
            ("stream_partitions", int),
            ("writer_lanes", int),
            ("event_loop", str),
            ("tcec_operator_id", str),
            ("tcec_master_key", str),
            ("tcec_master_key_file", str),
            ("tcec_token_ttl_s", int),
            ("tcec_time_window_s", int),
            ("tcec_retry_attempts", int),
            ("tcec_retry_interval_s", float),
            ("tcec_poll_interval_s", float),
            ("tcec_upstream", str),
            ("tcec_backfill_gap_s", float),
            ("tcec_backfill_retry_s", float),
            ("outbox_retry_base_s", float),
            ("outbox_retry_max_s", float),
            ("outbox_attempts", int),
            ("outbox_keep_days", float),
            ("job_lease_s", float),
            ("load_quarters_keep_months", int),
            ("load_hourly_keep_months", int),
            ("meter_history_keep_months", int),
            ("meter_hourly_keep_months", int),
            ("supervision_config", str),
            ("public_url", str),
            ("ocpi_party", str),
            ("ocpi_name", str),
            ("ocpi_pull_interval_s", float),
            ("ocpi_still_alive_s", float),
            ("open_data_per_minute", int),
            ("ocpp_port", int),
            ("ocpp_heartbeat_s", int),
            ("ocpp_security_profile", int),
            ("ocpp_tls_cert", str),
            ("ocpp_tls_key", str),
            ("ocpp_tls_client_ca", str),
            ("ocpp_max_arriving", int),
            ("ocpp_arrival_target_s", float),
            ("ocpp_max_backlog", int),
            ("ocpp_admit_rate", float),
            ("ocpp_credentials_poll_s", float),
            ("registry_poll_s", float),
            ("ocpp_admit_start_rate", float),
            ("ocpp_admit_hold_s", float),
            ("grid_tou_file", str),
            ("grid_tou_region", str),
            ("openadr_vtn_url", str),
            ("openadr_ven_name", str),
            ("openadr_opt_out", str),
            ("ocpp_authorization", str),
            ("token_secret", str),
            ("settlement_fee_rate", Decimal),
            ("dispute_energy_tolerance_wh", int),
            ("dispute_amount_tolerance", Decimal),
            ("wechatpay_apiv3_key", str),
            ("wechatpay_platform_cert", str),
            ("wechatpay_platform_serial", str),
            ("wechatpay_mchid", str),
        ):
            key = f"CHARGENET_{name.upper()}"
            if key in env:
                values[name] = kind(env[key])
        values["retired_set"] = tuple(sorted(RETIRED_VARIABLES.keys() & env.keys()))
        for flag in ("auto_migrate", "allow_unsafe_durability", "ocpp_direct_frames"):
            key = f"CHARGENET_{flag.upper()}"
            if key in env:
                values[flag] = env[key].lower() in ("1", "true", "yes")
        settings = cls(**values)
        return replace(settings, **{k: v for k, v in overrides.items() if v is not None})

    def with_database_path(self, path: Path) -> Settings:
        return replace(self, database_url=f"sqlite:///{path}")
