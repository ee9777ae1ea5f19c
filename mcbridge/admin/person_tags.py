"""Tags on many people at once: the people list's bulk action "Add or remove a tag".

A Flask-Admin bulk action carries only the selected ids, so the action answers with a
short form asking which tag and whether to add or remove it; that form posts back here.
The people are read again through the view's scope, so a forged id changes nobody.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext, lazy_gettext, ngettext
from flask_wtf import FlaskForm
from sqlalchemy import delete
from wtforms import HiddenField, SubmitField
from wtforms.validators import DataRequired, ValidationError

from mcbridge.admin.base import id_or_none
from mcbridge.admin.forms import TagsField
from mcbridge.extensions import db
from mcbridge.models import Person
from mcbridge.models.people import PersonTag

SHOWN_NAMES = 20


class BulkTagForm(FlaskForm):
    """One tag (a comma would make it several), added to or removed from the selection."""

    rowid = HiddenField()
    tag = TagsField(lazy_gettext("Tag"), validators=[DataRequired()])
    add = SubmitField(lazy_gettext("Add this tag"))
    remove = SubmitField(lazy_gettext("Remove this tag"))

    def validate_tag(self, field: TagsField) -> None:
        """Not WTForms' Length, which the page would turn into a one-character input."""
        if len(field.data) > 1:
            raise ValidationError(gettext("Give one tag only."))


class BulkTagsMixin:
    """The bulk tag action of the people list (a `ScopedModelView` of people)."""

    def selected_people(self, ids: list[Any]) -> list[Person]:
        numbers = [number for value in ids if (number := id_or_none(value)) is not None]
        query = self.get_query()  # type: ignore[attr-defined]
        return query.filter(Person.id.in_(numbers)).order_by(Person.id).all()

    @action("tags", lazy_gettext("Add or remove a tag"))
    def action_tags(self, ids: list[Any]) -> Any:
        people = self.selected_people(ids)
        # Not read from the request: that is the list's action form, whose rowid is a list.
        form = BulkTagForm(formdata=None, rowid=",".join(str(person.id) for person in people))
        return self.ask_for_tag(form, people)

    def ask_for_tag(self, form: BulkTagForm, people: list[Person]) -> Any:
        return self.render(  # type: ignore[attr-defined]
            "mcbridge/admin/people_tags.html",
            form=form,
            people=people[:SHOWN_NAMES],
            count=len(people),
            return_url=self.get_url(".index_view"),  # type: ignore[attr-defined]
        )

    @expose("/tags/", methods=("POST",))
    def bulk_tags(self) -> Any:
        form = BulkTagForm()
        people = self.selected_people((form.rowid.data or "").split(","))
        if not form.validate():
            return self.ask_for_tag(form, people)
        tag = form.tag.data[0]
        if form.remove.data:
            remove_tag(people, tag)
            message = ngettext(
                "“%(tag)s” removed from %(num)d person.",
                "“%(tag)s” removed from %(num)d people.",
                len(people),
                tag=tag,
            )
        else:
            add_tag(people, tag)
            message = ngettext(
                "“%(tag)s” added to %(num)d person.",
                "“%(tag)s” added to %(num)d people.",
                len(people),
                tag=tag,
            )
        db.session.commit()
        flash(message, "success")
        return redirect(self.get_url(".index_view"))  # type: ignore[attr-defined]


def tags_column(_view: Any, _context: Any, person: Person, _name: str) -> str:
    return ", ".join(person.tag_names)


def add_tag(people: list[Person], tag: str) -> None:
    for person in people:
        if tag not in person.tag_names:
            person.tags.append(PersonTag(name=tag))


def remove_tag(people: list[Person], tag: str) -> None:
    db.session.execute(
        delete(PersonTag).where(
            PersonTag.name == tag, PersonTag.person_id.in_([person.id for person in people])
        )
    )
