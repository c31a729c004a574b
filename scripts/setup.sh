#!/usr/bin/env bash
# Idempotent set-up: a virtual environment in .venv with the course package,
# its dependencies and the test tools, plus the graphviz `dot` binary.
# Quick when nothing changed (pyproject.toml is fingerprinted).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV=.venv

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "setup: $PYTHON not found. Install Python 3.10 or newer (e.g. apt-get install python3 python3-venv)." >&2
    exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "setup: Python 3.10 or newer is needed; $PYTHON is $("$PYTHON" --version 2>&1)." >&2
    exit 1
fi

# The graphviz Python package only writes DOT text; rendering needs the binary.
if ! command -v dot >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing graphviz (the 'dot' binary) with apt-get"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
    else
        cat >&2 <<'MSG'
setup: the graphviz 'dot' binary is missing. Install it, then run this again:
  Debian/Ubuntu:  sudo apt-get install graphviz
  Fedora:         sudo dnf install graphviz
  macOS:          brew install graphviz
  conda:          conda install -c conda-forge graphviz
MSG
        exit 1
    fi
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi

stamp="$VENV/.installed-$("$PYTHON" -c 'import hashlib,sys; print(hashlib.sha256(open("pyproject.toml","rb").read()).hexdigest()[:16])')"
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
echo "setup: ready ($("$VENV/bin/python" --version), dot $(dot -V 2>&1 | awk '{print $5}'))"
