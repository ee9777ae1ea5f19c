"""Field validators shared by the admin forms and the CSV importer's wording."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from wtforms import StringField
from wtforms.validators import ValidationError

from mcbridge.emails import email_problem, normalize_email
from mcbridge.models.people import TAG_LENGTH


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


class TagsField(StringField):
    """Free words separated by commas ("Vorstand, J+S"), held as a list: person tags, the
    tags a rule requires or excludes, a list's preferred labels. Spaces around each word
    are dropped, repeats kept once; a word too long to store is refused, naming it."""

    def _value(self) -> str:
        return ", ".join(self.data or [])

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = valuelist[0] if valuelist else ""
        words = (" ".join(word.split()) for word in text.split(","))
        self.data = list(dict.fromkeys(word for word in words if word))

    def pre_validate(self, form: Any) -> None:
        for word in self.data or []:
            if len(word) > TAG_LENGTH:
                raise ValidationError(
                    gettext(
                        "“%(word)s” is too long: at most %(length)d characters.",
                        word=word,
                        length=TAG_LENGTH,
                    )
                )
