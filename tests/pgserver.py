"""A throwaway PostgreSQL server for the tests: initdb + pg_ctl from the binaries on the
machine, on a Unix socket in a private temp folder, trust authentication, no TCP port.

initdb and postgres refuse to run as root (CI runs as root): then they run as the `postgres`
user the Debian package creates (else `nobody`), through runuser / setpriv, in a folder that
user owns. `.ci/run` installs the `postgresql` package when initdb is missing, so in CI this
never skips; elsewhere the tests skip and say why.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass


def find_bindir() -> str | None:
    """The folder holding initdb and pg_ctl: PATH, pg_config --bindir, or Debian's layout."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return os.path.dirname(on_path)
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out and os.path.exists(os.path.join(out, "initdb")):
            return out
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]), reverse=True)
    return os.path.dirname(found[0]) if found else None


@dataclass
class Server:
    folder: str
    bindir: str
    user: str | None  # the OS user the server runs as (None: the current one)

    @property
    def url(self) -> str:
        role = self.user or pwd.getpwuid(os.getuid()).pw_name
        return f"postgresql://{role}@/postgres?host={self.folder}&port=5432"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self.user is not None:
            cmd = [shutil.which("runuser") or "runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=self.folder)

    def stop(self) -> None:
        self._run(os.path.join(self.bindir, "pg_ctl"), "-D", os.path.join(self.folder, "data"), "-m", "immediate",
                  "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def start() -> Server:
    """A running server; raises RuntimeError saying why when it cannot start."""
    bindir = find_bindir()
    if bindir is None:
        raise LookupError("no PostgreSQL binaries (initdb, pg_ctl) on this machine; `.ci/run` installs them")
    user = None
    if os.geteuid() == 0:
        for name in ("postgres", "nobody"):
            try:
                pwd.getpwnam(name)
            except KeyError:
                continue
            user = name
            break
        if user is None:
            raise RuntimeError("running as root and no `postgres` or `nobody` user to run the server as")
    folder = tempfile.mkdtemp(prefix="pr-pg-", dir="/tmp")  # short: a socket path has ~100 characters
    if user is not None:
        pw = pwd.getpwnam(user)
        os.chown(folder, pw.pw_uid, pw.pw_gid)
    os.chmod(folder, 0o700)
    server = Server(folder, bindir, user)
    data = os.path.join(folder, "data")
    done = server._run(os.path.join(bindir, "initdb"), "-D", data, "--auth=trust", "--no-sync", "-E", "UTF8",
                       "--locale=C", "-U", user or pwd.getpwuid(os.getuid()).pw_name)
    if done.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
    opts = f"-c listen_addresses='' -c unix_socket_directories='{folder}' -c fsync=off -c port=5432"
    done = server._run(os.path.join(bindir, "pg_ctl"), "-D", data, "-o", opts, "-l", os.path.join(folder, "log"),
                       "-w", "-t", "60", "start")
    if done.returncode != 0:
        log = ""
        try:
            with open(os.path.join(folder, "log"), encoding="utf-8", errors="replace") as fh:
                log = fh.read()[-2000:]
        except OSError:
            pass
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"pg_ctl start failed: {done.stderr.strip()} {log}")
    return server
