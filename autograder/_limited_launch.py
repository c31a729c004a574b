"""Start a command under resource limits: the launcher of grading kernels.

    python _limited_launch.py MEMORY_MIB FILE_MIB -- kernel command ...

Run as a script, before the kernel exists, so it imports only the standard
library (not the autograder package, which would pull in numpy).
"""

import os
import resource
import sys

# One thread per BLAS: the grader already runs one kernel per core.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _limit(kind, value):
    soft, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, hard))


def main(argv):
    memory_mib, file_mib = int(argv[1]), int(argv[2])
    command = argv[argv.index("--") + 1 :]
    # Address space, not RSS: the kernel gets MemoryError instead of the
    # machine swapping or the OOM killer picking a victim.
    _limit(resource.RLIMIT_AS, memory_mib * 2**20)
    _limit(resource.RLIMIT_FSIZE, file_mib * 2**20)
    _limit(resource.RLIMIT_CORE, 0)
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv)
