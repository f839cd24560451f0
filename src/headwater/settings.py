"""One settings object, built by the entry point and passed down.

Every field can be set from the environment with the ``HEADWATER_`` prefix, for example
``HEADWATER_DATABASE_URL`` or ``HEADWATER_MAX_BATCH_EVENTS``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["MAX_DEFAULT_WORKERS", "Settings", "available_cores", "default_workers"]

MAX_DEFAULT_WORKERS = 4
"""The most server processes ``headwater serve`` starts unless told: each holds up to 20
pooled connections, and PostgreSQL allows 100 by default."""


def available_cores() -> int | None:
    """The cores this process may run on (its CPU affinity where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


def default_workers(cores: int | None = None, *, embedded: bool = True) -> int:
    """Server processes for a machine with ``cores`` cores (this one's when None): at least
    one, at most :data:`MAX_DEFAULT_WORKERS`.

    A process runs the tracking API, the processor and delivery on one event loop, so it uses
    at most one core. With ``embedded`` PostgreSQL on the same cores, half of them (rounded
    up): the database spends about as much CPU per event as Headwater's Python, and on two
    cores, with processing on, one process collected as much as two in batches and more
    single requests (``bench/ingest.py``, ``docs/performance.md``). With an external
    database, one per core.

    >>> default_workers(2), default_workers(4), default_workers(2, embedded=False)
    (1, 2, 2)
    """
    if cores is None:
        cores = available_cores()
    share = cores or 1
    if embedded:
        share = (share + 1) // 2
    return max(1, min(share, MAX_DEFAULT_WORKERS))


def _workers(data: dict[str, object]) -> int:
    return default_workers(embedded=not data.get("database_url"))


class Settings(BaseSettings):
    """Headwater's configuration. See ``docs/configuration.md`` for each field."""

    model_config = SettingsConfigDict(env_prefix="HEADWATER_", extra="ignore")

    # Where things live.
    data_dir: Path = Field(default=Path("./headwater-data"))
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8088
    public_url: str | None = None
    device_mode_dir: Path | None = None
    """The browser plugins' scripts Headwater serves at ``/device-mode/<file>.js``; unset:
    ``<data dir>/device-mode`` (docs/api-compatibility.md#browser-plugins)."""
    workers: int = Field(default_factory=_workers, ge=1)
    """Server processes sharing the port (``headwater serve --workers``); by default one per
    core with an external database, one per two cores with embedded PostgreSQL, at most four
    (:func:`default_workers`)."""
    admin_token: str | None = Field(default=None, repr=False)
    """An API token of the first owner's, valid in every workspace, kept outside the database
    (otherwise the first start generates one and prints it once)."""

    # People and sessions.
    owner_email: str | None = None
    owner_password: str | None = Field(default=None, repr=False)
    """With ``owner_email``: the first owner's password, set on first start (otherwise the first
    start prints a one-time set-up link)."""
    session_hours: float = Field(default=12.0, gt=0)
    """A web session ends this long after sign-in (sign-out and a password change end it
    sooner)."""
    login_attempts: int = Field(default=5, ge=1)
    """Failed sign-ins allowed per email (and ten times as many per IP address) within
    ``login_window`` before further attempts answer 429."""
    login_window: timedelta = timedelta(minutes=15)

    # Tracking API limits (Segment's published byte limits are the defaults).
    max_event_bytes: int = 32 * 1024
    max_request_bytes: int = 500 * 1024
    max_batch_events: int = 10_000
    """Items of one batch that are stored; those past it are rejected one by one."""
    max_message_id_chars: int = 100
    max_id_chars: int = 512
    """Longest ``userId``, ``anonymousId``, ``groupId`` and ``previousId``: they are indexed."""
    max_name_chars: int = 512
    """Longest track event name and page or screen name: they are indexed."""
    dedup_window: timedelta = timedelta(days=7)
    # NoDecode: the environment gives "10.0.0.0/8, 127.0.0.1/32", split below, not JSON.
    trusted_proxies: Annotated[list[IPv4Network | IPv6Network], NoDecode] = Field(
        default_factory=list
    )

    # HTTP connections (headwater serve): limits on what a client may hold open.
    max_header_bytes: int = 32 * 1024
    """Request line and headers of one request, together; over it: 431."""
    header_timeout_seconds: float = 10.0
    """From a request's first byte to the end of its headers; over it: 408, connection closed."""
    body_timeout_seconds: float = 30.0
    """From the end of the headers to the end of the body; over it: 408, connection closed."""
    keep_alive_timeout_seconds: int = 30
    """An idle connection (before its first request or between requests) is closed after it."""

    # Group commit: how many events one commit may carry, how many commits may be in flight per
    # process. One writer per process measured best (bench/ingest.py): commits grow larger.
    commit_max_events: int = 5000
    commit_writers: int = 1

    # File imports (CSV, JSON Lines, Parquet): an upload over a limit is refused with 413.
    import_max_rows: int = 1_000_000
    import_max_bytes: int = 100 * 1024 * 1024
    import_batch_rows: int = 20_000
    """Rows read, mapped and normalised together, and the step of a running import's
    checkpoint."""
    import_commit_rows: int = 2000
    """Rows of an import committed per transaction, apart from the tracking API's group
    commit: the event log's append lock is held one such transaction at a time, so a tracking
    request waits behind at most this many rows of an import, never a whole batch."""
    import_upload_ttl_hours: int = 24
    """An uploaded file not started within this many hours is ended and deleted."""

    # Event log and processor.
    event_log: Literal["postgres", "nats"] = "postgres"
    """Where the log's entries live: PostgreSQL (one node) or NATS JetStream (scale-out; the
    index, offsets and leases stay in PostgreSQL). See docs/scaleout.md."""
    # NoDecode: the environment gives "nats://a:4222, nats://b:4222", split below, not JSON.
    nats_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["nats://127.0.0.1:4222"]
    )
    nats_stream: str = Field(default="HEADWATER_EVENTS", pattern=r"^[A-Za-z0-9_-]+$")
    nats_replicas: int = Field(default=1, ge=1, le=5)
    """Replicas of the stream when Headwater creates it: 3 on a three-node cluster."""
    nats_duplicate_window_seconds: float = Field(default=120.0, gt=0)
    nats_max_age: timedelta = timedelta(days=7)
    """How long JetStream keeps an entry; the index in PostgreSQL follows retention."""
    log_partitions: int = 16
    processor_batch_size: int = 2000
    processor_concurrency: int = 2
    """Partitions one processor works on at once: while one batch waits on PostgreSQL, the
    next one's Python work runs (bench/identity.py)."""
    run_processor: bool = True
    """``headwater serve`` runs the processor in-process; false for an API-only node."""
    identity_rebuild_limit: int = Field(default=20_000, ge=1)
    """The most stored events a batch's late events may reach and still have their identity
    components rebuilt in canonical order; past it they apply in arrival order, logged and
    counted (docs/identity.md)."""

    task_restart_max_seconds: float = 30.0
    """A background task that ends unexpectedly is restarted after a back-off that doubles
    from half a second up to this."""
    stop_grace_seconds: float = Field(default=10.0, ge=0)
    """On shutdown, how long background tasks may take to finish what they are doing; those
    still running after it are cancelled (their transactions roll back, the work is done
    again after the restart)."""

    worker_metrics_port: int | None = None
    """``headwater worker`` serves Prometheus metrics on this port (at ``host``) when set."""

    # Destinations and the delivery engine (docs/destinations.md).
    run_delivery: bool = True
    """``headwater serve`` runs delivery workers in-process; false for an API-only node."""
    secret_key: str | None = Field(default=None, repr=False)
    """Fernet key(s), comma-separated, for destination secrets; unset: one kept in the database."""
    delivery_retry_window_seconds: float = 4 * 3600.0
    delivery_backoff_base_seconds: float = 1.0
    delivery_backoff_max_seconds: float = 600.0
    delivery_lease_seconds: float = 30.0
    """How long past a send's timeout a claimed batch stays hidden from other workers."""
    delivery_poll_seconds: float = 1.0
    destinations_refresh_seconds: float = 2.0

    # Audiences and computed traits (docs/audiences.md).
    audience_recompute_seconds: float = 900.0
    """Every audience and computed trait is recomputed in batch at least this often (members
    leave passed time windows then); the scheduler runs wherever the processor runs."""

    # Retention (docs/privacy.md#retention).
    retention_default_days: int | None = Field(default=None, ge=1)
    """The window of every store, workspace and source without one of its own, in days; unset:
    keep everything until a window is set."""
    retention_interval_seconds: float = Field(default=86400.0, gt=0)
    """The retention task runs at start and this often: days of the log created ahead, windows
    enforced."""
    # Privacy (docs/privacy.md).
    regulation_lease_seconds: float = 30.0
    """How long the regulation job holds a regulation between renewals; a process that dies
    mid-regulation leaves it to another (or to itself, restarted) once this has passed."""
    regulation_retry_seconds: float = Field(default=5.0, gt=0)
    """The first wait before a deletion a destination answered with a transient error is sent
    again; each later wait doubles."""
    regulation_max_attempts: int = Field(default=10, ge=1)
    """How many times a deletion is sent to a destination that keeps answering with transient
    errors before its status is ``FAILED`` with the last error."""
    # Reverse ETL (docs/reverse-etl.md).
    run_retl: bool = True
    """Run the ``reverse-etl`` task (due syncs) in this process."""
    retl_poll_seconds: float = Field(default=5.0, gt=0)
    """How often a process looks for a due sync when none was due."""
    retl_lease_seconds: float = Field(default=60.0, ge=3)
    """How long a sync is leased between renewals (a third of it apart); a run whose process
    stopped is picked up again once this has passed."""
    retl_chunk_rows: int = Field(default=10_000, ge=1)
    """Rows read, sent and recorded at a time."""
    retl_connect_timeout_seconds: float = Field(default=30.0, gt=0)
    """How long connecting to a model's database may take before the run fails."""
    retl_preview_rows: int = Field(default=20, ge=1, le=1000)
    """Rows a model's preview returns at most."""
    retl_allow_local_databases: bool = False
    """Let models read SQLite files, databases on a local socket and the server Headwater's own
    database is on (for a laptop or a test): left false, a model can only name another server,
    since anyone with ``sources:write`` writes its URL (``headwater.retl.guard``)."""

    # Caches and housekeeping.
    write_key_cache_seconds: float = 5.0
    pii_rules_cache_seconds: float = 5.0
    """How long a process keeps the PII rules it loaded (collection, the API's masking) before
    reading them again; the process that changed a rule reads them at once (docs/privacy.md)."""
    housekeeping_interval_seconds: float = 60.0

    log_level: str = "info"
    log_format: Literal["json", "text"] = "json"

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            parts = (part.strip() for part in value.split(","))
            return [ip_network(part, strict=False) for part in parts if part]
        return value

    @field_validator("nats_urls", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("dedup_window", "nats_max_age", mode="before")
    @classmethod
    def _seconds(cls, value: object) -> object:
        """Accept a number of seconds (``3600``) as well as ISO-8601 durations (``P7D``)."""
        if isinstance(value, str) and value.strip().isdigit():
            return timedelta(seconds=int(value))
        return value

    def processor_connections(self) -> int:
        """Pooled connections the processor holds at most: two per partition in progress (its
        transaction, and the profile stage's uncontended one) and one reading the log."""
        return 2 * self.processor_concurrency + 1

    def resolved_data_dir(self) -> Path:
        """The data directory as an absolute path (created on first use by the server)."""
        return self.data_dir.expanduser().resolve()

    @property
    def resolved_device_mode_dir(self) -> Path:
        """Where the browser plugins' scripts are read from (:attr:`device_mode_dir`)."""
        if self.device_mode_dir is not None:
            return self.device_mode_dir.expanduser().resolve()
        return self.resolved_data_dir() / "device-mode"
