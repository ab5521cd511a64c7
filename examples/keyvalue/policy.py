"""Who may call each KeyValue RPC: readers read, members (and admins) also write.

A rule only looks at the caller's roles; which project's keys a call reaches is
the domain's business (store.py always uses the caller's project).
"""

from components.framework import Policy, member, reader

POLICY = Policy.of(
    {
        "example.keyvalue.v1.KeyValue": {
            "GetStore": reader,
            "PutKey": member,
            "GetKey": reader,
            "ListKeys": reader,
            "DeleteKey": member,
            "Casts": member,
        }
    }
)
