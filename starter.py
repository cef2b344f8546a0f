"""The command line for ops and scripting (cli/ over service/):

    python starter.py --help

Every command checks its input before changing anything, and prints one clear line on error.
Personal data is read from files or standard input, never argv; it goes straight into the case
database, and Temporal only ever sees IDs.
"""

import asyncio
import os
import sys

from cli import READER_GONE, run

__all__ = ["READER_GONE", "main", "run"]


def main() -> None:
    code = asyncio.run(run(sys.argv[1:]))
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = READER_GONE
    sys.stderr.flush()
    # Skip interpreter teardown: the Temporal client's native threads can abort it at exit,
    # which would turn a clean result into a crash report.
    os._exit(code)


if __name__ == "__main__":
    main()
