"""Global nbgrader configuration for every account on the hub: install as
/etc/jupyter/nbgrader_config.py (or put its folder on JUPYTER_CONFIG_PATH).

As nbgrader documents for JupyterHub with one or more courses: nbgrader asks JupyterHub which
courses a user is in (groups nbgrader-<course> and formgrade-<course>), so students see only
their courses' assignments, and fetched assignments go to ~/<course>/<assignment>/. The course
itself (course_id, course directory) is configured in the course directory's nbgrader_config.py,
which the formgrader service reads.
"""

import os

from nbgrader.auth import JupyterHubAuthPlugin

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.Authenticator.plugin_class = JupyterHubAuthPlugin
c.Exchange.path_includes_course = True
# The shared exchange: a folder everyone can write to, with the sticky bit (mode 1777).
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")
