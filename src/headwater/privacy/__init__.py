"""Privacy: forgetting a person (regulations: deletion and suppression), subject access,
consent, PII rules and retention.

Privacy sits above the capabilities whose data it reaches (it erases and exports a person
from each of them through their faces) and below the composition root.
"""

from headwater.privacy.erase import STORES, erase
from headwater.privacy.person import Person, SubjectType, person_of
from headwater.privacy.service import erase_person

__all__ = ["STORES", "Person", "SubjectType", "erase", "erase_person", "person_of"]
