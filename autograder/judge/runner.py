"""The judge process: run trusted cells on request and report their outputs.

Control protocol with the grader (over a `Channel`, both sides trusted):

    -> {"op": "run", "source": ..., "name": grade_id, "seconds": timeout}
    <- {"op": "done", "outputs": [nbformat outputs], "failed": bool, "exchanges": n}
    -> {"op": "stop"}

Test code is executed in a `Namespace`: names the judge's own cells defined
(imports, helpers, references) come first, then Python's builtins, then the
student's kernel (`Connection.getglobal`), so a submission can never replace
`np`, `ag` or a helper of the tests.
"""

import ast
import builtins
import io
import sys
import traceback

import numpy as np

from ..oracle import proxies
from ..oracle.channel import Channel
from ..oracle.proxies import Connection
from ..oracle.rpc import RemoteError

MAX_STREAM = 100_000  # characters of printed output kept per cell
MAX_ERROR = 8_000  # characters of an error message kept


class Namespace(dict):
    """Globals of the judged cells: the judge's names, builtins, then the kernel's."""

    def __init__(self, connection):
        super().__init__(vars(builtins))
        self["__builtins__"] = builtins
        self["__name__"] = "__main__"
        self.connection = connection

    def __missing__(self, name):
        if self.connection is None:
            raise KeyError(name)
        try:
            return self.connection.getglobal(name)
        except NameError:
            raise KeyError(name) from None


class _LimitedText(io.StringIO):
    def write(self, text):
        if self.tell() < MAX_STREAM:
            super().write(text[: MAX_STREAM - self.tell()])
        return len(text)


def _compile(source, name):
    """Code for all statements, and for a last expression (shown like IPython's)."""
    tree = ast.parse(source, filename=name)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    body = compile(tree, name, "exec")
    return body, (compile(last, name, "eval") if last is not None else None)


def _result_output(value):
    """An execute_result for a number (nbgrader reads it as partial credit)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        return None
    return {
        "output_type": "execute_result",
        "data": {"text/plain": repr(value)},
        "metadata": {},
        "execution_count": None,
    }


def _error_output(exc, name):
    ename = getattr(exc, "remote_type", None) or type(exc).__name__
    try:
        evalue = str(exc)
    except Exception:
        evalue = "<an error message that could not be read>"
    evalue = evalue[:MAX_ERROR]
    lines = []
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == name]
    if frames:
        lines.append(f"in {name}, line {frames[-1].lineno}")
    if isinstance(exc, RemoteError) and exc.remote_traceback:
        lines.append("in the student's code:\n" + exc.remote_traceback.rstrip())
    lines.append(f"{ename}: {evalue}")
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": lines}


def run_cell(namespace, connection, source, name, seconds=None):
    """Execute one trusted cell; returns (outputs, failed)."""
    stdout, stderr = _LimitedText(), _LimitedText()
    saved = sys.stdout, sys.stderr
    outputs, failed = [], False
    if connection is not None:
        connection.begin_cell(seconds)
    sys.stdout, sys.stderr = stdout, stderr
    try:
        body, last = _compile(source, name)
        exec(body, namespace)
        if last is not None:
            result = _result_output(eval(last, namespace))
            if result:
                outputs.append(result)
    except BaseException as exc:  # KernelGone, and anything the test code raised
        failed = True
        error = _error_output(exc, name)
    finally:
        sys.stdout, sys.stderr = saved
        if connection is not None:
            connection.end_cell()
    streams = [
        {"output_type": "stream", "name": kind, "text": text.getvalue()}
        for kind, text in (("stdout", stdout), ("stderr", stderr))
        if text.getvalue()
    ]
    outputs = streams + outputs
    if failed:
        outputs.append(error)
    return outputs, failed


def main(control_fd, oracle_fd, timeout=None):
    """Serve the grader: run cells until told to stop."""
    control = Channel.from_fd(control_fd)
    connection = Connection(Channel.from_fd(oracle_fd), timeout=timeout)
    namespace = Namespace(connection)
    connection.namespace = namespace
    proxies.set_current(connection)
    while True:
        try:
            header, _ = control.recv()
        except Exception:
            return
        if header.get("op") != "run":
            return
        outputs, failed = run_cell(
            namespace, connection, header["source"], header["name"], header.get("seconds")
        )
        exchanges = connection.next_id - 1 + connection.served  # requests and callbacks so far
        control.send({"op": "done", "outputs": outputs, "failed": failed, "exchanges": exchanges})
