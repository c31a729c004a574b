"""The per-process sandbox on its own: a forked child enters it and reports
what it can see and do (tests/test_hostile.py attacks it through `grade`)."""

import json
import os
import sys
import tempfile

import pytest

from autograder.grading import sandbox

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux namespaces")

PROBE = r"""
import json, os, resource, socket
report = {"uid": os.getuid(), "pid": os.getpid(), "cwd": os.getcwd(), "root": sorted(os.listdir("/")),
          "pids": [p for p in os.listdir("/proc") if p.isdigit()], "files": sorted(os.listdir("."))}
status = open("/proc/self/status").read()
report["caps"] = [line.split()[1] for line in status.splitlines() if line.startswith("CapEff")][0]
report["no_new_privs"] = [line.split()[1] for line in status.splitlines() if line.startswith("NoNewPrivs")][0]
for name, path in [("course", COURSE), ("venv_write", VENV + "/evil.pth"), ("usr_write", "/usr/evil")]:
    try:
        open(path, "w" if "write" in name else "r").close()
        report[name] = "possible"
    except OSError as exc:
        report[name] = type(exc).__name__
try:
    socket.create_connection(("127.0.0.1", 22), timeout=1)
    report["network"] = "possible"
except OSError as exc:
    report["network"] = type(exc).__name__
report["env"] = sorted(os.environ)
report["memory"] = resource.getrlimit(resource.RLIMIT_AS)[0]
try:
    with open("/tmp/big", "wb") as f:
        f.write(b"x" * (70 * 2**20))
    report["disk"] = "possible"
except OSError as exc:
    report["disk"] = type(exc).__name__
"""


def enter_and_probe(box, course, probe=PROBE):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            sandbox.enter(box, keep_fds=[write])
            code = probe.replace("COURSE", repr(str(course))).replace("VENV", repr(sys.prefix))
            namespace = {}
            exec(code, namespace)
            os.write(write, json.dumps(namespace["report"]).encode())
        except BaseException as exc:
            os.write(write, json.dumps({"error": repr(exc)}).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        out = f.read()
    os.waitpid(pid, 0)
    return json.loads(out)


def _address_space_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmSize:"):
            return int(line.split()[1]) // 1024 + 1
    return 0


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    course = tmp_path_factory.mktemp("course") / "nbgrader_config.py"
    course.write_text("secret")
    # the forked test process already has the address space of pytest: the limit goes on top
    kernel_box, _ = sandbox.boxes(memory_mib=_address_space_mib() + 1024, time_budget=30)
    box = sandbox.Sandbox(**{**kernel_box, "readonly": tuple(kernel_box["readonly"]),
                             "files": {"data.csv": b"1,2"}, "env": {"ONLY": "this"}})  # fmt: skip
    os.environ["GRADER_SECRET"] = "must not reach the sandbox"
    try:
        return dict(enter_and_probe(box, course), memory_mib_set=box.memory_mib)
    finally:
        del os.environ["GRADER_SECRET"]


def test_sandbox_is_a_fresh_unprivileged_world(report):
    assert "error" not in report, report
    assert report["uid"] == sandbox.USER_ID and report["pid"] == 1 and report["pids"] == ["1"]
    assert report["caps"] == "0000000000000000" and report["no_new_privs"] == "1"
    assert report["cwd"] == sandbox.HOME and report["files"] == ["data.csv"]
    assert "home" in report["root"] and "root" not in report["root"]


def test_sandbox_sees_no_course_and_changes_nothing(report):
    assert report["course"] == "FileNotFoundError"
    assert report["venv_write"] == "OSError" and report["usr_write"] == "OSError"
    assert report["network"] == "OSError"


def test_sandbox_limits_and_environment(report):
    assert report["memory"] == report["memory_mib_set"] * 2**20
    assert report["disk"] == "OSError"
    assert "GRADER_SECRET" not in report["env"] and "ONLY" in report["env"]


def test_a_read_only_path_under_tmp_lies_on_top_of_the_private_tmp():
    """An environment in a checkout under /tmp stays visible (and read-only) in the sandbox."""
    with tempfile.TemporaryDirectory(dir="/tmp") as checkout:
        os.chmod(checkout, 0o755)  # as a clone's folder: others may enter it
        env = os.path.join(checkout, "env")
        os.mkdir(env)
        with open(os.path.join(env, "module.py"), "w") as f:
            f.write("x = 1")
        kernel_box, _ = sandbox.boxes(memory_mib=_address_space_mib() + 1024, time_budget=30)
        box = sandbox.Sandbox(**{**kernel_box, "readonly": (*kernel_box["readonly"], env)})
        probe = (
            f"report = {{'read': open({env + '/module.py'!r}).read()}}\n"
            "open('/tmp/mine', 'w').close()\n"
            "try:\n"
            f"    open({env + '/evil.py'!r}, 'w').close()\n"
            "    report['write'] = 'possible'\n"
            "except OSError as exc:\n"
            "    report['write'] = type(exc).__name__\n"
        )
        report = enter_and_probe(box, checkout, probe)
    assert report == {"read": "x = 1", "write": "OSError"}, report


def test_check_refuses_with_how_to_enable(monkeypatch):
    monkeypatch.setattr(sandbox, "_new_user_namespace", lambda: (_ for _ in ()).throw(
        sandbox.SandboxError("unshare(CLONE_NEWUSER): Operation not permitted")))  # fmt: skip
    kernel_box, _ = sandbox.boxes(memory_mib=1024, time_budget=30)
    with pytest.raises(sandbox.SandboxError, match="Operation not permitted") as info:
        sandbox.check(kernel_box)
    assert "--no-sandbox" in str(info.value) and "sysctl" in str(info.value)
