"""TensorFlow and Keras imported without TensorFlow's start-up chatter.

TensorFlow 2.21 writes "WARNING: All log messages before absl::InitializeLog() is
called are written to STDERR" and a oneDNN notice straight to file descriptor 2 while
it is imported (twice: once per native library), whatever ``TF_CPP_MIN_LOG_LEVEL``
says, because absl's logging is not set up yet. A user of the CLI reads them as
warnings about their run. So the import runs with descriptor 2 caught in a file, and
what it caught is written back without those known lines: anything else (a real
warning, an import error's own output) still reaches stderr.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from types import ModuleType

CHATTER = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|I\d{4} [\d:. ]+\d+ (port|cpu_feature_guard)\.cc:\d+\]"
    rb"|To enable the following instructions: )"
)


def import_tensorflow() -> ModuleType:
    """``tensorflow``, imported (with ``keras``) on first call without its start-up
    lines on stderr; later calls return the module at once."""
    if "tensorflow" in sys.modules and "keras" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # the C++ logs after start-up
    sys.stderr.flush()
    with tempfile.TemporaryFile() as caught:
        saved = os.dup(2)
        os.dup2(caught.fileno(), 2)
        try:
            import keras  # noqa: F401
            import tensorflow
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            kept = [line for line in caught.read().splitlines(True) if not CHATTER.match(line)]
            if kept:
                os.write(2, b"".join(kept))
    return tensorflow
