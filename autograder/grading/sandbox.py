"""The OS sandbox of a grading process, from Linux namespaces.

    outer_command(argv) -> the fork server's command inside bubblewrap
    enter(sandbox) -> None

runs in a freshly forked, single-threaded child of the fork server (see
forkserver.py) and returns inside the sandbox, ready to become a student's
kernel or a judge. What the process then has:

* its own user namespace, as an unprivileged user (when the grader runs as
  root, the process first becomes `sandbox.uid`, e.g. nobody), with every
  capability dropped, `no_new_privs` set and core dumps off;
* its own PID namespace, in which it is process 1: when it ends, the kernel
  kills everything it started (double forks and `setsid` included), and no
  process outside is visible or can be signalled;
* its own network namespace with nothing in it (no network, no abstract
  Unix sockets of other processes), IPC, UTS and cgroup namespaces;
* a fresh root file system: the Python environment and the system's
  libraries read-only at their usual paths, tmpfs (of `disk_mib` each) at
  /home/student (the working folder), /tmp, /dev/shm and /run/kernel, a
  minimal /dev and its own /proc. The course, the gradebook, other
  submissions, other kernels and the grader's files do not exist in it;
* resource limits on memory, file size, processes, open files and CPU time,
  and an environment holding nothing of the grader's.

The parent of process 1 stays outside the PID namespace as its warden: it
exits with the child's status, and when it is killed the kernel kills the
whole namespace. The grader reaches files inside (the
kernel's IPC sockets in /run/kernel) through the warden's /proc/PID/root.

Two walls. The fork server that all kernels and judges are forked from runs
inside bubblewrap (Debian's `bwrap`, `outer_command`): a read-only view of the
system and the Python environment, no network, an unprivileged user, gone with
the grader. Each process forked from it then enters its own sandbox above
(`enter`), which is what keeps kernels apart from each other and from the
grader. Where bwrap is missing, the fork server runs unwrapped and the second
wall alone holds (the grade report says which: MODES).

`check()` tries all of this once in a throw-away child and says what failed.
"""

import ctypes
import os
import platform
import pwd
import resource
import shutil
import signal
import stat
import sys
from dataclasses import asdict, dataclass, field

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38
PR_CAPBSET_DROP = 24
_SYSCALLS = {  # (pivot_root, capset) by machine
    "x86_64": (155, 126),
    "aarch64": (41, 91),
    "riscv64": (41, 91),
}

HOME = "/home/student"
RUNTIME = "/run/kernel"
USER_ID = 1000  # the user inside the sandbox
MODES = {
    "bubblewrap": "in bubblewrap, each kernel in its own namespaces",
    "namespaces": "each kernel in its own namespaces (bubblewrap not found)",
    "none": "NONE (--no-sandbox): a submission could read and change the course",
}
_libc = ctypes.CDLL(None, use_errno=True)


class SandboxError(OSError):
    """The sandbox could not be set up; the message says which step failed."""


@dataclass(frozen=True)
class Sandbox:
    """What a sandboxed process may see and use."""

    readonly: tuple = ()  # host paths visible read-only at the same path
    uid: int | None = None  # as root: the unprivileged user the process becomes
    gid: int | None = None
    memory_mib: int = 2048  # address space
    file_mib: int = 64  # largest file it may write
    disk_mib: int = 64  # size of each writable tmpfs
    processes: int = 256  # RLIMIT_NPROC (counts the outer user's processes)
    open_files: int = 1024
    cpu_seconds: int | None = None
    env: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)  # {name: bytes} written into the home folder
    isolate: bool = True  # False: no namespaces, only limits (--no-sandbox)
    home: str = HOME  # without isolation: a folder of the host

    @property
    def runtime(self):
        """Where the kernel's IPC sockets and connection file are, as it sees them."""
        return RUNTIME if self.isolate else os.path.join(self.home, ".run")


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise SandboxError(err, f"{what}: {os.strerror(err)}")


def _mount(source, target, fstype, flags, data=None):
    _check(
        _libc.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {source or fstype} on {target}",
    )


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _syscall_numbers():
    numbers = _SYSCALLS.get(platform.machine())
    if numbers is None:
        raise SandboxError(f"no sandbox for this machine type ({platform.machine()})")
    return numbers


# --- steps ---------------------------------------------------------------------


def _become_unprivileged(box):
    if os.getuid() == 0 and box.uid is not None:
        os.setgroups([])
        os.setresgid(box.gid, box.gid, box.gid)
        os.setresuid(box.uid, box.uid, box.uid)
    # dumpable again after the uid change: needed to write our own uid_map, and
    # for the grader to reach /run/kernel through /proc/PID/root of this warden
    _libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)


def _new_user_namespace():
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)")
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{USER_ID} {uid} 1")
    _write("/proc/self/gid_map", f"{USER_ID} {gid} 1")


def _other_namespaces():
    _check(
        _libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS),
        "unshare(mount, pid, net, ipc, uts)",
    )
    _libc.unshare(CLONE_NEWCGROUP)  # optional: older kernels lack it


def _warden(child, alive_w):
    """The parent outside the PID namespace: relay interrupts, mirror the exit.

    The child leads a session of its own, so nothing inside can signal the
    warden's process group; an interrupt sent to the warden (jupyter_client
    signals its group) is passed on, SIGTERM ends the child.
    """
    signal.signal(signal.SIGINT, lambda s, f: os.kill(child, signal.SIGINT))
    for signum in (signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda s, f: os.kill(child, signal.SIGKILL))
    close_all_but({alive_w})
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            os._exit(1)
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def close_all_but(keep):
    """Close every file descriptor not in `keep`."""
    low = 0
    for fd in sorted(keep):
        if fd > low:  # os.closerange(a, b) with b <= a closes everything from a on
            os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 20)


def _statvfs_flags(path):
    """Mount flags of `path` that a remount in a user namespace must keep."""
    f = os.statvfs(path).f_flag
    flags = 0
    for st, ms in ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC)):
        if f & st:
            flags |= ms
    return flags


def _bind(source_fd, target, readonly=True):
    st = os.stat(f"/proc/self/fd/{source_fd}")
    if stat.S_ISDIR(st.st_mode):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.exists(target):
            open(target, "w").close()
    _mount(f"/proc/self/fd/{source_fd}", target, None, MS_BIND | MS_REC)
    if readonly:
        # through the descriptor: the host path may be under the new root's mount point
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY | _statvfs_flags(f"/proc/self/fd/{source_fd}")
        _mount(None, target, None, flags)


def _tmpfs(target, mib, mode="0755"):
    os.makedirs(target, exist_ok=True)
    opts = f"size={mib}m,mode={mode},uid={USER_ID},gid={USER_ID}"
    _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, opts)


_TOP_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
_ETC = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "fonts",
    "localtime",
    "alternatives",
    "nsswitch.conf",
    "mime.types",
)
_DEVICES = ("null", "zero", "full", "random", "urandom")


def _visible_paths(box):
    """Host paths bound into the new root, parents before children."""
    paths = ["/usr", *(f"/etc/{name}" for name in _ETC)]
    for top in _TOP_LINKS:
        if os.path.isdir(f"/{top}") and not os.path.islink(f"/{top}"):
            paths.append(f"/{top}")
    paths += [os.path.realpath(p) for p in box.readonly]
    seen, ordered = set(), []
    for p in sorted(paths, key=lambda p: p.count("/")):
        if p not in seen and os.path.exists(p):
            seen.add(p)
            ordered.append(p)
    return ordered


def _build_root(box, new_root):
    """A tmpfs root with the visible paths bound in, then pivot into it."""
    sources = {p: os.open(p, os.O_PATH | os.O_CLOEXEC) for p in _visible_paths(box)}
    devices = {d: os.open(f"/dev/{d}", os.O_PATH | os.O_CLOEXEC) for d in _DEVICES}
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing propagates back to the host
    _mount("tmpfs", new_root, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=0755")
    for top in _TOP_LINKS:
        if os.path.islink(f"/{top}"):
            os.symlink(os.readlink(f"/{top}"), f"{new_root}/{top}")
    # the writable tmpfs first, then the read-only paths, so that an environment
    # under /tmp (a checkout in /tmp) is bound on top of the sandbox's own /tmp
    _tmpfs(f"{new_root}/tmp", box.disk_mib, "1777")
    _tmpfs(f"{new_root}{HOME}", box.disk_mib, "0700")
    _tmpfs(f"{new_root}{RUNTIME}", 1, "0700")
    for path, fd in sources.items():
        _bind(fd, new_root + path)
    os.makedirs(f"{new_root}/etc", exist_ok=True)
    _write(f"{new_root}/etc/passwd", f"student:x:{USER_ID}:{USER_ID}::{HOME}:/bin/false\n")
    _write(f"{new_root}/etc/group", f"student:x:{USER_ID}:\n")
    _write(f"{new_root}/etc/hostname", "sandbox\n")
    os.makedirs(f"{new_root}/dev", exist_ok=True)
    _mount("tmpfs", f"{new_root}/dev", "tmpfs", MS_NOSUID, "size=64k,mode=0755")
    for name, fd in devices.items():
        _bind(fd, f"{new_root}/dev/{name}", readonly=False)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):  # fmt: skip
        os.symlink(target, f"{new_root}/dev/{name}")
    _tmpfs(f"{new_root}/dev/shm", box.disk_mib, "1777")
    os.makedirs(f"{new_root}/proc", exist_ok=True)
    _mount("proc", f"{new_root}/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for fd in (*sources.values(), *devices.values()):
        os.close(fd)
    pivot_root, _ = _syscall_numbers()
    os.makedirs(f"{new_root}/.old", exist_ok=True)
    _check(_libc.syscall(pivot_root, new_root.encode(), f"{new_root}/.old".encode()), "pivot_root")
    os.chdir("/")
    _check(_libc.umount2(b"/.old", MNT_DETACH), "umount the old root")
    os.rmdir("/.old")
    _mount(None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _place_files(box):
    for name, data in box.files.items():
        path = os.path.join(box.home, name)
        if os.path.dirname(os.path.normpath(path)) != os.path.normpath(box.home):
            raise SandboxError(f"not a plain file name: {name!r}")
        with open(path, "wb") as f:
            f.write(data)


def _limit(kind, value):
    soft, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, hard))


def _set_limits(box):
    _limit(resource.RLIMIT_AS, box.memory_mib * 2**20)
    _limit(resource.RLIMIT_FSIZE, box.file_mib * 2**20)
    if box.isolate:
        _limit(resource.RLIMIT_NPROC, box.processes)
    _limit(resource.RLIMIT_NOFILE, box.open_files)
    _limit(resource.RLIMIT_CORE, 0)
    if box.cpu_seconds:
        _limit(resource.RLIMIT_CPU, int(box.cpu_seconds))


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]  # fmt: skip


def _drop_privileges():
    for cap in range(64):
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() == 22:
            break  # EINVAL: past the last capability this kernel knows
    _, capset = _syscall_numbers()
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    _check(_libc.syscall(capset, ctypes.byref(header), ctypes.byref(data)), "capset")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def _environment(box):
    os.environ.clear()
    os.environ.update(
        {
            "HOME": box.home,
            "USER": "student",
            "LOGNAME": "student",
            "PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/bin", "/bin"]),
            "LANG": "C.UTF-8",
            "TMPDIR": "/tmp" if box.isolate else box.home,
            "MPLCONFIGDIR": os.path.join("/tmp" if box.isolate else box.home, ".matplotlib"),
            **box.env,
        }
    )


def enter_unisolated(box, keep_fds=()):
    """--no-sandbox: only the working folder, the environment and the limits."""
    os.makedirs(box.runtime, exist_ok=True)
    _place_files(box)
    _environment(box)
    os.chdir(box.home)
    close_all_but({0, 1, 2, *keep_fds})
    _set_limits(box)


def enter(box, keep_fds=()):
    """Move this (forked, single-threaded) process into a new sandbox.

    Returns in the sandboxed process 1; the calling process stays outside as
    its warden and never returns. `keep_fds` stay open, all others close.
    """
    if not box.isolate:
        return enter_unisolated(box, keep_fds)
    _syscall_numbers()
    _become_unprivileged(box)
    _new_user_namespace()
    _other_namespaces()
    alive_r, alive_w = os.pipe()
    child = os.fork()
    if child:
        os.close(alive_r)
        _warden(child, alive_w)
    os.close(alive_w)
    os.setsid()
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    os.set_blocking(alive_r, False)
    try:
        if os.read(alive_r, 1) == b"":
            os._exit(1)  # the warden died before we could watch it
    except BlockingIOError:
        pass
    os.close(alive_r)
    _build_root(box, "/tmp")
    _libc.sethostname(b"sandbox", 7)
    _place_files(box)
    _environment(box)
    os.chdir(HOME)
    close_all_but({0, 1, 2, *keep_fds})
    _set_limits(box)
    _drop_privileges()


def environment_paths():
    """The host paths a sandboxed Python needs: this environment and its packages."""
    import autograder

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    paths.add(os.path.dirname(os.path.realpath(sys.executable)))
    paths.add(os.path.dirname(os.path.abspath(autograder.__file__)))  # an editable install
    # site-packages outside the prefixes (never the current folder or a course)
    for entry in sys.path:
        if entry and os.path.basename(entry) in ("site-packages", "dist-packages"):
            paths.add(entry)
    return tuple(sorted(p for p in paths if p and os.path.exists(p)))


def outer_command(argv, readonly, env=None):
    """`argv` run inside bubblewrap with the same view of the system as the
    sandboxes (read-only) and only the environment `env`, or None when bwrap
    is not installed."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return None
    args = [bwrap, "--unshare-user", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--clearenv"]  # fmt: skip
    for top in _TOP_LINKS:
        if os.path.islink(f"/{top}"):
            args += ["--symlink", os.readlink(f"/{top}"), f"/{top}"]
    args += ["--tmpfs", "/tmp"]  # first: an environment under /tmp is bound on top
    for path in _visible_paths(Sandbox(readonly=tuple(readonly))):
        args += ["--ro-bind", path, path]
    args += ["--dev", "/dev", "--proc", "/proc", "--chdir", "/tmp"]
    env = {
        "HOME": "/tmp",
        "PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/bin"]),
        **(env or {}),
    }
    for name, value in env.items():
        args += ["--setenv", name, value]
    return args + ["--", *argv]


def drop_privileges_if_root():
    """For a root grader's sandbox launcher (a preexec_fn): become `nobody`."""
    if os.getuid() == 0:
        uid, gid = _unprivileged_user()
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)


def _unprivileged_user():
    """(uid, gid) a root grader's sandboxes run as: `nobody`."""
    try:
        entry = pwd.getpwnam("nobody")
        return entry.pw_uid, entry.pw_gid
    except KeyError:
        return 65534, 65534


def _tasks_of(uid):
    """Processes and threads of `uid` now (RLIMIT_NPROC counts them all)."""
    count = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.stat(f"/proc/{pid}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{pid}/task"))
            except OSError:
                pass
    return count


def boxes(memory_mib, time_budget, isolate=True):
    """(kernel box, judge box) as dicts of Sandbox fields, for the fork server."""
    uid, gid = _unprivileged_user() if os.getuid() == 0 else (None, None)
    processes = _tasks_of(uid if uid is not None else os.getuid()) + 512
    common = {
        "readonly": environment_paths(),
        "uid": uid,
        "gid": gid,
        "processes": processes,
        "isolate": isolate,
    }
    kernel = Sandbox(
        memory_mib=memory_mib, cpu_seconds=int(time_budget) + 60, file_mib=64, disk_mib=64,
        open_files=1024, **common,
    )  # fmt: skip
    judge = Sandbox(
        memory_mib=4096, cpu_seconds=int(time_budget) + 120, file_mib=16, disk_mib=16,
        open_files=256, **common,
    )  # fmt: skip
    return _fields(kernel), _fields(judge)


def _fields(box):
    fields = asdict(box)
    fields["readonly"] = list(fields["readonly"])
    return fields


HOW_TO_ENABLE = """Grading kernels run in a sandbox made of Linux user, mount, PID and network
namespaces, which this machine does not allow ({reason}). To enable it:
  - Debian/Ubuntu: sudo sysctl -w kernel.unprivileged_userns_clone=1
  - Ubuntu 23.10 and later (AppArmor): sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0
  - in a container: run it with user namespaces allowed (e.g. docker --security-opt seccomp=unconfined)
  - check: sysctl user.max_user_namespaces (must be > 0)
Or grade without a sandbox (`grade --no-sandbox`): then a submission can read
and change anything the grading user can, so do this only for trusted work."""


def check(box_fields):
    """Set up a throw-away sandbox like `box_fields`; raise SandboxError saying
    why and how to enable it when that fails."""
    box = Sandbox(**{**box_fields, "readonly": tuple(box_fields["readonly"])})
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            enter(box, keep_fds=[write])
            probe = open(os.path.join(HOME, ".probe"), "w")
            probe.close()
            os.write(write, b"ok")
        except BaseException as exc:
            os.write(write, f"{exc}"[:500].encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        answer = f.read().decode(errors="replace")
    os.waitpid(pid, 0)
    if answer != "ok":
        raise SandboxError(HOW_TO_ENABLE.format(reason=answer or "the test sandbox died"))
