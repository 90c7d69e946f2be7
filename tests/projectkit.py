"""What the repository's tests share: where the checkout is, its APIs, and the CLI as a user runs it.

(A module of its own, not conftest.py: two conftest modules would shadow each other on import.)
"""

from __future__ import annotations

import fcntl
import shutil
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


PEERS = ROOT / "tools" / "peers"
_PEER_FILES = ("node_modules/.bin/spectral", "node_modules/.bin/redocly", "node_modules/request/package.json")


def peers_installed() -> Path:
    """tools/peers/node_modules, installed once with `npm ci` from the lock file. Test processes run side by
    side (xdist) and `npm ci` starts by deleting node_modules, so the check and the install hold a file lock."""
    with open(PEERS / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not all((PEERS / name).exists() for name in _PEER_FILES):
            npm = shutil.which("npm")
            assert npm, "npm is needed to install the peers' tools (tools/peers)"
            done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=PEERS, capture_output=True, text=True)
            assert done.returncode == 0, done.stderr[-2000:]
    return PEERS / "node_modules"
