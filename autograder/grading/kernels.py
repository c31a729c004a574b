"""Kernels and judges for grading: forked from a warm server, each in a sandbox.

Inside `grading_processes(sandbox_box)`, a `SandboxedKernelManager` starts its
kernel as a fork of the server (see forkserver.py) that enters its own
sandbox (see sandbox.py). The kernel's channels are IPC sockets in its private
/run/kernel, reached from here through the warden's /proc/PID/root, so there is
no network port and no file of it anywhere the other kernels can see. The
kernel also gets one end of its oracle socket, whose other end goes to the
notebook's judge (`start_judge`).
"""

import os
import socket
import time
import uuid
from contextlib import contextmanager
from queue import Empty

import zmq
from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from traitlets import Any, Integer

from .forkserver import ForkedProcess, ForkServer
from .sandbox import RUNTIME

IPYKERNEL = "ipykernel_launcher"
_server = None


@contextmanager
def grading_processes(sandboxed=True, readonly=()):
    """Within this block, kernels and judges are forked from a warm server
    (inside bubblewrap when `sandboxed` and bwrap is installed)."""
    global _server
    if _server is not None:
        yield _server
        return
    _server = ForkServer(wrap=sandboxed, readonly=readonly)
    try:
        yield _server
    finally:
        server, _server = _server, None
        server.close()


def server():
    if _server is None:
        raise RuntimeError("kernels are started inside grading_processes()")
    return _server


def start_judge(box, timeout=None):
    """(pid, control socket, oracle socket for the kernel, spare end for shutdown)."""
    control_here, control_there = socket.socketpair()
    oracle_kernel, oracle_judge = socket.socketpair()
    try:
        pid = server().spawn_judge(box, control_there.fileno(), oracle_judge.fileno(), timeout)
    finally:
        control_there.close()
    return pid, control_here, oracle_kernel, oracle_judge


class ForkedProvisioner(LocalProvisioner):
    """LocalProvisioner whose kernel is a sandboxed fork of the server."""

    async def launch_kernel(self, cmd, **kwargs):
        km = self.parent
        argv = cmd[cmd.index(IPYKERNEL) + 1 :]
        if "-f" in argv:
            at = argv.index("-f")
            del argv[at : at + 2]
        info = dict(km.get_connection_info())
        info["key"] = info["key"].decode() if isinstance(info["key"], bytes) else info["key"]
        pid = server().spawn_kernel(argv, info, km.box, km.files, km.oracle_socket.fileno())
        self.process = ForkedProcess(pid)
        self.pid = self.pgid = pid  # the warden leads its own session and group
        if km.box["isolate"]:  # its sockets are in its own tmpfs, seen through the warden
            km.ip = f"/proc/{pid}/root{RUNTIME}/kernel"
        return km.get_connection_info()


class ReadyClient(AsyncKernelClient):
    """jupyter_client's client, ready as soon as the kernel answers kernel_info
    and IOPub delivers: it does not wait for 0.2 s of IOPub silence first
    (nbclient ignores stray messages of other requests anyway)."""

    def _context_default(self):
        context = super()._context_default()
        # it connects before the kernel has bound its sockets: retry every
        # 10 ms rather than ZeroMQ's default 100 ms
        context.setsockopt(zmq.RECONNECT_IVL, 10)
        return context

    async def _async_wait_for_ready(self, timeout=None):
        deadline = time.monotonic() + (timeout or 60)
        while True:
            self.kernel_info()
            try:
                msg = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                msg = None
            if msg is not None and msg["msg_type"] == "kernel_info_reply":
                try:
                    await self.iopub_channel.get_msg(timeout=0.2)  # IOPub is subscribed
                except Empty:
                    pass
                else:
                    self._handle_kernel_info_reply(msg)
                    break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
        while True:  # drop what has already arrived, without waiting for more
            try:
                await self.iopub_channel.get_msg(timeout=0.005)
            except Empty:
                return

    wait_for_ready = _async_wait_for_ready


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel in a sandbox, with IPC channels, forked from the warm server.

    Set `box` (the sandbox, as a dict of Sandbox fields), `files` (name ->
    bytes placed in its working folder) and `oracle_socket` before starting.
    """

    box = Any(None)
    files = Any(None)
    oracle_socket = Any(None)
    memory_mib = Integer(2048).tag(config=True)

    def __init__(self, **kwargs):
        kwargs.setdefault("transport", "ipc")
        kwargs.setdefault("client_factory", ReadyClient)
        super().__init__(**kwargs)
        self.context.setsockopt(zmq.RECONNECT_IVL, 10)  # as ReadyClient's

    def place(self, box, files, oracle_socket):
        """Where and how the kernel will run (before start_kernel)."""
        self.box, self.files, self.oracle_socket = box, files, oracle_socket
        runtime = RUNTIME if box["isolate"] else os.path.join(box["home"], ".run")
        self.ip = f"{runtime}/kernel"

    async def _async_pre_start_kernel(self, **kw):
        self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
        self.provisioner = ForkedProvisioner(
            kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
        )
        return await super()._async_pre_start_kernel(**kw)

    def cleanup_ipc_files(self):
        pass  # they live in the sandbox's own tmpfs, gone with it
