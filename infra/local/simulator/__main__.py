"""`python -m infra.local.simulator --port 8000 --webhook-url http://127.0.0.1:8001/webhooks/meta`."""

from __future__ import annotations

import argparse
import logging

from werkzeug.serving import make_server

from infra.local import ports

from .app import create_app, shutdown_app
from .config import SimConfig, default_webhook_url


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    defaults = SimConfig()
    parser = argparse.ArgumentParser(prog="python -m infra.local.simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=ports.SIMULATOR)
    parser.add_argument("--webhook-url", default=default_webhook_url())
    parser.add_argument("--app-secret", default=defaults.app_secret)
    parser.add_argument("--access-token", default=defaults.access_token)
    parser.add_argument("--phone-number-id", default=defaults.phone_number_id)
    parser.add_argument("--display-number", default=defaults.display_number)
    parser.add_argument("--waba-id", default=defaults.waba_id)
    parser.add_argument("--graph-version", default=defaults.graph_version)
    parser.add_argument("--business-name", default=defaults.business_name)
    parser.add_argument(
        "--auto-read-delay",
        type=float,
        default=defaults.auto_read_delay,
        help="seconds after `delivered` to send `read` when no chat page is open (<0: never)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    config = SimConfig(
        webhook_url=args.webhook_url,
        app_secret=args.app_secret,
        access_token=args.access_token,
        phone_number_id=args.phone_number_id,
        display_number=args.display_number,
        waba_id=args.waba_id,
        graph_version=args.graph_version,
        business_name=args.business_name,
        auto_read_delay=None if args.auto_read_delay < 0 else args.auto_read_delay,
    )
    logging.basicConfig(level=logging.INFO)
    app = create_app(config)
    server = make_server(args.host, args.port, app, threaded=True)
    chat_url = f"http://{args.host}:{server.port}/"
    print(f"WhatsApp simulator: chat {chat_url}  webhooks -> {config.webhook_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        shutdown_app(app)
        server.server_close()


if __name__ == "__main__":
    main()
