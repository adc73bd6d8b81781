"""Staff users (dashboard logins), argon2 password hashes and REST API tokens."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, select, update

from qunyun.domain import StaffRole
from qunyun.events import utcnow
from qunyun.store.tables import ApiTokenRow, StaffUserRow, tbl

_hasher = PasswordHasher()


class StaffExists(ValueError):
    pass


def create_user(conn: Connection, name: str, password: str, role: StaffRole | str, lang: str = "zh-CN") -> int:
    role = StaffRole(role)
    table = tbl(StaffUserRow)
    if conn.execute(select(table.c.id).where(table.c.name == name)).first():
        raise StaffExists(name)
    res = conn.execute(
        table.insert().values(
            name=name, password_hash=_hasher.hash(password), role=role.value, lang=lang, created_at=utcnow()
        )
    )
    return int(res.inserted_primary_key[0])  # type: ignore[index]


def set_password(conn: Connection, name: str, password: str) -> bool:
    table = tbl(StaffUserRow)
    res = conn.execute(update(table).where(table.c.name == name).values(password_hash=_hasher.hash(password)))
    return bool(res.rowcount)


def authenticate(conn: Connection, name: str, password: str) -> dict[str, Any] | None:
    table = tbl(StaffUserRow)
    row = conn.execute(select(table).where(table.c.name == name, table.c.disabled.is_(False))).first()
    if row is None:
        _hasher.hash(password)  # same cost whether or not the user exists
        return None
    try:
        _hasher.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return {"id": row.id, "name": row.name, "role": row.role, "lang": row.lang}


def get_user(conn: Connection, user_id: int) -> dict[str, Any] | None:
    table = tbl(StaffUserRow)
    row = conn.execute(select(table).where(table.c.id == user_id, table.c.disabled.is_(False))).first()
    return None if row is None else {"id": row.id, "name": row.name, "role": row.role, "lang": row.lang}


def list_users(conn: Connection) -> list[dict[str, Any]]:
    table = tbl(StaffUserRow)
    return [
        {"id": r.id, "name": r.name, "role": r.role, "created_at": r.created_at, "disabled": r.disabled}
        for r in conn.execute(select(table).order_by(table.c.id))
    ]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(conn: Connection, staff_id: int, name: str = "cli") -> str:
    """A new bearer token; only its hash is stored, so it is shown once."""
    token = "qy_" + secrets.token_urlsafe(32)
    conn.execute(
        tbl(ApiTokenRow).insert().values(
            staff_id=staff_id, name=name, token_hash=_digest(token), created_at=utcnow()
        )
    )
    return token


def user_for_token(conn: Connection, token: str) -> dict[str, Any] | None:
    tok = tbl(ApiTokenRow)
    row = conn.execute(select(tok.c.id, tok.c.staff_id).where(tok.c.token_hash == _digest(token))).first()
    if row is None:
        return None
    conn.execute(update(tok).where(tok.c.id == row.id).values(last_used_at=utcnow()))
    return get_user(conn, row.staff_id)


def role_at_least(role: str, minimum: str) -> bool:
    return StaffRole(role).rank >= StaffRole(minimum).rank
