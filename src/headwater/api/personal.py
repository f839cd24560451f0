"""Management API: which keys a workspace masks for principals without ``pii:read``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from typing_extensions import TypedDict

from headwater.access import MASK, PersonalKeys
from headwater.api.auth import principal_of
from headwater.api.masking import classifier_of_workspace
from headwater.api.scope import SCOPED, WORKSPACE, Allowed
from headwater.pii import RuleClassifier

__all__ = ["PersonalKeysView", "router"]

router = APIRouter(prefix=WORKSPACE, tags=["access"], dependencies=SCOPED)


class PersonalKeysView(TypedDict):
    """The keys whose values are personal (in the words form: lower case, no separators),
    the marker masked values read as, and whether the caller sees them unmasked."""

    anywhere: list[str]
    in_traits: list[str]
    last_words: list[str]
    marker: str
    pii_read: bool


@router.get("/personal-keys")
async def personal_keys(workspace: str, request: Request, runtime: Allowed) -> PersonalKeysView:
    """What is masked without ``pii:read``: a key is personal anywhere when its words are one
    of ``anywhere`` or end with one of ``last_words``; directly inside ``traits`` also when
    they are one of ``in_traits``. Identifiers of a personal type (``{"type": "email", ...}``)
    and raw request text are masked too (``docs/access.md``)."""
    classifier = classifier_of_workspace(request.scope)
    listed = (
        classifier.listed()
        if isinstance(classifier, PersonalKeys | RuleClassifier)
        else {"anywhere": [], "in_traits": [], "last_words": []}
    )
    return {
        "anywhere": listed["anywhere"],
        "in_traits": listed["in_traits"],
        "last_words": listed["last_words"],
        "marker": MASK,
        "pii_read": principal_of(request).pii_read(workspace),
    }
