"""Execute one sanitized submission notebook: the student's cells in a
sandboxed kernel, the test cells in the judge.

nbgrader's `Execute` preprocessor runs the kernel's cells (same per-cell
timeout, interrupt and error handling as stock `nbgrader autograde`). For a
test cell it instead asks the judge to run the trusted source while the
kernel serves the judge's requests (`roles.SERVE`); the cell's outputs, which
nbgrader scores, are the judge's and nothing the kernel printed. On top:
a time budget for the whole notebook, a cap on the output kept, and a verdict
on why a run could not finish.
"""

import asyncio
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass

from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Any, Integer

from ..oracle.channel import Channel
from .kernels import SandboxedKernelManager, start_judge
from .roles import BOTH, JUDGE, SERVE

TRUNCATED = "\n... output truncated by the autograder ...\n"
JUDGE_MARGIN = 30.0  # seconds the judge may take beyond the cell's own timeout


class JudgeFailed(Exception):
    """The judge itself stopped: the notebook cannot be graded."""


class Judge:
    """The grader's end of a notebook's judge process."""

    def __init__(self, box, timeout):
        self.pid, control, self.oracle_for_kernel, self.oracle_spare = start_judge(box, timeout)
        self.control = Channel(control)
        self.exchanges = 0  # requests between judge and kernel so far

    async def run(self, source, name, seconds):
        self.control.send({"op": "run", "source": source, "name": name, "seconds": seconds})
        return await asyncio.to_thread(self._receive, seconds + JUDGE_MARGIN)

    def _receive(self, timeout):
        try:
            header, _ = self.control.recv(timeout=timeout)
        except Exception as exc:
            raise JudgeFailed(f"the judge stopped ({type(exc).__name__}: {exc})") from None
        self.exchanges = header.get("exchanges", self.exchanges)
        return header.get("outputs", []), bool(header.get("failed"))

    def cut_off(self):
        """The kernel stopped serving: make the judge's pending request fail."""
        try:
            self.oracle_spare.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self):
        import os
        import signal

        try:
            self.control.send({"op": "stop"})
        except Exception:
            pass
        self.control.close()
        for sock in (self.oracle_for_kernel, self.oracle_spare):
            sock.close()
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except OSError:
            pass


class GradingExecute(Execute):
    """nbgrader's Execute with test cells judged outside the kernel, keeping
    at most `max_output_bytes` of the kernel's streamed and displayed output
    per notebook."""

    max_output_bytes = Integer(2_000_000).tag(config=True)
    judged = Any({})  # {grade_id: (role, trusted source)}
    judge = Any(None)

    def reset_execution_trackers(self):
        super().reset_execution_trackers()
        self.output_bytes = 0
        self.truncated = False
        self.current_cell = None
        self.serving = False
        self.judge_notes = []

    async def async_execute_cell(self, cell, cell_index, *args, **kwargs):
        self.current_cell = cell_index
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        role, source = self.judged.get(grade_id, (None, None))
        if cell.cell_type != "code" or role is None:
            return await super().async_execute_cell(cell, cell_index, *args, **kwargs)
        if role == BOTH:
            await super().async_execute_cell(cell, cell_index, *args, **kwargs)
        outputs, failed, count = await self._judge_cell(source, grade_id, cell_index)
        self.nb.cells[cell_index] = cell  # nbclient stored the serving cell there
        if role == JUDGE:
            cell.outputs = [NotebookNode(o) for o in outputs]
            cell.execution_count = count
        elif failed:
            self.judge_notes.append(f"the judge could not run the provided cell {grade_id}")
        return cell

    async def _judge_cell(self, source, grade_id, cell_index):
        """Run `source` in the judge while the kernel serves it."""
        seconds = float(self.timeout or 60)
        judged = asyncio.ensure_future(self.judge.run(source, grade_id, seconds))
        serve = NotebookNode(
            cell_type="code", source=SERVE, metadata={}, outputs=[], execution_count=None
        )
        self.serving = True
        try:
            await super().async_execute_cell(serve, cell_index, store_history=False)
        except BaseException:
            self.judge.cut_off()
            await asyncio.gather(judged, return_exceptions=True)
            raise
        finally:
            self.serving = False
        if not judged.done():
            # The kernel finished `serve()` without the judge saying the cell is
            # done: it did not serve (a hostile kernel). Give the judge a moment.
            done, _ = await asyncio.wait({judged}, timeout=1.0)
            if not done:
                self.judge.cut_off()
        outputs, failed = await judged
        return outputs, failed, serve.execution_count

    def output(self, outs, msg, display_id, cell_index):
        if self.serving:
            return None  # what the kernel prints while the judge runs is not the cell's output
        if msg["msg_type"] in ("stream", "display_data"):
            content = msg["content"]
            size = len(content.get("text", "")) + sum(
                map(len, map(str, content.get("data", {}).values()))
            )
            self.output_bytes += size
            if self.output_bytes > self.max_output_bytes:
                if not self.truncated:
                    self.truncated = True
                    outs.append(NotebookNode(output_type="stream", name="stdout", text=TRUNCATED))
                return None
        return super().output(outs, msg, display_id, cell_index)

    def _update_display_id(self, display_id, msg):
        pass  # updates of earlier displays are cosmetic, and a kernel could aim them anywhere


@dataclass
class Run:
    """What happened when a notebook ran: `failure` is None when it finished."""

    nb: NotebookNode
    seconds: float
    failure: str | None = None
    notes: tuple = ()
    exchanges: int = 0  # requests between the judge and the kernel


def _cell_name(nb, index):
    if index is None:
        return "the kernel's start-up"
    meta = nb.cells[index].metadata.get("nbgrader", {})
    return f"cell {meta.get('grade_id') or f'#{index + 1}'}"


def _memory_error_cell(nb):
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and out.get("ename") == "MemoryError":
                return index
    return None


async def execute(nb, config, limits, judged, kernel_box, judge_box, files):
    """Run `nb`: the kernel in `kernel_box` with `files` in its working
    folder, the test cells `judged` in a judge in `judge_box`. Never raises
    for what the notebook does (loops, crashes, memory); reports it in
    `Run.failure`."""
    start = time.perf_counter()
    homes = []
    if not kernel_box["isolate"]:  # --no-sandbox: working folders on the host
        homes = [tempfile.mkdtemp(prefix=f"autograder-{k}-") for k in ("kernel", "judge")]
        kernel_box, judge_box = {**kernel_box, "home": homes[0]}, {**judge_box, "home": homes[1]}
    km = SandboxedKernelManager(config=config)
    client = GradingExecute(config=config, km=km, shutdown_kernel="immediate")
    judge = Judge(judge_box, timeout=float(client.timeout or 60) + JUDGE_MARGIN)
    km.place(kernel_box, files, judge.oracle_for_kernel)
    client.judged, client.judge = judged, judge
    # An ExecutePreprocessor is built empty and handed the notebook later.
    client.nb, client.resources = nb, {"metadata": {"path": None}}
    client.reset_execution_trackers()
    failure = None
    task = asyncio.ensure_future(client.async_execute(cleanup_kc=True))
    try:
        done, _ = await asyncio.wait({task}, timeout=limits.time_budget)
        if not done:
            running = _cell_name(nb, client.current_cell)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            failure = (
                f"it ran longer than the time budget of {limits.time_budget:g} s per notebook "
                f"({running} was still running): an infinite loop?"
            )
        else:
            task.result()
    except DeadKernelError:
        failure = (
            f"the Python kernel stopped in {_cell_name(nb, client.current_cell)} "
            "(the code exited, crashed the interpreter or was killed)"
        )
    except JudgeFailed as exc:
        failure = f"it could not be judged in {_cell_name(nb, client.current_cell)}: {exc}"
    except Exception as exc:  # a kernel that never starts, a broken message stream, ...
        failure = f"it could not be run: {type(exc).__name__}: {exc}"
    finally:
        await _stop(km)
        judge.close()
        for home in homes:
            shutil.rmtree(home, ignore_errors=True)
    notes = list(client.judge_notes)
    memory_cell = _memory_error_cell(nb)
    if failure is None and memory_cell is not None:
        failure = (
            f"it used more than the memory limit of {limits.memory_mib} MiB in "
            f"{_cell_name(nb, memory_cell)}"
        )
    if client.truncated:
        notes.append(f"output beyond {client.max_output_bytes:,} bytes was dropped")
    return Run(nb, time.perf_counter() - start, failure, tuple(notes), judge.exchanges)


async def _stop(km):
    """Kill the kernel's sandbox (its warden) if nbclient's clean-up did not."""
    try:
        if km.has_kernel:
            await km.shutdown_kernel(now=True)
    except Exception:  # already gone
        pass
