"""The brake's settings on a list's form: each empty means the installation's default
(MCBRIDGE_BRAKE_ARCHIVE_SHARE, MCBRIDGE_BRAKE_ARCHIVE_MIN, MCBRIDGE_BRAKE_CHANGE_SHARE)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext
from wtforms import FloatField
from wtforms.validators import NumberRange, Optional


class PercentField(FloatField):
    """A share stored as a fraction (0.1) and typed as a percentage (10): leaders think in
    per cent, the settings beside the installation's defaults in fractions."""

    def process_data(self, value: float | None) -> None:
        self.data = None if value is None else round(value * 100, 2)

    def populate_obj(self, obj: Any, name: str) -> None:
        setattr(obj, name, None if self.data is None else self.data / 100)


COLUMNS = ("brake_archive_share", "brake_archive_min", "brake_change_share")
OVERRIDES = {"brake_archive_share": PercentField, "brake_change_share": PercentField}
DEFAULT_NOTE = lazy_gettext("Empty: the installation's default.")
FORM_ARGS = {
    "brake_archive_share": {
        "label": lazy_gettext("Hold an export that would archive more than (%)"),
        "description": lazy_gettext(
            "Of the contacts the list manages. A held export writes nothing until a leader "
            "confirms it on its page. Empty: the installation's default."
        ),
        "validators": [Optional(), NumberRange(min=0, max=100)],
    },
    "brake_archive_min": {
        "label": lazy_gettext("… and at least (contacts)"),
        "description": DEFAULT_NOTE,
        "validators": [Optional(), NumberRange(min=1)],
    },
    "brake_change_share": {
        "label": lazy_gettext("Hold an export that would change more than (%)"),
        "description": DEFAULT_NOTE,
        "validators": [Optional(), NumberRange(min=0, max=100)],
    },
}
