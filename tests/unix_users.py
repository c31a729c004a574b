"""Commands run as other Unix users, and temporary users, for tests that run as root (as CI does).

Used by the exchange loop (students who are separate users) and the JupyterHub test.
"""

import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent
IS_ROOT = os.geteuid() == 0


def run(cmd, cwd, env=None, user=None, check=True):
    """Run `cmd` (a list) in `cwd`, as `user` (uid, gid) if given, in a clean environment + `env`."""
    base = {"PATH": f"{BIN}:/usr/bin:/bin", "LANG": "C.UTF-8"}
    base.update(env or {})
    if user:
        cmd = ["setpriv", f"--reuid={user[0]}", f"--regid={user[1]}", "--init-groups", *cmd]
    result = subprocess.run(cmd, cwd=cwd, env=base, capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, (cmd, result.stdout[-2000:], result.stderr[-3000:])
    return result


def add_user(name, home, shell="/usr/sbin/nologin"):
    """A Unix user owning `home` (made private, mode 700, with all it holds); returns (uid, gid)."""
    run(
        [shutil.which("useradd"), "--no-create-home", "--home-dir", str(home), "--shell", shell,
         "--user-group", name],
        cwd="/",
    )  # fmt: skip
    entry = pwd.getpwnam(name)
    for path in (home, *home.rglob("*")):
        shutil.chown(path, entry.pw_uid, entry.pw_gid)
    home.chmod(0o700)
    return entry.pw_uid, entry.pw_gid


def remove_user(name):
    subprocess.run([shutil.which("userdel") or "userdel", name], capture_output=True)


def usable_by_others(*modules):
    """Can an unprivileged user run this environment's Python and import `modules`?

    Not when the environment is built from a Python under a private home (see scripts/setup.sh).
    """
    probe = [sys.executable, "-c", f"import {', '.join(modules)}"]
    return run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *probe], "/",
               check=False).returncode == 0  # fmt: skip
