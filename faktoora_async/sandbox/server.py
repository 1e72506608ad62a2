"""Running a sandbox: in-process (:class:`Sandbox`) or as a separate process (:class:`SandboxProcess`)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

from aiohttp import web

from .app import create_app
from .faults import FaultConfig
from .process import SandboxProcess
from .routes.admin import invoices_snapshot, render_missing_pdfs, stats_snapshot
from .state import DEFAULT_MAX_UPLOAD, SandboxConfig, SandboxState
from .store import FEATURES, Account

__all__ = ["ALLOW_PRIVATE_TARGETS_ENV", "Sandbox", "SandboxProcess", "private_targets_allowed"]


ALLOW_PRIVATE_TARGETS_ENV = "FAKTOORA_SANDBOX_ALLOW_PRIVATE_TARGETS"


def private_targets_allowed(value: bool | None) -> bool:
    """``value``, or when None whether ``$FAKTOORA_SANDBOX_ALLOW_PRIVATE_TARGETS`` is on."""
    if value is not None:
        return bool(value)
    return os.environ.get(ALLOW_PRIVATE_TARGETS_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def _fault_config(faults: FaultConfig | Mapping[str, Any] | None, seed: int) -> FaultConfig:
    if isinstance(faults, FaultConfig):
        return faults
    base = FaultConfig(seed=seed)
    return base.updated(faults) if faults else base


class Sandbox:
    """A faktoora API sandbox served on loopback by this process's event loop.

    ``async with Sandbox() as sb:`` starts it on a free port; ``sb.base_url`` ends with ``/api/v1``
    and ``sb.api_key`` is a random key (or the one given).  ``features`` defaults to every feature
    (``invoiceValidation``, ``invoiceDeleteMode``); ``rate``/``burst`` set the key's token bucket;
    ``processing_delay=(min, max)`` seconds is drawn uniformly per invoice; ``faults`` is a
    :class:`FaultConfig` or a mapping of its fields (snake_case or camelCase).
    ``allow_private_targets=True`` accepts webhook targets faktoora refuses (loopback, RFC 1918, ``.local``,
    ...), for receivers on this machine; ``None`` (default) reads ``$FAKTOORA_SANDBOX_ALLOW_PRIVATE_TARGETS``
    (``1``/``true``/``yes``/``on``), else refuses them as faktoora does.
    ``render_processes=N`` renders PDFs in ``N`` worker processes (every core; started and warmed with the
    sandbox, stopped with it) instead of ``render_workers`` threads (one PDF at a time).
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        features: Iterable[str] = FEATURES,
        rate: float | None = None,
        burst: float | None = None,
        processing_delay: tuple[float, float] = (0.0, 0.0),
        faults: FaultConfig | Mapping[str, Any] | None = None,
        seed: int = 0,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD,
        render_workers: int = 2,
        render_processes: int = 0,
        webhook_attempts: int = 3,
        webhook_retry_delays: tuple[float, ...] = (0.05, 0.2, 0.5),
        allow_private_targets: bool | None = None,
    ) -> None:
        low, high = processing_delay
        if low < 0 or high < 0:
            raise ValueError("processing_delay must be non-negative")
        if max_upload_bytes < 1:
            raise ValueError("max_upload_bytes must be positive")
        self.config = SandboxConfig(
            processing_delay=(float(low), float(max(low, high))),
            faults=_fault_config(faults, seed),
            seed=seed,
            max_upload_bytes=max_upload_bytes,
            render_workers=render_workers,
            render_processes=render_processes,
            webhook_attempts=webhook_attempts,
            webhook_retry_delays=webhook_retry_delays,
            allow_private_targets=private_targets_allowed(allow_private_targets),
        )
        self.state = SandboxState(self.config)
        self.api_key = api_key or "sk_test_" + secrets.token_urlsafe(24)
        self.state.add_account(self.api_key, features=frozenset(features), rate=rate, burst=burst)
        self.host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self.app = create_app(self.state)

    # --- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("sandbox already started")
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0, handle_signals=False)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self._port, reuse_address=True)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        address = runner.addresses[0]
        self._port = int(address[1])

    async def close(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # --- addresses ------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._port

    @property
    def root_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/api/v1"

    @property
    def base_url_v2(self) -> str:
        return f"{self.root_url}/api/v2"

    # --- control --------------------------------------------------------------------------------
    def add_account(
        self,
        api_key: str,
        *,
        features: Iterable[str] = FEATURES,
        rate: float | None = None,
        burst: float | None = None,
    ) -> Account:
        """Add (or replace) an API key with its own features and rate limit."""
        return self.state.add_account(api_key, features=frozenset(features), rate=rate, burst=burst)

    def stats(self) -> dict[str, Any]:
        """A snapshot of ``GET /_sandbox/stats``."""
        return stats_snapshot(self.state)

    def invoices(self) -> list[dict[str, Any]]:
        """A snapshot of ``GET /_sandbox/invoices`` (``pdfSha256`` is ``None`` until the PDF was rendered)."""
        return invoices_snapshot(self.state)

    async def render_pdfs(self) -> int:
        """Render every generated invoice's missing PDF now (as ``GET /_sandbox/invoices?withPdf=1`` does).

        PDFs are otherwise rendered on the first PDF download; afterwards :meth:`invoices` carries every
        ``pdfSha256``.  Returns how many PDFs were rendered.
        """
        return await render_missing_pdfs(self.state)

    @property
    def faults(self) -> FaultConfig:
        return self.state.faults.config

    def set_faults(
        self, faults: FaultConfig | Mapping[str, Any] | None = None, **changes: Any
    ) -> FaultConfig:
        """Change fault settings (a :class:`FaultConfig` or field changes); restarts the seeded stream."""
        if isinstance(faults, FaultConfig):
            config = faults.updated(changes) if changes else faults
        else:
            config = self.state.faults.config.updated({**(faults or {}), **changes})
        self.state.faults.configure(config)
        return config

    async def approve(self, faktoora_id: str) -> dict[str, Any]:
        """Confirm a draft or approve a review (-> created, -> sent with delivery); returns the status object.

        Raises ``KeyError`` for an unknown id and :class:`ApiError` (409) when the invoice is not waiting.
        """
        record = self.state.store.invoices.get(faktoora_id)
        if record is None:
            raise KeyError(faktoora_id)
        self.state.approve(record)
        return record.status()

    def set_profile(
        self, seller: Mapping[str, Any], *, api_key: str | None = None, account_id: str = ""
    ) -> dict[str, Any]:
        """Set the company profile (the seller of invoices sent without one) of a key and ``x-account-id``.

        Raises ``ValueError`` naming every problem when ``seller`` is not a complete, valid seller.
        """
        return self.state.set_profile(api_key or self.api_key, account_id, seller)

    def profile(self, *, api_key: str | None = None, account_id: str = "") -> dict[str, Any]:
        """The company profile of a key and ``x-account-id`` (a copy)."""
        return dict(self.state.tenant_of(api_key or self.api_key, account_id).profile)

    @property
    def outbox(self) -> list[dict[str, Any]]:
        """The e-mails and PEPPOL messages "sent" so far (a copy); ``type`` is ``email`` or ``peppol``."""
        return list(self.state.store.outbox)

    @property
    def webhook_log(self) -> list[dict[str, Any]]:
        return list(self.state.webhooks.log)

    def reset(self) -> None:
        """Forget invoices, imports, subscriptions, outbox, logs and stats (accounts and faults stay)."""
        self.state.reset()
