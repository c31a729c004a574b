"""Kernels for grading: each submission gets its own process under limits.

Kernels start through `_limited_launch.py` (a fresh interpreter) or, inside
`preloaded_kernels()`, as forks of a server that has already imported
ipykernel, numpy and the autograder (see forkserver.py). Either way each
kernel is a separate process in its own session, with the same limits.
"""

import os
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from traitlets import Integer

from .forkserver import ForkedProcess, ForkServer

LAUNCHER = Path(__file__).with_name("_limited_launch.py")
IPYKERNEL = "ipykernel_launcher"
_server = None


@contextmanager
def preloaded_kernels(enabled=True):
    """Within this block, ipykernel kernels are forked from a warm server."""
    global _server
    if not enabled or _server is not None:
        yield
        return
    _server = ForkServer()
    try:
        yield
    finally:
        server, _server = _server, None
        server.close()


class ForkedProvisioner(LocalProvisioner):
    """LocalProvisioner whose kernel process comes from the fork server."""

    async def launch_kernel(self, cmd, **kwargs):
        km = self.parent
        argv = cmd[cmd.index(IPYKERNEL) + 1 :]
        cwd = kwargs.get("cwd") or os.getcwd()
        env = dict(kwargs.get("env") or os.environ)
        env["JPY_PARENT_PID"] = str(os.getpid())
        pid = _server.spawn(argv, cwd, env, km.memory_mib, km.file_mib)
        self.process = ForkedProcess(pid)
        self.pid = self.pgid = pid  # the kernel leads its own session
        self.cwd = cwd
        return self.connection_info


class LimitedKernelManager(AsyncKernelManager):
    """Caps each kernel's memory (address space) and the size of any file it
    writes; forks it from the warm server when one is running."""

    memory_mib = Integer(2048, help="address-space limit of each kernel").tag(config=True)
    file_mib = Integer(64, help="largest file a kernel may write").tag(config=True)

    def format_kernel_cmd(self, extra_arguments=None):
        command = super().format_kernel_cmd(extra_arguments)
        limits = [str(self.memory_mib), str(self.file_mib)]
        return [sys.executable, str(LAUNCHER), *limits, "--", *command]

    async def _async_pre_start_kernel(self, **kw):
        if _server is not None and self.provisioner is None and IPYKERNEL in self.kernel_spec.argv:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
            self.provisioner = ForkedProvisioner(
                kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
            )
        return await super()._async_pre_start_kernel(**kw)
