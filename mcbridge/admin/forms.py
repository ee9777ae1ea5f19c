"""Field validators shared by the admin forms and the CSV importer's wording."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from wtforms.validators import ValidationError

from mcbridge.emails import email_problem, normalize_email


def valid_email(_form: Any, field: Any) -> None:
    """An address must be one Mailchimp could send to; the message says what is wrong."""
    address = normalize_email(field.data)
    if address is None:
        return
    problem = email_problem(address)
    if problem:
        raise ValidationError(
            gettext(
                "“%(address)s” is not a valid address: %(problem)s",
                address=address,
                problem=problem,
            )
        )


def dates_in_order(form: Any, field: Any) -> None:
    start = form.start_on.data
    if field.data and start and field.data < start:
        raise ValidationError(gettext("The end date must not be before the start date."))
