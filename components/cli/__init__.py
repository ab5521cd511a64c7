"""The ``stratus`` command-line client (its commands start in ``__main__``)."""

import os

# gRPC's C core logs a failed TLS handshake on stderr at INFO level, while the CLI
# reports every failure as one line of its own. grpc reads the level once, when it
# is first imported, so it is set here, before any module of the CLI imports grpc;
# ERROR is gRPC's documented default, and a level the user set is kept.
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
