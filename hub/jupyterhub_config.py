"""JupyterHub configuration for the automatic-differentiation course (course id "autodiff").

nbgrader's documented multi-course set-up (nbgrader docs, "Using nbgrader with JupyterHub", and
its demos/demo_multiple_classes), written with JupyterHub 5/6 roles and scopes:

- the formgrader is a hub-managed service named after the course ("autodiff"): a
  `jupyterhub-singleuser` server started by the hub as the grader account, in the course directory
  (this repository's layout, with its nbgrader_config.py), reachable at /services/autodiff/;
- group "formgrade-autodiff" (instructors, and the grader account) may use that service;
  group "nbgrader-autodiff" (students) sees the course in nbgrader's assignment list;
- students' own servers run as their Unix users (JupyterHub's LocalProcessSpawner) and share the
  exchange /srv/nbgrader/exchange (mode 1777) with the course;
- nbgrader's JupyterHubAuthPlugin (hub/nbgrader_config.py, installed as
  /etc/jupyter/nbgrader_config.py) asks the hub which courses each student belongs to.

Start it (as root, which the spawner needs to start servers as other users) with
    jupyterhub -f hub/jupyterhub_config.py
from the folder where the hub keeps its state (jupyterhub.sqlite, cookie secret).
See hub/README.md for the users, groups and folders to create.

What a deployment changes comes from environment variables (defaults in brackets):
    AUTODIFF_INSTRUCTORS      comma-separated hub/Unix user names        [instructor1]
    AUTODIFF_STUDENTS         comma-separated user names allowed to log in; they are enrolled
                              with `nbgrader db student add` (see README)   []
    AUTODIFF_GRADER           Unix account the formgrader service runs as [grader-autodiff]
    AUTODIFF_COURSE_DIR       course directory (a copy of this repository)
                                                       [/home/grader-autodiff/autodiff]
    AUTODIFF_FORMGRADER_PORT  local port of the formgrader service       [9999]
    NBGRADER_EXCHANGE         the shared exchange, mode 1777             [/srv/nbgrader/exchange]
    JUPYTER_CONFIG_PATH       only if the global nbgrader_config.py is not in /etc/jupyter:
                              passed on to every server the hub starts    [unset]
The hub's address and port are JupyterHub's own options (--ip, --port, --JupyterHub.hub_port),
and the authenticator is JupyterHub's default, PAM (Unix passwords).
"""

import os
import sys

c = get_config()  # noqa: F821 (provided by traitlets when JupyterHub loads this file)

COURSE = "autodiff"  # the service name MUST equal nbgrader's course_id


def _names(var, default=""):
    return [n.strip() for n in os.environ.get(var, default).split(",") if n.strip()]


INSTRUCTORS = _names("AUTODIFF_INSTRUCTORS", "instructor1")
STUDENTS = _names("AUTODIFF_STUDENTS")
GRADER = os.environ.get("AUTODIFF_GRADER", f"grader-{COURSE}")
COURSE_DIR = os.environ.get("AUTODIFF_COURSE_DIR", f"/home/{GRADER}/{COURSE}")
FORMGRADER_PORT = int(os.environ.get("AUTODIFF_FORMGRADER_PORT", "9999"))
EXCHANGE = os.environ.get("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")

# Every process the hub starts comes from the hub's own environment (e.g. this repository's
# .venv, which must be readable and executable by all users), not from whatever is on PATH.
BIN = os.path.dirname(sys.executable)
SINGLEUSER = os.path.join(BIN, "jupyterhub-singleuser")

# Environment of the students' servers and of the formgrader service. nbgrader reads the
# exchange from NBGRADER_EXCHANGE (the course's nbgrader_config.py and hub/nbgrader_config.py).
SERVER_ENV = {"NBGRADER_EXCHANGE": EXCHANGE, "PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin"}
if os.environ.get("JUPYTER_CONFIG_PATH"):
    SERVER_ENV["JUPYTER_CONFIG_PATH"] = os.environ["JUPYTER_CONFIG_PATH"]

# --- who may log in -----------------------------------------------------------------------------
# PAM (JupyterHub's default authenticator): users log in with their Unix passwords.
c.Authenticator.allowed_users = set(INSTRUCTORS) | set(STUDENTS)

# --- groups (names are nbgrader's convention: formgrade-<course>, nbgrader-<course>) -----------
# load_groups only adds members. Students are enrolled in nbgrader-autodiff by
# `nbgrader db student add <name>` run in the formgrader service (its JupyterHubAuthPlugin adds
# them to the group through the hub API), as nbgrader documents; instructors are also in it, so
# their own assignment list shows the course as students see it.
c.JupyterHub.load_groups = {
    f"formgrade-{COURSE}": {"users": [*INSTRUCTORS, GRADER]},
    f"nbgrader-{COURSE}": {"users": list(INSTRUCTORS)},
}

# --- roles and scopes ---------------------------------------------------------------------------
c.JupyterHub.load_roles = [
    {
        # instructors (and the grader account) may open the formgrader service
        "name": f"formgrade-{COURSE}",
        "groups": [f"formgrade-{COURSE}"],
        "scopes": [
            f"access:services!service={COURSE}",
            "list:services",
            f"read:services!service={COURSE}",  # nbgrader's course list finds the service
        ],
    },
    {
        # students may see that the course's service exists (nbgrader's course list), not open it
        "name": f"nbgrader-{COURSE}",
        "groups": [f"nbgrader-{COURSE}"],
        "scopes": ["list:services", f"read:services!service={COURSE}"],
    },
    {
        # the formgrader service enrols students: JupyterHubAuthPlugin lists the hub's groups
        # and adds users to nbgrader-autodiff (and to nothing else)
        "name": f"{COURSE}-service",
        "services": [COURSE],
        "scopes": [
            "list:groups",
            f"read:groups!group=nbgrader-{COURSE}",
            f"groups!group=nbgrader-{COURSE}",
            # nbgrader's formgrader asks which courses its own account (the grader) is in
            f"read:users:groups!user={GRADER}",
        ],
    },
    {
        # The token each user's server gets: JupyterHub's default (activity, access to the server)
        # plus reading the services, for nbgrader's course list (which formgraders can I open?).
        # Every token may read its owner's name and groups, which is what JupyterHubAuthPlugin
        # asks (which courses am I in?), and never exceeds its owner's permissions: a server
        # reads only the services of its owner's courses.
        "name": "server",
        "scopes": [
            "users:activity!user",
            "access:servers!server",
            "list:services",
            "read:services",
        ],
    },
]

# --- the course's formgrader, as a service --------------------------------------------------------
c.JupyterHub.services = [
    {
        "name": COURSE,
        "url": f"http://127.0.0.1:{FORMGRADER_PORT}",
        "command": [SINGLEUSER, "--debug"],
        "user": GRADER,  # a Unix account; the course directory belongs to it
        "cwd": COURSE_DIR,  # nbgrader finds the course's nbgrader_config.py here
        "environment": {**SERVER_ENV, "JUPYTERHUB_DEFAULT_URL": "/formgrader"},
        # run by the hub's administrators: no "authorize this application?" page for instructors
        "oauth_no_confirm": True,
    }
]

# --- students' (and instructors') own servers -----------------------------------------------------
# LocalProcessSpawner (the default): `jupyterhub-singleuser` as the user's Unix account, in the
# user's home directory, with JupyterLab and nbgrader's assignment list.
c.Spawner.cmd = [SINGLEUSER]
# Grading happens in the service only (nbgrader's table of extensions for multiple graders):
# no formgrader in users' own servers. Their course list then links the service.
c.Spawner.args = ["--ServerApp.jpserver_extensions=nbgrader.server_extensions.formgrader=False"]
c.Spawner.environment = SERVER_ENV
c.Spawner.default_url = "/lab"

# The proxy: the `configurable-http-proxy` command (the npm package, or the PyPI port of the same
# name when npm is not available) from the hub's environment if it is there, else from PATH.
_chp = os.path.join(BIN, "configurable-http-proxy")
c.ConfigurableHTTPProxy.command = [_chp if os.path.exists(_chp) else "configurable-http-proxy"]
