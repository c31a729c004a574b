"""The library test cells call: cases, numerical references, verdicts, checks.

It runs wherever a notebook's test cells run: in the student's own kernel in
JupyterLab, and in the trusted judge process when the course is graded (where
the student's functions are proxies into the sandboxed kernel, see
`autograder.oracle`). It contains no solutions.
"""
