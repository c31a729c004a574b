"""hub/jupyterhub_config.py on one machine: a real JupyterHub, real Unix users, over HTTP.

The test starts `jupyterhub -f hub/jupyterhub_config.py` (its proxy is the `configurable-http-proxy`
command) on free local ports, with temporary folders and Unix users it creates: an instructor, the
grader account the formgrader service runs as, and two students. The course (tests/course_fixtures)
is released to a temporary exchange (mode 1777), next to another course's release. Then:

- the instructor logs in and the `autodiff` service (the formgrader, `jupyterhub-singleuser` as the
  grader account in the course directory) lists the course's assignment;
- a student logging in is refused by the hub at the service's OAuth step (403);
- the grader enrols one student with `nbgrader db student add` in the service's environment, as
  nbgrader documents; JupyterHubAuthPlugin puts them in the hub group nbgrader-autodiff;
- both students' servers spawn as their own Unix users; nbgrader's course list (the assignment
  list's /courses) shows the enrolled student "autodiff" only (not the other course in the
  exchange), the other student nothing; the enrolled student fetches the released assignment
  through the assignment list API into ~/autodiff/, as their own Unix user.

Authentication is JupyterHub's shared-password authenticator, set on the command line; the config
itself uses PAM. Needs root (to create users and spawn servers as them) and jupyterhub installed;
skipped otherwise. Everything started is stopped and the users are removed, even on failure.
"""

import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from course_fixtures import ROOT, make_course, make_notebook
from unix_users import BIN, IS_ROOT, add_user, remove_user, run, usable_by_others

AID = "00_demo"
COURSE = "autodiff"

pytestmark = [
    pytest.mark.skipif(not IS_ROOT, reason="starts servers as other Unix users: needs root"),
    pytest.mark.skipif(
        importlib.util.find_spec("jupyterhub") is None, reason="jupyterhub is not installed"
    ),
    pytest.mark.skipif(
        not (BIN / "configurable-http-proxy").exists()
        and not shutil.which("configurable-http-proxy"),
        reason="no configurable-http-proxy command",
    ),
    pytest.mark.skipif(not shutil.which("useradd"), reason="no useradd"),
]

requests = pytest.importorskip("requests")


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _processes(marker, uids):
    """Pids of processes this test started: with `marker` in their environment, or run by `uids`."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            uid = entry.stat().st_uid
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        env = dict(e.decode(errors="replace").split("=", 1) for e in environ if b"=" in e)
        if uid in uids or any(marker in v for v in env.values()):
            found[int(entry.name)] = (uid, env)
    return found


class Hub:
    def __init__(self, base):
        self.base = base
        self.tag = f"adh{os.getpid() % 100000}"
        self.users = {}  # role -> (name, uid, gid, home)
        self.proc = None
        self.password = secrets.token_urlsafe(16)
        self.url = None

    def add_user(self, role):
        name = f"{self.tag}{role}"
        home = self.base / "home" / name
        home.mkdir(parents=True)
        uid, gid = add_user(name, home, shell="/bin/sh")
        self.users[role] = (name, uid, gid, home)
        return self.users[role]

    def name(self, role):
        return self.users[role][0]

    def start(self, env):
        public, api, hub_port, service_port = _free_ports(4)
        self.url = f"http://127.0.0.1:{public}"
        state = self.base / "hub"
        state.mkdir(mode=0o700)
        self.log = open(state / "jupyterhub.log", "w")  # closed in stop()
        full_env = {
            "PATH": f"{BIN}:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "HOME": str(state),
            "AUTODIFF_FORMGRADER_PORT": str(service_port),
            **env,
        }
        self.proc = subprocess.Popen(
            [
                str(BIN / "jupyterhub"), "-f", str(ROOT / "hub" / "jupyterhub_config.py"),
                "--ip=127.0.0.1", f"--port={public}", f"--JupyterHub.hub_port={hub_port}",
                f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{api}",
                f"--JupyterHub.db_url=sqlite:///{state / 'jupyterhub.sqlite'}",
                "--JupyterHub.authenticator_class=shared-password",
                f"--SharedPasswordAuthenticator.user_password={self.password}",
            ],
            cwd=state, env=full_env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.tail()
            try:
                if requests.get(self.url + "/hub/api", timeout=5).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.3)
        raise AssertionError("the hub did not answer in 60 s\n" + self.tail())

    def tail(self):
        self.log.flush()
        return (self.base / "hub" / "jupyterhub.log").read_text()[-6000:]

    def login(self, role):
        """A requests session logged in through the hub's login form (no redirect: no spawn)."""
        s = requests.Session()
        page = s.get(self.url + "/hub/login", timeout=30)
        xsrf = re.search(r'name="_xsrf"\s+value="([^"]+)"', page.text).group(1)
        r = s.post(
            self.url + "/hub/login",
            data={"username": self.name(role), "password": self.password, "_xsrf": xsrf},
            allow_redirects=False,
            timeout=30,
        )
        assert r.status_code == 302, (r.status_code, r.text[-1000:])
        return s

    def spawn(self, session, role):
        """Start the user's server as the hub's home page does (no options form: GET spawns)."""
        r = session.get(
            f"{self.url}/hub/spawn/{self.name(role)}", allow_redirects=False, timeout=30
        )
        assert r.status_code == 302, (r.status_code, r.text[-1000:])

    def wait_for_server(self, session, role, timeout=60):
        """Open the user's JupyterLab (the hub shows spawn-pending until the server is up, then
        the server's OAuth logs the session in)."""
        base = f"{self.url}/user/{self.name(role)}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = session.get(f"{base}/lab", timeout=30)
            if r.status_code == 200 and r.url.startswith(f"{base}/lab"):
                status = session.get(f"{base}/api/status", timeout=30)
                assert status.status_code == 200, (status.status_code, status.text[-500:])
                return
            time.sleep(0.5)
        raise AssertionError(f"{role}'s server did not start\n" + self.tail())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # the hub stops servers, services, proxy
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self.proc:
            self.log.close()
        # anything left that this test started: by its environment (paths under base) or users
        uids = {u[1] for u in self.users.values()}
        for _ in range(20):
            left = _processes(str(self.base), uids)
            if not left:
                break
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.2)
        for name, *_ in self.users.values():
            remove_user(name)


def _service_process(hub):
    """The formgrader service's process: (pid, uid, environment)."""
    for pid, (uid, env) in _processes(str(hub.base), set()).items():
        if env.get("JUPYTERHUB_SERVICE_NAME") == COURSE:
            return pid, uid, env
    raise AssertionError("no process for the autodiff service\n" + hub.tail())


def _server_process(hub, role):
    for pid, (uid, env) in _processes(str(hub.base), set()).items():
        if env.get("JUPYTERHUB_USER") == hub.name(role) and "JUPYTERHUB_SERVICE_NAME" not in env:
            return pid, uid, env
    raise AssertionError(f"no server process for {role}")


@pytest.fixture(scope="module")
def hub():
    if not usable_by_others("jupyterhub", "nbgrader"):
        pytest.skip("this environment's Python is not usable by other Unix users")
    base = Path(tempfile.mkdtemp(prefix="autodiff-hub-"))
    base.chmod(0o755)
    h = Hub(base)
    try:
        (base / "home").mkdir(mode=0o755)
        for role in ("i", "g", "a", "b"):  # instructor, grader, two students
            h.add_user(role)
        exchange = base / "exchange"
        exchange.mkdir()
        exchange.chmod(0o1777)  # as nbgrader documents for /srv/nbgrader/exchange
        etc = base / "etc-jupyter"  # stands in for /etc/jupyter
        etc.mkdir()
        shutil.copy2(ROOT / "hub" / "nbgrader_config.py", etc / "nbgrader_config.py")

        # the course, in the grader account's home, released to the exchange (nbgrader's commands)
        _, g_uid, g_gid, g_home = h.users["g"]
        course = g_home / COURSE
        course.mkdir()
        make_course(course, {AID: make_notebook()})
        env = {"NBGRADER_EXCHANGE": str(exchange), "HOME": str(base)}
        run([str(BIN / "nbgrader"), "generate_assignment", AID], course, env)
        run([str(BIN / "nbgrader"), "release_assignment", AID], course, env)
        # another course's release in the same exchange: the students are not in that course
        shutil.copytree(exchange / COURSE, exchange / "othercourse", symlinks=True)
        subprocess.run(["chown", "-R", f"{g_uid}:{g_gid}", str(course)], check=True)

        h.start(
            {
                "AUTODIFF_INSTRUCTORS": h.name("i"),
                "AUTODIFF_STUDENTS": f"{h.name('a')},{h.name('b')}",
                "AUTODIFF_GRADER": h.name("g"),
                "AUTODIFF_COURSE_DIR": str(course),
                "NBGRADER_EXCHANGE": str(exchange),
                "JUPYTER_CONFIG_PATH": str(etc),
            }
        )
        h.course, h.exchange = course, exchange
        yield h
    finally:
        h.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def instructor(hub):
    return hub.login("i")


def test_instructor_reaches_the_formgrader_service(hub, instructor):
    r = instructor.get(f"{hub.url}/services/{COURSE}/formgrader/api/assignments", timeout=60)
    assert r.status_code == 200, (r.status_code, r.url, r.text[-2000:], hub.tail())
    assert r.url.startswith(f"{hub.url}/services/{COURSE}/formgrader/")
    assignments = r.json()
    assert [a["name"] for a in assignments] == [AID]
    assert assignments[0]["status"] == "released"
    assert "service-autodiff" in {c.name for c in instructor.cookies}  # logged in to the service
    page = instructor.get(f"{hub.url}/services/{COURSE}/", timeout=60)  # lands on the formgrader
    assert page.status_code == 200
    assert page.url == f"{hub.url}/services/{COURSE}/formgrader/manage_assignments"
    assert "Manage Assignments" in page.text


def test_the_service_runs_as_the_grader_in_the_course_directory(hub, instructor):
    instructor.get(f"{hub.url}/services/{COURSE}/formgrader/api/assignments", timeout=60)
    pid, uid, env = _service_process(hub)
    assert uid == hub.users["g"][1]
    assert os.readlink(f"/proc/{pid}/cwd") == str(hub.course)
    assert env["NBGRADER_EXCHANGE"] == str(hub.exchange)


def test_a_student_is_refused_by_the_formgrader_service(hub):
    student = hub.login("b")
    r = student.get(f"{hub.url}/services/{COURSE}/formgrader/api/assignments", timeout=60)
    # the service sends the student to the hub's OAuth authorization, which refuses:
    # the student lacks access:services!service=autodiff
    assert r.status_code == 403, (r.status_code, r.url, r.text[-1000:])
    assert r.url.startswith(f"{hub.url}/hub/api/oauth2/authorize")
    assert "Manage Assignments" not in r.text
    # no login cookie for the service (named after its OAuth client), only the handshake's state
    assert "service-autodiff" not in {c.name for c in student.cookies}


@pytest.fixture(scope="module")
def students(hub, instructor):
    """Enrol student a as nbgrader documents, then spawn both students' and the instructor's
    servers."""
    # `nbgrader db student add` in the service's environment (what a terminal in the formgrader
    # service gets): JupyterHubAuthPlugin adds the student to nbgrader-autodiff with the
    # service's token.
    instructor.get(f"{hub.url}/services/{COURSE}/formgrader/api/assignments", timeout=60)
    _, _, service_env = _service_process(hub)
    keep = ("JUPYTERHUB_API_TOKEN", "JUPYTERHUB_API_URL", "JUPYTERHUB_USER", "JUPYTER_CONFIG_PATH")
    env = {k: service_env[k] for k in keep} | {"HOME": str(hub.users["g"][3])}
    env["NBGRADER_EXCHANGE"] = str(hub.exchange)
    _, g_uid, g_gid, _ = hub.users["g"]
    run(
        [str(BIN / "nbgrader"), "db", "student", "add", hub.name("a"), "--last-name=A"],
        hub.course, env, user=(g_uid, g_gid),
    )  # fmt: skip
    group = requests.get(
        f"{env['JUPYTERHUB_API_URL']}/groups/nbgrader-{COURSE}",
        headers={"Authorization": f"token {env['JUPYTERHUB_API_TOKEN']}"},
        timeout=30,
    )
    sessions = {role: hub.login(role) for role in ("a", "b")} | {"i": instructor}
    for role, s in sessions.items():
        hub.spawn(s, role)
    for role, s in sessions.items():
        hub.wait_for_server(s, role)
    return {"sessions": sessions, "group": group}


def test_enrolment_through_nbgrader_puts_the_student_in_the_hub_group(hub, students):
    group = students["group"]
    assert group.status_code == 200, group.text
    members = group.json()["users"]
    assert hub.name("a") in members
    assert hub.name("b") not in members
    assert hub.name("i") in members  # instructors see the course as students do


def test_servers_run_as_the_users_unix_accounts(hub, students):
    for role in ("a", "b", "i"):
        name, uid, _, home = hub.users[role]
        pid, proc_uid, env = _server_process(hub, role)
        assert proc_uid == uid
        assert env["HOME"] == str(home)
        assert os.readlink(f"/proc/{pid}/cwd") == str(home)


def _courses(hub, students, role):
    s = students["sessions"][role]
    r = s.get(f"{hub.url}/user/{hub.name(role)}/courses", timeout=60)
    assert r.status_code == 200, (r.status_code, r.text[-1000:])
    return r.json()


def test_the_course_list_shows_a_student_only_their_courses(hub, students):
    enrolled = _courses(hub, students, "a")
    assert enrolled == {"success": True, "value": [COURSE]}  # not "othercourse"
    assert _courses(hub, students, "b") == {"success": True, "value": []}


def test_an_enrolled_student_fetches_the_released_assignment(hub, students):
    name, uid, _, home = hub.users["a"]
    s = students["sessions"]["a"]
    base = f"{hub.url}/user/{name}"
    s.get(f"{base}/lab", timeout=60)  # the server sets its _xsrf cookie
    xsrf = s.cookies.get("_xsrf", path=f"/user/{name}/")
    listed = s.get(f"{base}/assignments", params={"course_id": COURSE}, timeout=60).json()
    assert listed["success"], listed
    assert [(a["assignment_id"], a["status"]) for a in listed["value"]] == [(AID, "released")]
    r = s.post(
        f"{base}/assignments/fetch",
        data={"course_id": COURSE, "assignment_id": AID},
        headers={"X-XSRFToken": xsrf},
        timeout=60,
    )
    assert r.status_code == 200, (r.status_code, r.text[-1000:])
    after = r.json()
    assert after["success"], after
    assert [(a["assignment_id"], a["status"]) for a in after["value"]] == [(AID, "fetched")]
    fetched = home / COURSE / AID / f"{AID}.ipynb"  # Exchange.path_includes_course
    assert fetched.is_file()
    assert fetched.stat().st_uid == uid
    released = hub.exchange / COURSE / "outbound" / AID / f"{AID}.ipynb"
    assert json.loads(fetched.read_text()) == json.loads(released.read_text())


def test_a_student_outside_the_course_cannot_fetch_it(hub, students):
    name, _, _, home = hub.users["b"]
    s = students["sessions"]["b"]
    base = f"{hub.url}/user/{name}"
    s.get(f"{base}/lab", timeout=60)
    xsrf = s.cookies.get("_xsrf", path=f"/user/{name}/")
    r = s.post(
        f"{base}/assignments/fetch",
        data={"course_id": COURSE, "assignment_id": AID},
        headers={"X-XSRFToken": xsrf},
        timeout=60,
    )
    assert r.status_code == 200
    assert r.json() == {"success": True, "value": []}
    assert not (home / COURSE).exists()


def test_the_instructors_course_list_links_the_formgrader_service(hub, students):
    name = hub.name("i")
    r = students["sessions"]["i"].get(f"{hub.url}/user/{name}/formgraders", timeout=60)
    assert r.status_code == 200, (r.status_code, r.text[-1000:])
    assert r.json() == {
        "success": True,
        "value": [
            {
                "course_id": COURSE,
                "url": f"{hub.url}/services/{COURSE}/lab?formgrader=true",
                "kind": "jupyterhub",
            }
        ],
    }
    # no formgrader in users' own servers
    own = students["sessions"]["i"].get(f"{hub.url}/user/{name}/formgrader", timeout=60)
    assert own.status_code == 404
    # an enrolled student's course list shows the link too (nbgrader's roles), which the hub
    # refuses them (test_a_student_is_refused_by_the_formgrader_service); a student in no course
    # may not read the services: nbgrader's course list fails, showing nothing
    name = hub.name("a")
    r = students["sessions"]["a"].get(f"{hub.url}/user/{name}/formgraders", timeout=60)
    assert [c["course_id"] for c in r.json()["value"]] == [COURSE]
    name = hub.name("b")
    r = students["sessions"]["b"].get(f"{hub.url}/user/{name}/formgraders", timeout=60)
    assert r.json()["success"] is False
    assert "HTTP 403: Forbidden" in r.json()["value"]
