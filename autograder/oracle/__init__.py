"""The protocol between the trusted judge and a student's kernel.

At grading time the test cells run in the judge; the student's kernel is an
oracle that only answers requests: call this function, read or set this
attribute, apply this operator. Values cross as plain data, never as code or
pickles:

* channel.py    framing of messages on a Unix socket, with size limits (both sides)
* codec.py      plain values <-> JSON trees and raw buffers, validated on decode (both sides)
* kernel_side.py the oracle, run inside the student's kernel by the grader
* proxies.py    the judge's view of kernel objects: `Remote` proxies and the `Connection`
"""
