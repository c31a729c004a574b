#!/usr/bin/env bash
# Idempotent set-up: a virtual environment in .venv with the course package,
# its dependencies and the test tools, plus the system programs the course
# uses: graphviz's `dot` (drawings), bubblewrap's `bwrap` (the grading
# sandbox) and Debian's `chromium` (the browser tests). Quick when nothing
# changed (pyproject.toml is fingerprinted).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
SANDBOX_UID=65534  # `nobody`: grading kernels run as this user when the grader is root

# Debian/Ubuntu packages, installed when we are root; otherwise say what to run.
need_apt=()
command -v dot >/dev/null 2>&1 || need_apt+=(graphviz)
command -v bwrap >/dev/null 2>&1 || need_apt+=(bubblewrap)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing ${need_apt[*]} with apt-get"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    elif [[ " ${need_apt[*]} " == *" graphviz "* ]]; then
        cat >&2 <<'MSG'
setup: the graphviz 'dot' binary is missing. Install it, then run this again:
  Debian/Ubuntu:  sudo apt-get install graphviz bubblewrap
  Fedora:         sudo dnf install graphviz bubblewrap
  macOS:          brew install graphviz
  conda:          conda install -c conda-forge graphviz
MSG
        exit 1
    else
        for pkg in "${need_apt[@]}"; do
            case $pkg in
                bubblewrap) echo "setup: note: bubblewrap (bwrap) is not installed; grading will" \
                    "sandbox kernels with plain Linux namespaces instead (sudo apt-get install bubblewrap)" >&2 ;;
                chromium) echo "setup: note: chromium is not installed; the browser tests" \
                    "(tests/test_browser.py) are skipped (sudo apt-get install chromium)" >&2 ;;
            esac
        done
    fi
fi

# The interpreter for .venv. As root, grading kernels run as an unprivileged
# user, who must be able to start this Python: one installed under root's home
# (pyenv, say) is not, so prefer the system's.
# (Started as that user, it must be the same Python: a libpython it cannot read
# can silently be replaced by the system's.)
readable_by_sandbox() {
    [ "$(id -u)" != "0" ] && return 0
    local probe='import sys; print(sys.version, sys.prefix)'
    [ "$(setpriv --reuid=$SANDBOX_UID --regid=$SANDBOX_UID --clear-groups "$1" -c "$probe" 2>/dev/null)" \
        = "$("$1" -c "$probe")" ]
}
if [ -z "${PYTHON:-}" ]; then
    PYTHON=python3
    if ! readable_by_sandbox "$(command -v python3 || echo python3)" && [ -x /usr/bin/python3 ]; then
        PYTHON=/usr/bin/python3
    fi
fi
if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "setup: $PYTHON not found. Install Python 3.10 or newer (e.g. apt-get install python3 python3-venv)." >&2
    exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "setup: Python 3.10 or newer is needed; $PYTHON is $("$PYTHON" --version 2>&1)." >&2
    exit 1
fi
if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing python3-venv with apt-get"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    else
        echo "setup: $PYTHON cannot create virtual environments: sudo apt-get install python3-venv" >&2
        exit 1
    fi
fi

# A .venv whose interpreter the sandbox user cannot start is rebuilt.
if [ -x "$VENV/bin/python" ] && ! readable_by_sandbox "$VENV/bin/python"; then
    echo "setup: $VENV uses a Python that unprivileged users cannot run; rebuilding it with $PYTHON"
    rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating $VENV with $PYTHON"
    "$PYTHON" -m venv "$VENV"
fi

stamp="$VENV/.installed-$("$VENV/bin/python" -c 'import hashlib,sys; print(hashlib.sha256(open("pyproject.toml","rb").read()).hexdigest()[:16])')"
if [ ! -f "$stamp" ] || ! "$VENV/bin/python" -c 'import autograder, nbgrader, nbval' 2>/dev/null; then
    echo "setup: installing the course package and its dependencies into $VENV"
    "$VENV/bin/python" -m pip install --quiet --progress-bar off --upgrade pip
    "$VENV/bin/python" -m pip install --quiet --progress-bar off -e ".[test]"
    rm -f "$VENV"/.installed-*
    touch "$stamp"
fi

# nbgrader's JupyterLab extensions (formgrader, assignment list, validate
# button) must be enabled in this environment for instructors and students.
if ! "$VENV/bin/jupyter" labextension list 2>&1 | grep -q "@jupyter/nbgrader.*enabled"; then
    echo "setup: nbgrader's JupyterLab extension is not enabled in $VENV" >&2
    echo "       try: $VENV/bin/jupyter labextension enable @jupyter/nbgrader" >&2
    exit 1
fi
# A quiet start, in settings Jupyter reads from the environment (merged into what is there):
# no "get notified about Jupyter news?" prompt and no update checks (the course machine may have
# no internet); the websocket ping timeout equal to the interval (tornado caps it there anyway,
# with a warning on every kernel connection).
"$VENV/bin/python" - "$VENV" <<'PY'
import json, sys
from pathlib import Path


def merge(path, keys, values):
    path = Path(sys.argv[1], path)
    settings = json.loads(path.read_text()) if path.is_file() else {}
    section = settings
    for key in keys:
        section = section.setdefault(key, {})
    section.update(values)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings, indent=2) + "\n")


merge("share/jupyter/lab/settings/overrides.json", ["@jupyterlab/apputils-extension:notification"],
      {"fetchNews": "false", "checkForUpdates": False})
merge("etc/jupyter/jupyter_server_config.json", ["ServerApp", "tornado_settings"],
      {"ws_ping_timeout": 30000})
PY

echo "setup: ready ($("$VENV/bin/python" --version), dot $(dot -V 2>&1 | awk '{print $5}'), $(command -v bwrap >/dev/null && bwrap --version || echo 'no bwrap'))"
