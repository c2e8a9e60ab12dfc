"""`wesog-mock serve`: the fake on a port, configured by flags or WESOG_MOCK_* variables.

The environment is read here, once, and nowhere else: the flags and variables become one
frozen MockConfig handed to create_app().
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from wesog_mock.domain.config import MIB, ConfigError, MockConfig

__all__ = ["build_config", "main", "parser"]

ENV_PREFIX = "WESOG_MOCK_"

_DESCRIPTION = """\
Serve a fake Wesog Search image API from memory: every endpoint of the contract
(openapi.yaml, also served at /openapi.yaml), operations through a queue, strict mode,
all-or-nothing batches, sync and async calls, and an admin API under /_mock/ to reset,
seed, inspect, move the virtual clock and inject faults.

Every option can also be set by an environment variable: --item-ms is WESOG_MOCK_ITEM_MS,
--api-key is WESOG_MOCK_API_KEYS (comma-separated). A flag wins over its variable.
"""

_EPILOG = """\
examples:
  wesog-mock serve                                  any non-empty API-Key is a tenant
  wesog-mock serve --port 0                         a free port (the URL is printed)
  wesog-mock serve --api-key k1 --api-key k2        only these keys
  wesog-mock serve --clock virtual --item-ms 100    time moves via POST /_mock/clock/advance
  curl -H 'API-Key: k' -X POST 'http://127.0.0.1:8080/imgs?wait=true' \\
       -H 'Content-Type: application/json' -d '[{"id": "a", "src": "https://x/a.jpg"}]'
"""


def _non_negative(text: str) -> float:
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, not {text!r}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, not {text!r}")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port from 0 to 65535, not {text!r}")
    return value


def _flag(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise argparse.ArgumentTypeError(f"must be true or false, not {text!r}")


# (flag, destination, type, default, help). The variable is WESOG_MOCK_<DESTINATION>.
_OPTIONS: list[tuple[str, str, Callable[[str], Any], Any, str]] = [
    ("--host", "host", str, "127.0.0.1", "interface to listen on (default: %(default)s)"),
    ("--port", "port", _port, 8080, "port to listen on; 0 picks a free one (default: %(default)s)"),
    ("--clock", "clock", str, "real",
     "real: wall time; virtual: time moves only through the admin API (default: %(default)s)"),
    ("--queue-delay-ms", "queue_delay_ms", _non_negative, 0.0,
     "time an operation waits in the queue before it may start (default: %(default)s)"),
    ("--item-ms", "item_ms", _non_negative, 0.0,
     "time each item takes once an operation runs (default: %(default)s)"),
    ("--jitter-ms", "jitter_ms", _non_negative, 0.0,
     "up to this much random extra delay, drawn from --seed (default: %(default)s)"),
    ("--seed", "seed", int, None, "seed for jitter and probabilistic faults (default: random)"),
    ("--workers", "workers", _positive_int, 1,
     "operations running at once, never two of one tenant (default: %(default)s)"),
    ("--sync-timeout-s", "sync_timeout_s", _non_negative, 30.0,
     "how long wait=true waits before answering 202 instead (default: %(default)s)"),
    ("--max-batch", "max_batch", _positive_int, 10_000,
     "items per batch; more answers 413 (default: %(default)s)"),
    ("--max-body-mb", "max_body_mb", _non_negative, 64.0,
     "request body size in MiB; more answers 413 (default: %(default)s)"),
    ("--max-finished-ops", "max_finished_ops", _positive_int, 10_000,
     "finished operations kept per tenant (default: %(default)s)"),
    ("--journal-size", "journal_size", _positive_int, 1000,
     "requests kept in the journal (GET /_mock/requests) (default: %(default)s)"),
    ("--log-level", "log_level", str, "info",
     "critical, error, warning, info or debug; info logs each request (default: %(default)s)"),
]


_METAVARS = {"clock": "{real,virtual}", "log_level": "LEVEL", "host": "HOST", "port": "PORT"}


def parser(environ: Mapping[str, str] | None = None) -> argparse.ArgumentParser:
    """The CLI's parser, with defaults taken from `environ` (WESOG_MOCK_* variables)."""
    env = os.environ if environ is None else environ
    root = argparse.ArgumentParser(
        prog="wesog-mock", description="A local fake of the Wesog Search image API.",
    )
    commands = root.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser(
        "serve", help="serve the fake API", description=_DESCRIPTION, epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for flag, dest, kind, default, text in _OPTIONS:
        raw = env.get(ENV_PREFIX + dest.upper())
        value = default
        if raw is not None:
            try:
                value = kind(raw)
            except (ValueError, argparse.ArgumentTypeError) as error:
                root.error(f"{ENV_PREFIX}{dest.upper()}={raw!r}: {error}")
        serve.add_argument(
            flag, dest=dest, type=kind, default=value, help=text, metavar=_METAVARS.get(dest)
        )
    keys = [k.strip() for k in env.get(ENV_PREFIX + "API_KEYS", "").split(",") if k.strip()]
    serve.add_argument(
        "--api-key", dest="api_keys", action="append", metavar="KEY",
        help="an accepted API key, repeatable; without any, every non-empty key is a tenant",
    )
    serve.set_defaults(env_api_keys=keys)
    for flag, dest, text in [
        ("--guide-defaults", "guide_defaults",
         "wait and strict default to true, as the overview page reads (A12)"),
        ("--no-admin", "no_admin", "turn the admin API off: every /_mock/ path answers 404"),
    ]:
        raw = env.get(ENV_PREFIX + dest.upper())
        try:
            default = _flag(raw) if raw is not None else False
        except argparse.ArgumentTypeError as error:
            root.error(f"{ENV_PREFIX}{dest.upper()}={raw!r}: {error}")
        serve.add_argument(flag, dest=dest, action="store_true", default=default, help=text)
    return root


def build_config(args: argparse.Namespace) -> MockConfig:
    """The MockConfig that the parsed flags describe (raises ConfigError on a bad value)."""
    return MockConfig(
        api_keys=tuple(args.api_keys or args.env_api_keys),
        clock=args.clock,
        queue_delay_ms=args.queue_delay_ms,
        item_ms=args.item_ms,
        jitter_ms=args.jitter_ms,
        seed=args.seed,
        workers=args.workers,
        sync_timeout_s=args.sync_timeout_s,
        max_batch=args.max_batch,
        max_body_bytes=max(1, int(args.max_body_mb * MIB)),
        guide_defaults=args.guide_defaults,
        max_finished_ops=args.max_finished_ops,
        journal_size=args.journal_size,
        admin=not args.no_admin,
    )


def _serve(args: argparse.Namespace, config: MockConfig) -> int:
    import uvicorn  # only when serving: `--help` stays fast

    from wesog_mock.http.app import create_app

    if args.log_level not in {"critical", "error", "warning", "info", "debug"}:
        print(f"wesog-mock: --log-level must be critical, error, warning, info or debug, "
              f"not {args.log_level!r}", file=sys.stderr)
        return 2
    try:
        sock = socket.create_server((args.host, args.port), reuse_port=False)
    except OSError as error:
        print(f"wesog-mock: cannot listen on {args.host}:{args.port}: {error.strerror}",
              file=sys.stderr)
        return 1
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"wesog-mock: serving the Wesog API at http://{shown}:{port}", flush=True)
    print(f"  contract: http://{shown}:{port}/openapi.yaml", flush=True)
    if config.admin:
        print(f"  admin:    http://{shown}:{port}/_mock/", flush=True)
    for name, value in config.as_dict().items():
        print(f"  {name} = {value!r}", flush=True)
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), log_level=args.log_level, lifespan="off")
    )
    # uvicorn traps SIGINT and SIGTERM, shuts down gracefully, then re-raises the signal to
    # the handlers that were in place before it ran: make those a quiet "we are done", so a
    # stop is exit 0 with no KeyboardInterrupt traceback.
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, lambda *_: None)
    server.run(sockets=[sock])
    print("wesog-mock: stopped", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    cli = parser()
    args = cli.parse_args(argv)
    if args.command != "serve":
        cli.print_help()
        return 2
    try:
        config = build_config(args)
    except ConfigError as error:
        cli.error(str(error))
    return _serve(args, config)


if __name__ == "__main__":
    sys.exit(main())
