"""Kernels for grading: each submission gets its own process under limits."""

import sys
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Integer

LAUNCHER = Path(__file__).with_name("_limited_launch.py")


class LimitedKernelManager(AsyncKernelManager):
    """Starts the kernel through `_limited_launch.py`, which caps its memory
    (address space) and the size of any file it writes."""

    memory_mib = Integer(2048, help="address-space limit of each kernel").tag(config=True)
    file_mib = Integer(64, help="largest file a kernel may write").tag(config=True)

    def format_kernel_cmd(self, extra_arguments=None):
        command = super().format_kernel_cmd(extra_arguments)
        limits = [str(self.memory_mib), str(self.file_mib)]
        return [sys.executable, str(LAUNCHER), *limits, "--", *command]
