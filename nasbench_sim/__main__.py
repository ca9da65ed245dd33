"""`python -m nasbench_sim ...` is the `nasbench-sim` command line."""

import sys

from nasbench_sim.cli import main

if __name__ == "__main__":
    sys.exit(main())
