"""What the repository's tests share: where the checkout is, its APIs, and the CLI as a user runs it.

(A module of its own, not conftest.py: two conftest modules would shadow each other on import.)
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from apicontract.paths import layout

ROOT = Path(__file__).resolve().parents[1]
APIS = layout(ROOT).apis()


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the installed command line as a user would, capturing what it prints."""
    return subprocess.run(
        [sys.executable, "-m", "apicontract", *args], cwd=cwd or ROOT, capture_output=True, text=True, check=False
    )


def free_port() -> int:
    """A TCP port free on loopback now (for a server or an endpoint a test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
