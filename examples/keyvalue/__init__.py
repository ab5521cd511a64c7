"""A key-value store per project: the example component of docs/framework.md.

Its proto's generated code lives beside it in ``generated/`` (package
``example.keyvalue.v1``), outside the installed ``generated/`` tree of the
cloud's own contracts, so it is put on the import path here, once, for every
module of the example and its tests.
"""

import sys
from pathlib import Path

GENERATED = str(Path(__file__).resolve().parent / "generated")
if GENERATED not in sys.path:
    sys.path.append(GENERATED)
