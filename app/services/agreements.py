"""MOUs and data-sharing agreements (DSA): their terms, signatures and signed document.

The document (a PDF up to DOCUMENT_MAX_BYTES) is kept in `agreements.document` on both
backends, beside its SHA-256 and size: one backup holds the agreement and its evidence.
"""

from __future__ import annotations

import hashlib

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.db import unit_of_work
from app.domain_errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from app.models import Agreement, AgreementSignature
from app.repositories import partnerships as repo
from app.schemas.agreements import AgreementCreate, SignatureCreate
from app.services import partnerships

DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
PDF_MAGIC = b"%PDF-"
DSA_FIELDS = ("data_elements", "purpose", "retention", "destruction_date")
OPEN_STATES = ("proposed", "accepted", "active")


def create(
    *, session: Session, principal: Principal, partnership_id: int, data: AgreementCreate
) -> Agreement:
    """Record an MOU or a DSA; a DSA names the data, purpose, retention and destruction date."""
    partnership, _ = partnerships.actable(
        session=session, principal=principal, partnership_id=partnership_id
    )
    if partnership.status not in OPEN_STATES:
        raise Conflict(
            f"Agreements are made before a partnership closes; it is {partnership.status}."
        )
    if data.term_end < data.term_start:
        raise InvalidInput(["body", "term_end"], "term_end is before term_start.")
    if data.renewal_date is not None and data.renewal_date < data.term_start:
        raise InvalidInput(["body", "renewal_date"], "renewal_date is before term_start.")
    values = data.model_dump()
    if data.kind == "dsa":
        for field in DSA_FIELDS:
            if not values[field]:
                raise InvalidInput(["body", field], f"A data-sharing agreement states its {field}.")
        assert data.destruction_date is not None
        if data.destruction_date < data.term_start:
            raise InvalidInput(["body", "destruction_date"], "destruction_date is before the term.")
    else:
        for field in DSA_FIELDS:
            if values[field]:
                raise InvalidInput(["body", field], f"Only a data-sharing agreement has {field}.")
    agreement = Agreement(partnership_id=partnership.id, **values)
    partnerships.add_part(
        session,
        principal,
        partnership,
        agreement,
        resource_type="agreement",
        fields=data.model_dump(exclude_unset=True),
        conflict="The agreement conflicts with existing data.",
    )
    return agreement


def readable(*, session: Session, principal: Principal, agreement_id: int) -> Agreement:
    agreement = session.get(Agreement, agreement_id)
    if agreement is None:
        raise NotFound(f"Agreement {agreement_id} does not exist.")
    partnerships.readable(
        session=session, principal=principal, partnership_id=agreement.partnership_id
    )
    return agreement


def of_partnership(
    *, session: Session, principal: Principal, partnership_id: int
) -> list[Agreement]:
    partnerships.readable(session=session, principal=principal, partnership_id=partnership_id)
    return repo.agreements(session, partnership_id)


def sign(
    *, session: Session, principal: Principal, agreement_id: int, data: SignatureCreate
) -> Agreement:
    """One signature per party; the caller signs for a side it acts for."""
    agreement = readable(session=session, principal=principal, agreement_id=agreement_id)
    partnership, acting = partnerships.actable(
        session=session, principal=principal, partnership_id=agreement.partnership_id
    )
    party = partnerships.party_for(acting, data.party, ["body", "party"])
    if any(s.party == party for s in agreement.signatures):
        raise Conflict(f"The {party} has already signed agreement {agreement.id}.")
    agreement.signatures.append(
        AgreementSignature(party=party, signer_name=data.signer_name, signed_on=data.signed_on)
    )
    with unit_of_work(session, conflict=f"The {party} has already signed this agreement."):
        session.flush()
        partnerships.record(
            session,
            principal,
            partnership,
            action="sign",
            resource_type="agreement",
            resource_id=agreement.id,
            fields=["party", "signer_name", "signed_on"],
        )
    return agreement


def attach(
    *, session: Session, principal: Principal, agreement_id: int, name: str, content: bytes
) -> Agreement:
    """Store the agreement's PDF with its SHA-256; a signed agreement's document is fixed."""
    agreement = readable(session=session, principal=principal, agreement_id=agreement_id)
    partnership, _ = partnerships.actable(
        session=session, principal=principal, partnership_id=agreement.partnership_id
    )
    if len(content) > DOCUMENT_MAX_BYTES:
        raise PayloadTooLarge(f"The document is over {DOCUMENT_MAX_BYTES // (1024 * 1024)} MB.")
    if not content.startswith(PDF_MAGIC):
        raise InvalidInput(
            ["body", "file"], "The document is not a PDF (it must start with %PDF-)."
        )
    if agreement.signatures:
        raise Conflict("The agreement is signed; its document can no longer change.")
    agreement.document = content
    agreement.document_name = name[:255]
    agreement.document_sha256 = hashlib.sha256(content).hexdigest()
    agreement.document_size = len(content)
    with unit_of_work(session, conflict="The agreement changed meanwhile."):
        session.flush()
        partnerships.record(
            session,
            principal,
            partnership,
            action="attach",
            resource_type="agreement",
            resource_id=agreement.id,
            fields=["document"],
        )
    return agreement


def document(*, session: Session, principal: Principal, agreement_id: int) -> Agreement:
    agreement = readable(session=session, principal=principal, agreement_id=agreement_id)
    if agreement.document is None:
        raise NotFound(f"Agreement {agreement_id} has no document attached.")
    return agreement
