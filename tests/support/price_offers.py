"""The bulk price list CSV served on 127.0.0.1, for the SDK Tracker's BRAKET_PRICE_OFFERS_URL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def serve_offer_file(text: str) -> Iterator[str]:
    """Serve `text` at http://127.0.0.1:<port>/offers/v1.0/aws/AmazonBraket/current/index.csv."""
    body = text.encode("utf-8")
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/offers/v1.0/aws/AmazonBraket/current/index.csv"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
