"""How an agreement stands to another: amends it, implements it, supersedes it..."""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.agreements.inputs import AgreementRelationFilters, AgreementRelationIn
from service.agreements.models import Agreement, AgreementRelation
from service.agreements.services import agreement_for_write
from service.core import records, writes
from service.core.errors import InvalidInput
from service.core.pagination import Page, PageRequest, keyset_page
from service.core.vocabularies import EntityType

AGREEMENT = EntityType.AGREEMENT
RELATION = EntityType.AGREEMENT_RELATION


def list_agreement_relations(
    session: Session, *, agreement_ref: str, page: PageRequest, filters: AgreementRelationFilters
) -> Page[AgreementRelation]:
    agreement = records.find_by_ref(session, Agreement, AGREEMENT, agreement_ref)
    statement = records.live(AgreementRelation).where(
        AgreementRelation.agreement_id == agreement.id
    )
    if "kind" in filters:
        statement = statement.where(AgreementRelation.kind == filters["kind"])
    return keyset_page(session, statement, AgreementRelation.id, page)


def get_agreement_relation(
    session: Session, *, agreement_ref: str, relation_id: int
) -> AgreementRelation:
    agreement = records.find_by_ref(session, Agreement, AGREEMENT, agreement_ref)
    return records.find_child(
        session, AgreementRelation, RELATION, "agreement_id", agreement.id, relation_id
    )


def _check_related(session: Session, agreement: Agreement, related_id: int) -> None:
    if related_id == agreement.id:
        message = "An agreement cannot be related to itself."
        raise InvalidInput(message, errors={"related_agreement_id": [message]})
    records.referenced(session, Agreement, AGREEMENT, related_id, "related_agreement_id")


def create_agreement_relation(
    session: Session, *, agreement_ref: str, data: AgreementRelationIn
) -> AgreementRelation:
    agreement = agreement_for_write(session, agreement_ref)
    _check_related(session, agreement, data["related_agreement_id"])
    relation = writes.add(session, AgreementRelation(agreement_id=agreement.id, **data), RELATION)
    writes.commit(session)
    return relation


def update_agreement_relation(
    session: Session,
    *,
    agreement_ref: str,
    relation_id: int,
    data: AgreementRelationIn,
    check: writes.Check,
) -> AgreementRelation:
    agreement, relation = _relation_for_write(session, agreement_ref, relation_id)
    check(relation)
    if "related_agreement_id" in data:
        _check_related(session, agreement, data["related_agreement_id"])
    writes.record_update(session, relation, RELATION, writes.assign(relation, data))
    writes.commit(session)
    return relation


def delete_agreement_relation(
    session: Session, *, agreement_ref: str, relation_id: int, check: writes.Check
) -> None:
    _agreement, relation = _relation_for_write(session, agreement_ref, relation_id)
    check(relation)
    writes.soft_delete(session, relation, RELATION)
    writes.commit(session)


def _relation_for_write(
    session: Session, agreement_ref: str, relation_id: int
) -> tuple[Agreement, AgreementRelation]:
    """The agreement, its row locked (agreement_for_write), and its relation, locked too."""
    agreement = agreement_for_write(session, agreement_ref)
    relation = records.find_child(
        session,
        AgreementRelation,
        RELATION,
        "agreement_id",
        agreement.id,
        relation_id,
        for_update=True,
    )
    return agreement, relation
