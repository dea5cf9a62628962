"""`iop import FILE`: organisations, people and agreements from YAML, validated.

Pure: parsing touches no database. The result (`ImportBundle`) is stored by the
caller in one transaction, after it has resolved what only the database knows
(`unresolved_orgnrs`, `referenced_people`). Every problem raises `InvalidInput`
naming the record and the field; nothing else escapes. The format is described
in docs/import-format.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from pydantic import ValidationError

from ..config import today_in_stockholm
from ..domain.errors import InvalidInput
from .bundle import ImportBundle, PersonReference, Where, is_placeholder
from .convert import build_bundle
from .followups import FollowUpDates, default_follow_up_dates
from .locate import DOCUMENT, from_validation_error
from .schema import DocumentFile
from .yamlio import read_yaml

__all__ = [
    "FollowUpDates",
    "ImportBundle",
    "PersonReference",
    "Where",
    "is_placeholder",
    "load_yaml",
    "parse_document",
]


def parse_document(
    data: object,
    *,
    follow_up_dates: FollowUpDates = default_follow_up_dates,
    today: date | None = None,
) -> ImportBundle:
    """Validate plain data (as from YAML or JSON) into domain objects.

    `None` (an empty document) imports nothing. `follow_up_dates` computes each
    imported follow-up's (opens_on, due_on); the deadline engine by default. `today`
    is the day of the import (today in Europe/Stockholm by default): the steps that
    lead to each agreement's state are replayed on it (phases.py).
    """
    if data is None:
        return ImportBundle()
    if not isinstance(data, Mapping):
        raise InvalidInput(
            f"the document must be a mapping with the keys people, organisations and "
            f"agreements, not {type(data).__name__}",
            record=DOCUMENT,
        )
    try:
        document = DocumentFile.model_validate(data)
    except ValidationError as error:
        raise from_validation_error(error, data) from None
    return build_bundle(document, follow_up_dates, today or today_in_stockholm())


def load_yaml(
    text: str,
    *,
    follow_up_dates: FollowUpDates = default_follow_up_dates,
    today: date | None = None,
) -> ImportBundle:
    """Parse the YAML text of an import file (see `parse_document`)."""
    return parse_document(read_yaml(text), follow_up_dates=follow_up_dates, today=today)
