"""Key pairs: each user's SSH public keys (Nova's os-keypairs).

A key pair belongs to a user, not a project, so it is looked up by
(user_id, name) and another user's key pair is simply not there (NOT_FOUND).
The quota counts a user's key pairs; as Nova does, it is checked before the
insert and again after it, so two racing creates cannot both pass the last
free slot.
"""

from __future__ import annotations

import re

import peewee

from components.api import keypair_keys
from components.compute_db.models import KeyPair
from components.framework import (
    AlreadyExists,
    Caller,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    paging,
    quote,
    transactions,
    validation,
)

NAME_MAX = 255
_NAME = re.compile(r"^[A-Za-z0-9 _\-.@]+$")
# The first element of a ListKeypairs page token (its other ones: last name, user).
_TOKEN_KIND = "keypairs"


def check_name(value: str) -> str:
    """A key pair name as Nova allows it: letters, digits, space, "_", "-", "." and "@"."""
    if not value or not value.strip():
        raise InvalidArgument("name is required and must not be only spaces", field="name")
    if len(value) > NAME_MAX:
        raise InvalidArgument(f"name is longer than {NAME_MAX} characters", field="name")
    if not _NAME.match(value):
        raise InvalidArgument(
            'name may only have letters, digits, space, "_", "-", "." and "@"', field="name"
        )
    return value


def owner(who: Caller, user_id: str) -> str:
    """The user whose key pairs a call is about: the caller, or (admins only) ``user_id``."""
    if not user_id:
        return who.user_id
    user_id = validation.uuid_str("user_id", user_id)
    if user_id != who.user_id and not who.is_admin:
        raise PermissionDenied(
            "only admins may act on another user's key pairs",
            reason="POLICY_DENIED",
            user_id=user_id,
        )
    return user_id


def _count(user_id: str) -> int:
    return KeyPair.select().where(KeyPair.user_id == user_id).count()


def _quota_exceeded(used: int, limit: int) -> QuotaExceeded:
    return QuotaExceeded(
        f"quota exceeded for key_pairs: {used} of {limit} used, 1 more requested",
        resource="key_pairs",
    )


def _check_quota(user_id: str, limit: int) -> None:
    """QuotaExceeded if the user has ``limit`` key pairs already (-1: unlimited)."""
    if limit >= 0 and (used := _count(user_id)) >= limit:
        raise _quota_exceeded(used, limit)


def _store(user_id: str, name: str, key: keypair_keys.PublicKey, limit: int) -> KeyPair:
    """Insert the key pair within the user's quota (-1: unlimited)."""
    _check_quota(user_id, limit)
    try:
        row = transactions.run(
            lambda: KeyPair.create(
                user_id=user_id,
                name=name,
                public_key=key.line,
                fingerprint=key.fingerprint,
                key_type=key.key_type,
            )
        )
    except peewee.IntegrityError:
        raise AlreadyExists(f"a key pair named {quote(name)} already exists", name=name) from None
    if limit >= 0 and (used := _count(user_id)) > limit:
        # Another create took the last slot meanwhile: this one gives it back.
        KeyPair.delete().where(KeyPair.id == row.id).execute()
        raise _quota_exceeded(used - 1, limit)
    return row


def create(who: Caller, name: str, key_type: str, limit: int) -> tuple[KeyPair, str]:
    """Generate a key pair for the caller; returns (row, OpenSSH private key)."""
    name = check_name(name)
    key_type = key_type or "ssh-ed25519"
    if key_type not in keypair_keys.GENERATED_TYPES:
        raise InvalidArgument(
            f"key_type must be one of {', '.join(keypair_keys.GENERATED_TYPES)}",
            field="key_type",
        )
    # Before the key is made: a 3072-bit RSA key takes a while.
    _check_quota(who.user_id, limit)
    public, private = keypair_keys.generate(key_type)
    return _store(who.user_id, name, public, limit), private


def import_(who: Caller, name: str, public_key: str, limit: int) -> KeyPair:
    """Store a public key the caller already has."""
    name = check_name(name)
    key = keypair_keys.parse_public_key(public_key)
    return _store(who.user_id, name, key, limit)


def get(who: Caller, name: str, user_id: str = "") -> KeyPair:
    user_id = owner(who, user_id)
    name = check_name(name)
    row = KeyPair.get_or_none((KeyPair.user_id == user_id) & (KeyPair.name == name))
    if row is None:
        raise NotFound(f"no key pair named {quote(name)}", reason="KEYPAIR_NOT_FOUND", name=name)
    return row


def listing(who: Caller, size: int, token: str, user_id: str = "") -> tuple[list[KeyPair], str]:
    """One page of a user's key pairs by name; the token holds the last name served."""
    user_id = owner(who, user_id)
    size = paging.page_size(size)
    query = KeyPair.select().where(KeyPair.user_id == user_id)
    if token:
        decoded = paging.decode_token(token)
        if len(decoded) != 3 or decoded[0] != _TOKEN_KIND or decoded[2] != user_id:
            raise InvalidArgument(
                "page_token was not issued by this call with these filters", field="page_token"
            )
        query = query.where(KeyPair.name > str(decoded[1]))
    rows = list(query.order_by(KeyPair.name).limit(size + 1))
    if len(rows) <= size:
        return rows, ""
    rows = rows[:size]
    return rows, paging.encode_token([_TOKEN_KIND, rows[-1].name, user_id])


def delete(who: Caller, name: str, user_id: str = "") -> None:
    row = get(who, name, user_id)
    deleted = KeyPair.delete().where(KeyPair.id == row.id).execute()
    if not deleted:
        raise NotFound(f"no key pair named {quote(name)}", reason="KEYPAIR_NOT_FOUND", name=name)
