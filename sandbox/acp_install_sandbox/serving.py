"""Running an ``http.server`` in a background thread: the one lifecycle both sandbox servers use."""

from __future__ import annotations

import threading
from http.server import HTTPServer


class BackgroundServer:
    """Owns ``self._httpd`` (set by the subclass) and the thread that serves it."""

    thread_name = "sandbox-server"
    _httpd: HTTPServer

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def address(self) -> str:
        return str(self._httpd.server_address[0])

    def start(self) -> None:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() waits for a serve_forever that never ran
            self._httpd.shutdown()
        self._httpd.server_close()
        self._after_close()
        if self._thread:
            self._thread.join(timeout=5)

    def _after_close(self) -> None:
        """Hook for servers that must also drop open connections (long watches)."""
