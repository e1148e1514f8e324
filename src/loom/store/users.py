"""The team server's users, API tokens and permissions (tables of migration 0005).

The store keeps what it is given: password hashes are made by the server
(argon2id) and tokens arrive already hashed (SHA-256); nothing here sees a
secret. Permissions are rows ``(user, kind, resource, level)`` where ``kind`` is
``experiment`` (resource: the experiment id) or ``model`` (the registered
model's name).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, and_, bindparam, cast, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from loom.errors import AlreadyExistsError, NotFoundError, ValidationError
from loom.store.base import StoreBase, chunks, now_ms
from loom.store.engine import retrying
from loom.store.schema import (
    ApiTokenRow,
    LoggedModelRow,
    PermissionRow,
    RunRow,
    UserRow,
)
from loom.store.upsert import upsert

KINDS = ("experiment", "model")
LEVELS = ("NO_PERMISSIONS", "READ", "EDIT", "MANAGE")


@dataclass(frozen=True)
class User:
    name: str
    password_hash: str
    is_admin: bool
    creation_time: int


@dataclass(frozen=True)
class ApiToken:
    user: str
    name: str
    creation_time: int


@dataclass(frozen=True)
class Permission:
    user: str
    kind: str
    resource: str
    level: str


def _user(row) -> User:
    return User(row.name, row.password_hash, bool(row.is_admin), row.creation_time)


def _no_user(name: str) -> NotFoundError:
    return NotFoundError(f"No user named {name!r}.", hint="loom server users list")


class UsersMixin(StoreBase):
    @retrying
    def create_user(self, name: str, password_hash: str, *, is_admin: bool = False) -> User:
        """Add a user; :class:`AlreadyExistsError` if the name is taken."""
        now = now_ms()
        row = {"name": name, "password_hash": password_hash, "is_admin": is_admin}
        try:
            with self._write() as conn:
                conn.execute(insert(UserRow), [{**row, "creation_time": now}])
        except IntegrityError:
            raise AlreadyExistsError(f"A user named {name!r} already exists.") from None
        return User(name, password_hash, is_admin, now)

    @retrying
    def get_user(self, name: str) -> User | None:
        """The user, or None: one primary-key lookup (every request makes it)."""
        with self._read() as conn:
            row = conn.execute(_USER, {"name": name}).first()
        return _user(row) if row is not None else None

    @retrying
    def list_users(self) -> list[User]:
        with self._read() as conn:
            return [_user(r) for r in conn.execute(select(UserRow).order_by(UserRow.name))]

    @retrying
    def user_count(self) -> int:
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(UserRow)).scalar_one())

    @retrying
    def update_user(
        self, name: str, *, password_hash: str | None = None, is_admin: bool | None = None
    ) -> None:
        values: dict[str, object] = {}
        if password_hash is not None:
            values["password_hash"] = password_hash
        if is_admin is not None:
            values["is_admin"] = is_admin
        with self._write() as conn:
            done = conn.execute(update(UserRow).where(UserRow.name == name).values(values))
            if done.rowcount == 0:
                raise _no_user(name)

    @retrying
    def delete_user(self, name: str) -> None:
        """Delete a user with their tokens and grants (deleted here, not left to the
        foreign keys' cascade, which SQLite applies only with its pragma on)."""
        with self._write() as conn:
            conn.execute(delete(ApiTokenRow).where(ApiTokenRow.user == name))
            conn.execute(delete(PermissionRow).where(PermissionRow.user == name))
            if conn.execute(delete(UserRow).where(UserRow.name == name)).rowcount == 0:
                raise _no_user(name)

    # --- tokens ---

    @retrying
    def create_token(self, user: str, name: str, token_hash: str) -> ApiToken:
        now = now_ms()
        row = {"token_hash": token_hash, "user": user, "name": name, "creation_time": now}
        with self._write() as conn:
            if conn.execute(select(UserRow.name).where(UserRow.name == user)).first() is None:
                raise _no_user(user)
            taken = select(ApiTokenRow.name).where(ApiTokenRow.user == user)
            if conn.execute(taken.where(ApiTokenRow.name == name)).first() is not None:
                raise AlreadyExistsError(
                    f"{user} already has a token named {name!r}.",
                    hint=f"Revoke it first: loom server tokens revoke {user} {name}",
                )
            conn.execute(insert(ApiTokenRow), [row])
        return ApiToken(user, name, now)

    @retrying
    def token_user(self, token_hash: str) -> User | None:
        """The user who owns the token with this hash, or None: one index lookup."""
        with self._read() as conn:
            row = conn.execute(_TOKEN_USER, {"hash": token_hash}).first()
        return _user(row) if row is not None else None

    @retrying
    def list_tokens(self, user: str) -> list[ApiToken]:
        q = select(ApiTokenRow).where(ApiTokenRow.user == user).order_by(ApiTokenRow.name)
        with self._read() as conn:
            if conn.execute(select(UserRow.name).where(UserRow.name == user)).first() is None:
                raise _no_user(user)
            return [ApiToken(r.user, r.name, r.creation_time) for r in conn.execute(q)]

    @retrying
    def revoke_token(self, user: str, name: str) -> None:
        where = (ApiTokenRow.user == user, ApiTokenRow.name == name)
        with self._write() as conn:
            if conn.execute(delete(ApiTokenRow).where(*where)).rowcount == 0:
                raise NotFoundError(
                    f"{user} has no token named {name!r}.",
                    hint=f"loom server tokens list {user}",
                )

    # --- permissions ---

    @retrying
    def set_permission(self, user: str, kind: str, resource: str, level: str) -> None:
        _check(kind, level)
        row = {"user": user, "kind": kind, "resource": resource, "level": level}
        with self._write() as conn:
            if conn.execute(select(UserRow.name).where(UserRow.name == user)).first() is None:
                raise _no_user(user)
            upsert(conn, PermissionRow, [row], ("user", "kind", "resource"), ("level",))

    @retrying
    def delete_permission(self, user: str, kind: str, resource: str) -> None:
        where = (
            PermissionRow.user == user,
            PermissionRow.kind == kind,
            PermissionRow.resource == resource,
        )
        with self._write() as conn:
            if conn.execute(delete(PermissionRow).where(*where)).rowcount == 0:
                raise NotFoundError(f"{user} has no grant on {kind} {resource!r}.")

    @retrying
    def permissions(self, user: str, kind: str, resources: Sequence[str]) -> dict[str, str]:
        """The levels granted to ``user`` on those of ``resources`` that have a grant."""
        out: dict[str, str] = {}
        with self._read() as conn:
            for part in chunks(list(dict.fromkeys(resources))):
                q = select(PermissionRow.resource, PermissionRow.level).where(
                    PermissionRow.user == user,
                    PermissionRow.kind == kind,
                    PermissionRow.resource.in_(part),
                )
                out.update({r.resource: r.level for r in conn.execute(q)})
        return out

    @retrying
    def list_permissions(self, user: str | None = None) -> list[Permission]:
        q = select(PermissionRow).order_by(
            PermissionRow.user, PermissionRow.kind, PermissionRow.resource
        )
        if user is not None:
            q = q.where(PermissionRow.user == user)
        with self._read() as conn:
            return [Permission(r.user, r.kind, r.resource, r.level) for r in conn.execute(q)]

    @retrying
    def rename_permissions(self, kind: str, old: str, new: str) -> None:
        """Grants follow a registered model when it is renamed."""
        with self._write() as conn:
            conn.execute(
                update(PermissionRow)
                .where(PermissionRow.kind == kind, PermissionRow.resource == old)
                .values(resource=new)
            )

    @retrying
    def drop_permissions(self, kind: str, resource: str) -> None:
        """Every grant on a resource that is gone for good (a registered model deleted:
        one made later under its name must not inherit them)."""
        where = (PermissionRow.kind == kind, PermissionRow.resource == resource)
        with self._write() as conn:
            conn.execute(delete(PermissionRow).where(*where))

    @retrying
    def grant_of(self, user: str, kind: str, resource: str) -> str | None:
        """The level granted to ``user`` on one resource, or None: one primary-key lookup."""
        with self._read() as conn:
            found = conn.execute(_GRANT, {"user": user, "kind": kind, "resource": resource})
            return found.scalar_one_or_none()

    # --- what a request's resource belongs to, and the caller's grant there ---

    @retrying
    def run_grant(self, user: str, run_id: str) -> tuple[str, str | None] | None:
        """The run's experiment id and ``user``'s grant on it (None: no grant), in one
        query (every logged metric asks); None if there is no such run."""
        with self._read() as conn:
            row = conn.execute(_RUN_GRANT, {"user": user, "key": run_id}).first()
        return None if row is None else (str(row[0]), row[1])

    @retrying
    def logged_model_grant(self, user: str, model_id: str) -> tuple[str, str | None] | None:
        with self._read() as conn:
            row = conn.execute(_LOGGED_MODEL_GRANT, {"user": user, "key": model_id}).first()
        return None if row is None else (str(row[0]), row[1])


# Built once: building and keying a statement costs more than SQLite's whole lookup,
# and these run on every authenticated request.
_USER = select(UserRow).where(UserRow.name == bindparam("name"))
_TOKEN_USER = (
    select(UserRow)
    .join(ApiTokenRow, ApiTokenRow.user == UserRow.name)
    .where(ApiTokenRow.token_hash == bindparam("hash"))
)
_GRANT = select(PermissionRow.level).where(
    PermissionRow.user == bindparam("user"),
    PermissionRow.kind == bindparam("kind"),
    PermissionRow.resource == bindparam("resource"),
)


def _owner_grant(experiment_id: Any, key: Any) -> Any:
    """The owner's experiment id and the user's grant on that experiment."""
    grant = and_(
        PermissionRow.user == bindparam("user"),
        PermissionRow.kind == "experiment",
        PermissionRow.resource == cast(experiment_id, String),
    )
    q = select(experiment_id, PermissionRow.level).outerjoin(PermissionRow, grant)
    return q.where(key == bindparam("key"))


_RUN_GRANT = _owner_grant(RunRow.experiment_id, RunRow.run_id)
_LOGGED_MODEL_GRANT = _owner_grant(LoggedModelRow.experiment_id, LoggedModelRow.model_id)


def _check(kind: str, level: str) -> None:
    if kind not in KINDS:
        raise ValidationError(f"Unknown permission kind {kind!r}: one of {', '.join(KINDS)}.")
    if level not in LEVELS:
        raise ValidationError(
            f"Unknown permission level {level!r}: one of {', '.join(LEVELS)}.",
            hint="READ < EDIT < MANAGE; NO_PERMISSIONS takes even reading away.",
        )
