"""nbval on the lectures: cells tagged `needs-torch` (Lecture 09's PyTorch comparisons) run only
where PyTorch is installed. PyTorch is an optional extra, not part of the course's set-up."""

import importlib.util

import pytest

HAVE_TORCH = importlib.util.find_spec("torch") is not None


def pytest_collection_modifyitems(items):
    if HAVE_TORCH:
        return
    skip = pytest.mark.skip(reason="needs PyTorch (optional): pip install torch")
    for item in items:
        cell = getattr(item, "cell", None)
        if cell is not None and "needs-torch" in cell.get("metadata", {}).get("tags", []):
            item.add_marker(skip)
