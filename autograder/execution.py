"""Execute one sanitized submission notebook in its own limited kernel.

nbgrader's `Execute` preprocessor runs the cells (same per-cell timeout,
interrupt and error handling as stock `nbgrader autograde`), with three
additions: a time budget for the whole notebook, a cap on the output kept
in memory, and a verdict on why a run could not finish.
"""

import asyncio
import time
from dataclasses import dataclass

from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Integer

from .kernels import LimitedKernelManager

TRUNCATED = "\n... output truncated by the autograder ...\n"


class GradingExecute(Execute):
    """nbgrader's Execute, keeping at most `max_output_bytes` of streamed and
    displayed output per notebook (errors and results are always kept: they
    decide the grade)."""

    max_output_bytes = Integer(2_000_000).tag(config=True)

    def reset_execution_trackers(self):
        super().reset_execution_trackers()
        self.output_bytes = 0
        self.truncated = False
        self.current_cell = None

    async def async_execute_cell(self, cell, cell_index, *args, **kwargs):
        self.current_cell = cell_index
        return await super().async_execute_cell(cell, cell_index, *args, **kwargs)

    def output(self, outs, msg, display_id, cell_index):
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


@dataclass
class Run:
    """What happened when a notebook ran: `failure` is None when it finished."""

    nb: NotebookNode
    seconds: float
    failure: str | None = None
    notes: tuple = ()


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


async def execute(nb, cwd, config, time_budget, memory_mib):
    """Run `nb` in a fresh kernel started in `cwd`; never raises for what the
    notebook does (loops, crashes, memory), only reports it in `Run.failure`."""
    client = GradingExecute(
        config=config, kernel_manager_class=LimitedKernelManager, shutdown_kernel="immediate"
    )
    # An ExecutePreprocessor is built empty and handed the notebook later.
    client.nb, client.resources = nb, {"metadata": {"path": str(cwd)}}
    client.reset_execution_trackers()
    start = time.perf_counter()
    failure = None
    task = asyncio.ensure_future(client.async_execute())
    try:
        done, _ = await asyncio.wait({task}, timeout=time_budget)
        if not done:
            running = _cell_name(nb, client.current_cell)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            failure = (
                f"it ran longer than the time budget of {time_budget:g} s per notebook "
                f"({running} was still running): an infinite loop?"
            )
        else:
            task.result()
    except DeadKernelError:
        failure = (
            f"the Python kernel stopped in {_cell_name(nb, client.current_cell)} "
            "(the code exited, crashed the interpreter or was killed)"
        )
    except Exception as exc:  # a kernel that never starts, a broken message stream, ...
        failure = f"it could not be run: {type(exc).__name__}: {exc}"
    finally:
        await _stop(client)
    notes = []
    memory_cell = _memory_error_cell(nb)
    if failure is None and memory_cell is not None:
        failure = f"it used more than the memory limit of {memory_mib} MiB in {_cell_name(nb, memory_cell)}"
    if client.truncated:
        notes.append(f"output beyond {client.max_output_bytes:,} bytes was dropped")
    return Run(nb, time.perf_counter() - start, failure, tuple(notes))


async def _stop(client):
    """Kill the kernel's whole process group if nbclient's clean-up did not."""
    km = getattr(client, "km", None)
    try:
        if km is not None and km.has_kernel:
            await km.shutdown_kernel(now=True)
    except Exception:  # already gone
        pass
