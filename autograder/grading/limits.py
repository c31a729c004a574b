"""What one grading run may spend (light to import: the CLI's defaults come from here)."""

import os
from dataclasses import dataclass, field


def default_workers():
    """One notebook more than cores: a notebook's judge and kernel take turns (about one
    core between them), and each waits on the coordinator's bookkeeping now and then."""
    return (os.cpu_count() or 1) + 1


@dataclass
class Limits:
    workers: int = field(default_factory=default_workers)
    time_budget: float = 120.0  # seconds per notebook
    memory_mib: int = 2048
    sandbox: bool = True  # False only with --no-sandbox
