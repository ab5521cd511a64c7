"""The dashboard (Horizon's role): a web console over the same gRPC contracts as the CLI.

A server-rendered Starlette application. It signs users in with identity's
IssueToken, keeps the token in a server-side session (the browser holds only a
random session id) and calls every other service at the public endpoints of the
token's catalog with that token: it has no logic of its own beyond presenting
what the services answer, and no database.
"""
