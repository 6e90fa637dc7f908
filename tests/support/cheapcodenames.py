"""Run a program (`intake serve`) whose codenames cost the least Argon2id, for a test whose subject is not that cost.

`Server(env, root, wrap=CHEAP_CODENAMES)` runs `python tests/support/cheapcodenames.py intake serve ...`: this
file lowers `intake.crypto.codename`'s OPSLIMIT and MEMLIMIT in the server's own process (gunicorn's workers
fork from it), then runs the program. Nothing in intake can be set to do this: the format fixes the cost
(docs/format.md §12.3), and only a test that never types a codename back may use it (docs/architecture.md,
"What a test costs").
"""

from __future__ import annotations

import runpy
import sys

CHEAP_CODENAMES = (sys.executable, __file__)


def main() -> None:
    """Lower the codename's cost, then run the program named by the arguments as `__main__`."""
    sys.path.pop(0)  # this folder: its modules must not shadow anything the program imports
    import nacl.pwhash.argon2id as argon2id

    import intake.crypto.codename as codename

    codename.OPSLIMIT, codename.MEMLIMIT = argon2id.OPSLIMIT_MIN, argon2id.MEMLIMIT_MIN
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
