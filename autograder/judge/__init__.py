"""The judge: the trusted process that runs a notebook's test cells at grading time.

It executes the instructor's test code (restored from the gradebook, never a
submission's copy) in its own namespace, where a name the tests do not define
themselves is looked up in the student's kernel and comes back as a proxy
(see `autograder.oracle.proxies`). Every expected value and verdict is
computed here; the kernel only answers requests. The judge sends the grader
each test cell's outputs, which are all nbgrader scores.
"""
