"""``python -m faktoora_async.sandbox``: serve the sandbox until Ctrl-C / SIGTERM.

The team CLI delegates here: ``add_arguments(parser)`` then ``await serve(args)`` (or ``main(argv)``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any

from ._render_pool import AUTO, default_processes
from .app import DEFAULT_MAX_UPLOAD
from .faults import FaultConfig
from .server import Sandbox
from .store import FEATURES


def _delay_pair(text: str) -> tuple[float, float]:
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("expected MIN,MAX seconds, e.g. 0.2,1.0") from None
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or parts[0] < 0 or parts[1] < parts[0]:
        raise argparse.ArgumentTypeError("expected MIN,MAX seconds with 0 <= MIN <= MAX")
    return parts[0], parts[1]


def _features(text: str) -> frozenset[str]:
    if text in ("", "none"):
        return frozenset()
    if text == "all":
        return FEATURES
    names = frozenset(p.strip() for p in text.split(",") if p.strip())
    unknown = names - FEATURES
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown features {sorted(unknown)}; known: {sorted(FEATURES)}")
    return names


def _processes(text: str) -> int | str:
    if text == AUTO:
        return AUTO
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a number of processes or 'auto'") from None
    if value < 0:
        raise argparse.ArgumentTypeError("the number of processes cannot be negative")
    return value


def _resolve_processes(value: int | str) -> int:
    return default_processes() if value == AUTO else int(value)


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("a rate is a probability between 0 and 1")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the sandbox's options to ``parser``."""
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8040, help="port (0 = any free port; default 8040)")
    parser.add_argument("--api-key", default=None, help="the API key to accept (default: random, printed)")
    parser.add_argument(
        "--features",
        type=_features,
        default=FEATURES,
        help="account features: invoiceValidation,invoiceDeleteMode | all | none (default all)",
    )
    parser.add_argument("--rate", type=float, default=None, help="rate limit: requests per second per key")
    parser.add_argument("--burst", type=float, default=None, help="rate limit burst (default: max(1, rate))")
    parser.add_argument(
        "--processing-delay",
        type=_delay_pair,
        default=(0.2, 1.0),
        metavar="MIN,MAX",
        help="seconds an invoice spends being generated, uniform in [MIN, MAX] (default 0.2,1.0)",
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added latency per request")
    parser.add_argument("--jitter-ms", type=float, default=0.0, help="extra random latency up to this")
    parser.add_argument(
        "--error-rate", type=_rate, default=0.0, help="share of requests answered 500/502/503"
    )
    parser.add_argument(
        "--reset-rate", type=_rate, default=0.0, help="share of connections reset before a response"
    )
    parser.add_argument(
        "--ambiguous-rate",
        type=_rate,
        default=0.0,
        help="share of POSTs stored, then dropped without a response",
    )
    parser.add_argument("--truncate-rate", type=_rate, default=0.0, help="share of downloads cut short")
    parser.add_argument(
        "--slow-download-rate", type=_rate, default=0.0, help="share of downloads sent slowly"
    )
    parser.add_argument(
        "--generation-failure-rate", type=_rate, default=0.0, help="share of invoices whose generation fails"
    )
    parser.add_argument(
        "--webhook-failure-rate", type=_rate, default=0.0, help="share of webhook attempts counted as failed"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of delays and faults (default 0; ids are always random)"
    )
    parser.add_argument(
        "--max-upload-bytes", type=int, default=DEFAULT_MAX_UPLOAD, help="largest /import/outgoing upload"
    )
    parser.add_argument(
        "--render-processes",
        type=_processes,
        default=AUTO,
        metavar="N|auto",
        help="render PDFs in N worker processes (0: in threads; default auto: one per CPU when there are "
        "several)",
    )
    targets = parser.add_mutually_exclusive_group()
    targets.add_argument(
        "--allow-private-targets",
        dest="allow_private_targets",
        action="store_const",
        const=True,
        default=None,
        help="accept webhook targets faktoora refuses (loopback, RFC 1918, .local, ...), for local receivers "
        "(default: $FAKTOORA_SANDBOX_ALLOW_PRIVATE_TARGETS, else refuse)",
    )
    targets.add_argument(
        "--refuse-private-targets",
        dest="allow_private_targets",
        action="store_const",
        const=False,
        help="refuse them as faktoora does, whatever $FAKTOORA_SANDBOX_ALLOW_PRIVATE_TARGETS says",
    )
    parser.add_argument("--log-level", default="WARNING", help="logging level (default WARNING)")


def build_sandbox(args: argparse.Namespace) -> Sandbox:
    faults = FaultConfig(
        latency_ms=args.latency_ms,
        jitter_ms=args.jitter_ms,
        error_rate=args.error_rate,
        reset_rate=args.reset_rate,
        ambiguous_rate=args.ambiguous_rate,
        truncate_rate=args.truncate_rate,
        slow_download_rate=args.slow_download_rate,
        generation_failure_rate=args.generation_failure_rate,
        webhook_failure_rate=args.webhook_failure_rate,
        seed=args.seed,
    )
    return Sandbox(
        args.api_key,
        host=args.host,
        port=args.port,
        features=args.features,
        rate=args.rate,
        burst=args.burst,
        processing_delay=args.processing_delay,
        faults=faults,
        seed=args.seed,
        max_upload_bytes=args.max_upload_bytes,
        allow_private_targets=getattr(args, "allow_private_targets", None),
        render_processes=_resolve_processes(getattr(args, "render_processes", 0)),
    )


async def serve(args: argparse.Namespace) -> None:
    """Serve until SIGINT/SIGTERM; prints the base URL and API key once listening."""
    level: Any = args.log_level.upper() if isinstance(args.log_level, str) else args.log_level
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sandbox = build_sandbox(args)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        async with sandbox:
            print(f"faktoora sandbox: {sandbox.base_url}", flush=True)
            print(f"API key: {sandbox.api_key}", flush=True)
            print(f"admin: {sandbox.root_url}/_sandbox/stats (Ctrl-C to stop)", flush=True)
            await stop.wait()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def main(argv: Sequence[str] | None = None, *, prog: str = "python -m faktoora_async.sandbox") -> int:
    """Parse ``argv`` and serve until interrupted; returns the process exit code."""
    from .._extras import require_extra  # first: a core install says which extra, before doing anything

    if (missing := require_extra("sandbox", "the faktoora sandbox")) is not None:
        return missing
    parser = argparse.ArgumentParser(prog=prog, description="faktoora API sandbox")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"cannot serve: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
