"""Privacy: forgetting a person (regulations: deletion and suppression), subject access,
consent, PII rules and retention.

Privacy sits above the capabilities whose data it reaches (it erases and exports a person
from each of them through their faces) and below the composition root.
"""

from headwater.privacy.person import Person, SubjectType, person_of

__all__ = ["Person", "SubjectType", "person_of"]
