"""What a kernel displayed, reduced to what is safe to show an instructor.

The formgrader renders autograded notebooks as HTML. A kernel's outputs are
the student's to choose, so before an autograded notebook is saved every
output keeps only plain text and bitmap images: no HTML, SVG, JavaScript,
Markdown or LaTeX (each of which can carry script into the page), no
metadata, and text cut to a sane length.
"""

import base64
import binascii

from nbformat import NotebookNode

SAFE_IMAGES = ("image/png", "image/jpeg", "image/gif")
MAX_TEXT = 200_000
MAX_IMAGE = 5 * 2**20


def _text(value):
    text = "".join(value) if isinstance(value, list) else str(value)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "\n... (cut by the autograder)"


def _image(value):
    data = "".join(value) if isinstance(value, list) else value
    if not isinstance(data, str) or len(data) > MAX_IMAGE:
        return None
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data


def _data(bundle):
    clean = {}
    if "text/plain" in bundle:
        clean["text/plain"] = _text(bundle["text/plain"])
    for mime in SAFE_IMAGES:
        if mime in bundle and (image := _image(bundle[mime])) is not None:
            clean[mime] = image
    if not clean:
        dropped = ", ".join(sorted(bundle))[:200]
        clean["text/plain"] = f"[output of type {dropped} not shown by the autograder]"
    return clean


def sanitize_output(out):
    kind = out.get("output_type")
    if kind == "stream":
        name = out.get("name") if out.get("name") in ("stdout", "stderr") else "stdout"
        return NotebookNode(output_type="stream", name=name, text=_text(out.get("text", "")))
    if kind == "error":
        return NotebookNode(
            output_type="error",
            ename=_text(out.get("ename", ""))[:200],
            evalue=_text(out.get("evalue", "")),
            traceback=[_text(line) for line in out.get("traceback", [])][:200],
        )
    if kind in ("display_data", "execute_result"):
        clean = NotebookNode(output_type=kind, data=_data(out.get("data", {})), metadata={})
        if kind == "execute_result":
            clean.execution_count = out.get("execution_count")
        return clean
    return None


def sanitize_outputs(nb):
    """Replace every code cell's outputs by their safe form, in place."""
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell.outputs = [o for o in map(sanitize_output, cell.get("outputs", [])) if o]
    return nb
