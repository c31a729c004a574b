import sys
from pathlib import Path

# The test helpers (reference and wrong implementations) import each other.
sys.path.insert(0, str(Path(__file__).parent))
# The course material in demo/ (mistake catalogs) is imported as the `demo` package.
sys.path.insert(0, str(Path(__file__).parent.parent))
