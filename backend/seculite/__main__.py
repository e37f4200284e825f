"""`python -m seculite ...` from backend/ (or with backend/ on PYTHONPATH)."""

import sys

from seculite.cli import main

if __name__ == "__main__":
    sys.exit(main())
