"""Who may do what: the order of the roles, and the role each kind of record needs to be
read. Routes mark their operations with these roles (service/http/resources.py), and everything
that shows records of several kinds at once (the change feed, webhook events) filters by
`readable_by`, so a kind of record is hidden the same way everywhere."""

from __future__ import annotations

from collections.abc import Mapping

from service.core.vocabularies import EntityType, Role

_RANK = {role: rank for rank, role in enumerate(Role)}

# The service's own settings, not its data. Every kind of record not named here is data,
# read by whoever may read at all (everyone, unless PUBLIC_READ is off).
READ_ROLE: Mapping[EntityType, Role] = {
    # A key's name, role and prefix tell an attacker which key to go after.
    EntityType.API_KEY: Role.ADMIN,
    # A webhook's URL can itself be a credential (a chat's "incoming webhook").
    EntityType.WEBHOOK: Role.EDITOR,
}

# A background job holds the file its submitter sent, and its errors quote it: a caller sees
# the jobs its own key submitted, and only this role sees everyone's.
OTHERS_JOBS_ROLE = Role.ADMIN


def allows(role: Role | None, needed: Role | None) -> bool:
    """Whether a caller of `role` (None: no key) may do what needs `needed` (None: anyone)."""
    if needed is None:
        return True
    return role is not None and _RANK[role] >= _RANK[needed]


def read_role(entity: EntityType) -> Role | None:
    """The least role that may read records of this kind; None for data."""
    return READ_ROLE.get(entity)


def readable_by(role: Role | None) -> frozenset[EntityType]:
    """The kinds of record a caller of `role` (None: no key) may read."""
    return frozenset(entity for entity in EntityType if allows(role, read_role(entity)))
