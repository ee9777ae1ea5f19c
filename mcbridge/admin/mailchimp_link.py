"""Linking a mailing list to a Mailchimp audience, safely.

A leader chooses among the audiences an administrator gave the list's group (through a
Mailchimp connection: see connections.py); no key is typed here and no other audience is
ever named. Saving checks the audience against Mailchimp first: a refused key, a vanished
audience or an unreachable service is a form error and nothing is saved. The leader
consents, once and on record, to the recipients' data leaving the system.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext, lazy_gettext, ngettext
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

from mcbridge.admin.adoption import adoption_state, record_decision
from mcbridge.admin.base import ReachedFromListsMixin, SignedInView, int_or_404
from mcbridge.admin.exports import run_link
from mcbridge.admin.marketing_permissions import choose, read_permissions, section
from mcbridge.admin.subscribers import load_list_in_scope
from mcbridge.auth import current_account_id, current_actor_label
from mcbridge.clock import now
from mcbridge.connections import (
    forget_audience_copy,
    link,
    tag_taken,
    unlink_keeping_contacts,
)
from mcbridge.extensions import db
from mcbridge.jobs import AlreadyRunningError
from mcbridge.jobs.export import enqueue_unlink
from mcbridge.mailchimp import connect
from mcbridge.mailchimp.audience import (
    AudienceInfo,
    MarketingPermission,
    MergeField,
    check_audience,
    merge_fields,
    rename_tag,
    tag_segment_ids,
)
from mcbridge.mailchimp.client import Client
from mcbridge.mailchimp.errors import KeyRefusedError, MailchimpError, NotFoundError
from mcbridge.mailchimp.keys import masked
from mcbridge.models import (
    AudienceMember,
    BringBackRequest,
    ConnectionAudience,
    MailchimpEvent,
    MailingList,
    usable_by,
)
from mcbridge.models.mailing_lists import ADOPT, ADOPTED, LEAVE
from mcbridge.models.sync import UNLINK_ARCHIVE, UNLINK_KEEP
from mcbridge.sync.fields import EMPTIED, SOURCES, TAG_PATTERN, field_map
from mcbridge.sync.mirror import LIST_TAG_PREFIX
from mcbridge.webhooks.register import connect_webhook, forget_webhook
from mcbridge.webhooks.review import apply_change, dismiss_change

COMPATIBLE_TYPES = {
    "text": {"text"},
    "dropdown": {"dropdown", "radio", "text"},
    "birthday": {"birthday", "date", "text"},
}
FIXED_SOURCES = ("first_name", "last_name")
ATTRIBUTES_ID = "attributes"


def extra_source_choices() -> list[SelectChoice]:
    return [
        SelectChoice(name, source.label)
        for name, source in SOURCES.items()
        if name not in FIXED_SOURCES
    ]


class AttributeForm(Form):
    """One "Add attribute" row: a person field into a merge field."""

    source = SelectField(lazy_gettext("Person field"), choices=extra_source_choices)
    tag = StringField(
        lazy_gettext("Merge field tag"),
        validators=[
            Optional(),
            Regexp(
                TAG_PATTERN,
                message=lazy_gettext(
                    "Up to 10 capital letters, digits or _, starting with a letter."
                ),
            ),
        ],
        filters=[lambda value: value.strip().upper() if value else value],
    )
    remove = SubmitField(lazy_gettext("Remove"))


class LinkForm(FlaskForm):
    audience = SelectField(
        lazy_gettext("Mailchimp audience"),
        coerce=int,
        validate_choice=True,
        description=lazy_gettext(
            "The audiences an administrator gave this list's group, through a Mailchimp connection."
        ),
    )
    managed_tag = StringField(
        lazy_gettext("Tag of the contacts this list adds"),
        validators=[Optional(), Length(max=100)],
        filters=[lambda value: value.strip() if value else value],
        description=lazy_gettext(
            "mcbridge tags every contact it adds, and only ever archives contacts with this "
            "tag. It is fixed when the list is first linked; renaming the list keeps it."
        ),
    )
    confirm_retag = BooleanField(
        lazy_gettext(
            "Yes, rename this tag in Mailchimp: every contact this list manages carries the new "
            "tag from now on."
        )
    )
    send_first_name = BooleanField(lazy_gettext("First name → FNAME"), default=True)
    send_last_name = BooleanField(lazy_gettext("Last name → LNAME"), default=True)
    attributes = FieldList(
        FormField(AttributeForm), label=lazy_gettext("Other fields"), min_entries=0
    )
    role_tags = BooleanField(
        lazy_gettext("Send role types as tags"),
        description=lazy_gettext(
            "Each recipient gets a tag per role type they hold in this list's groups or in the "
            "groups its rules name (for example “Coach”), to target them inside Mailchimp. "
            "Tags mcbridge added and that no longer apply are removed; tags added by others are "
            "left alone."
        ),
    )
    consent = BooleanField(
        lazy_gettext(
            "I agree that the names and addresses of this list's recipients will be sent to "
            "Mailchimp, outside this system, and I am entitled to do so."
        )
    )
    add_attribute = SubmitField(lazy_gettext("Add attribute"))
    save = SubmitField(lazy_gettext("Check and save"))

    def validate_managed_tag(self, field: Any) -> None:
        if field.data and not field.data.startswith(LIST_TAG_PREFIX):
            raise ValidationError(
                gettext("The tag must start with “%(prefix)s”.", prefix=LIST_TAG_PREFIX)
            )


def usable_audiences(mailing_list: MailingList) -> list[ConnectionAudience]:
    return list(db.session.scalars(usable_by(mailing_list.group)))


def audience_choices(audiences: list[ConnectionAudience]) -> list[SelectChoice]:
    return [
        SelectChoice(
            audience.id, f"{audience.connection.name} › {audience.name} ({audience.audience_id})"
        )
        for audience in audiences
    ]


def current_audience(mailing_list: MailingList, audiences: list[ConnectionAudience]) -> int | None:
    for audience in audiences:
        if (audience.connection_id, audience.audience_id) == (
            mailing_list.connection_id,
            mailing_list.mailchimp_list_id,
        ):
            return audience.id
    return None


def form_defaults(mailing_list: MailingList, audiences: list[ConnectionAudience]) -> dict[str, Any]:
    chosen = field_map(mailing_list)
    sources = [item["source"] for item in chosen]
    return {
        "audience": current_audience(mailing_list, audiences),
        "managed_tag": mailing_list.mailchimp_tag,
        "send_first_name": "first_name" in sources,
        "send_last_name": "last_name" in sources,
        "attributes": [item for item in chosen if item["source"] not in FIXED_SOURCES],
        "role_tags": mailing_list.role_tags,
    }


def chosen_map(form: LinkForm) -> list[dict[str, str]]:
    """The form's fields as the list stores them; an empty tag takes the source's default."""
    chosen = []
    if form.send_first_name.data:
        chosen.append({"source": "first_name", "tag": "FNAME"})
    if form.send_last_name.data:
        chosen.append({"source": "last_name", "tag": "LNAME"})
    for row in form.attributes.entries:
        source = row.form.source.data
        chosen.append({"source": source, "tag": row.form.tag.data or SOURCES[source].tag})
    return chosen


def edit_rows(form: LinkForm) -> bool:
    """ "Add attribute" and a row's "Remove" change the rows on the page and save nothing;
    everything else typed or chosen comes back as it was sent."""
    if form.add_attribute.data:
        form.attributes.append_entry()
        return True
    kept = [row for row in form.attributes.entries if not row.form.remove.data]
    if len(kept) == len(form.attributes.entries):
        return False
    form.attributes.entries = kept
    return True


def no_longer_sent(before: list[dict[str, str]], after: list[dict[str, str]]) -> list[str]:
    """The merge fields a save stops filling, so the leader is told what happens to them."""
    kept = {item["tag"] for item in after}
    return [item["tag"] for item in before if item["tag"] not in kept]


def error_summary(form: LinkForm) -> list[tuple[str, str, str]]:
    """Every error of the form as (field id, label, message), for the summary at the top
    of the page: a message below the fold is one nobody reads."""
    found = []
    for field in form:
        if isinstance(field, FieldList):
            found += errors_of(field, ATTRIBUTES_ID)
            found += [item for row in field.entries for sub in row.form for item in errors_of(sub)]
        else:
            found += errors_of(field)
    return found


def errors_of(field: Any, anchor: str | None = None) -> list[tuple[str, str, str]]:
    """A field's own messages (a list of rows also holds its rows' errors: not strings)."""
    label = str(field.label.text)
    return [(anchor or field.id, label, error) for error in field.errors if isinstance(error, str)]


def mapping_problems(chosen: list[dict[str, str]], existing: list[MergeField]) -> list[str]:
    """Fields the audience already has with a type the person field cannot fill."""
    types = {field.tag: field.type for field in existing}
    problems = []
    seen: set[str] = set()
    for item in chosen:
        tag = item["tag"]
        if tag in seen:
            problems.append(gettext("%(tag)s is chosen twice.", tag=tag))
        seen.add(tag)
        problem = field_problem(tag, item["source"], types.get(tag))
        if problem:
            problems.append(problem)
    return problems


def field_problem(tag: str, source_name: str, found: str | None) -> str | None:
    """Why one chosen field cannot be filled as asked (`found`: the audience's type of
    the field, None when it has none), or None."""
    source = SOURCES[source_name]
    if source_name == EMPTIED:
        if not tag:
            return gettext("To empty a field, give its merge field tag.")
        return None if found else gettext("The audience has no field %(tag)s to empty.", tag=tag)
    if found is not None and found not in COMPATIBLE_TYPES[source.type]:
        return gettext(
            "The audience's field %(tag)s has the type “%(type)s”, which cannot hold "
            "%(source)s: choose another tag.",
            tag=tag,
            type=found,
            source=source.label,
        )
    return None


class LinkCheck:
    """Checking the chosen audience against Mailchimp with its connection's key, errors
    onto the form. Nothing here names another audience: a leader sees only their own."""

    def __init__(self, form: LinkForm, audience: ConnectionAudience) -> None:
        self.form = form
        self.chosen = audience
        self.client: Client | None = None
        self.audience: AudienceInfo | None = None
        self.fields: list[MergeField] = []
        self.permissions: list[MarketingPermission] | None = None

    def run(self) -> bool:
        self.client = connect(self.chosen.connection.api_key)
        try:
            self.audience = check_audience(self.client, self.chosen.audience_id)
            self.fields = merge_fields(self.client, self.chosen.audience_id)
            self.permissions = read_permissions(self.client, self.audience)
        except KeyRefusedError:
            self.form.audience.errors.append(
                gettext(
                    "Mailchimp refused this connection's API key: an administrator must replace it."
                )
            )
        except NotFoundError:
            self.form.audience.errors.append(
                gettext(
                    "This audience is no longer in Mailchimp: an administrator can read the "
                    "connection's audiences again."
                )
            )
        except MailchimpError as error:
            self.form.audience.errors.append(
                gettext(
                    "Mailchimp could not be reached: %(problem)s",
                    problem=error.user_message().render(),
                )
            )
        return self.audience is not None


class MailchimpLinkView(ReachedFromListsMixin, SignedInView):
    """The "Mailchimp" tab of a mailing list."""

    @expose("/<list_id>/", methods=("GET", "POST"))
    def edit(self, list_id: str) -> Any:
        mailing_list = load_list_in_scope(list_id)
        audiences = usable_audiences(mailing_list)
        defaults = None if request.method == "POST" else form_defaults(mailing_list, audiences)
        form = LinkForm(data=defaults)
        form.audience.choices = audience_choices(audiences)
        saving = not edit_rows(form) and form.validate_on_submit()
        if saving and self.save(form, mailing_list, audiences):
            return redirect(url_for(".edit", list_id=mailing_list.id))
        return self.render(
            "mcbridge/admin/mailchimp_link.html",
            mailing_list=mailing_list,
            form=form,
            errors=error_summary(form),
            masked_key=masked(mailing_list.mailchimp_api_key),
            unlink_form=UnlinkForm(),
            permissions=section(mailing_list),
            adoption=adoption_state(mailing_list),
        )

    def save(
        self, form: LinkForm, mailing_list: MailingList, audiences: list[ConnectionAudience]
    ) -> bool:
        """Only an audience the list's group was given can be chosen (the choices are
        checked on the server), and only a tag no other list of that audience owns."""
        if not mailing_list.has_consent and not form.consent.data:
            form.consent.errors.append(gettext("Exports need this consent."))
            return False
        chosen_audience = next(a for a in audiences if a.id == form.audience.data)
        tag = form.managed_tag.data or mailing_list.managed_tag
        if tag_taken(chosen_audience.audience_id, tag, mailing_list):
            form.managed_tag.errors.append(
                gettext("Another list of this audience already uses this tag: choose another one.")
            )
            return False
        check = LinkCheck(form, chosen_audience)
        if not check.run():
            return False
        chosen = chosen_map(form)
        problems = mapping_problems(chosen, check.fields)
        if problems:
            form.attributes.errors = problems
            return False
        if not self.retag(form, mailing_list, check):
            return False
        self.apply(form, mailing_list, check, chosen)
        return True

    def retag(self, form: LinkForm, mailing_list: MailingList, check: LinkCheck) -> bool:
        """A linked list's tag changes only by an explicit, confirmed rename, done in
        Mailchimp at once (one call renames the tag on every contact that carries it)."""
        wanted = form.managed_tag.data
        current = mailing_list.mailchimp_tag
        moved = mailing_list.mailchimp_list_id != (check.audience.id if check.audience else None)
        if not wanted or current is None or wanted == current or moved:
            return True
        if not form.confirm_retag.data:
            form.managed_tag.errors.append(
                gettext(
                    "Changing the tag renames it on every contact this list manages: tick the "
                    "confirmation below to do so."
                )
            )
            return False
        assert check.client is not None
        try:
            segments = tag_segment_ids(check.client, mailing_list.mailchimp_list_id or "")
            if wanted in segments:
                form.managed_tag.errors.append(
                    gettext("The audience already has a tag named “%(tag)s”.", tag=wanted)
                )
                return False
            if current in segments:
                rename_tag(
                    check.client, mailing_list.mailchimp_list_id or "", segments[current], wanted
                )
        except MailchimpError as error:
            form.managed_tag.errors.append(error.user_message().render())
            return False
        return True

    def apply(
        self,
        form: LinkForm,
        mailing_list: MailingList,
        check: LinkCheck,
        chosen: list[dict[str, str]],
    ) -> None:
        assert check.audience is not None
        assert check.client is not None
        moved = mailing_list.mailchimp_list_id != check.audience.id
        if moved:
            forget_webhook(check.client, mailing_list)
            forget_audience_copy(mailing_list)
            record_decision(mailing_list, None)
        stopped = [] if moved else no_longer_sent(field_map(mailing_list), chosen)
        mailing_list.mailchimp_tag = form.managed_tag.data or mailing_list.managed_tag
        link(mailing_list, check.chosen)
        mailing_list.merge_field_map = chosen
        mailing_list.role_tags = form.role_tags.data
        dropped = choose(mailing_list, check.permissions, moved=moved)
        mailing_list.failure_streak = 0
        if not mailing_list.has_consent:
            mailing_list.consent_by_id, mailing_list.consent_at = current_account_id(), now()
            mailing_list.consent_by_label = current_actor_label()
        if moved or not mailing_list.webhook_id:
            connect_webhook(check.client, mailing_list)
        db.session.commit()
        flash(
            gettext(
                "Linked to the Mailchimp audience “%(name)s” (%(count)d subscribed members).",
                name=check.audience.name,
                count=check.audience.member_count,
            ),
            "success",
        )
        if stopped:
            flash(
                gettext(
                    "No longer sent: %(tags)s. mcbridge stops writing these fields; the values it "
                    "already sent stay in Mailchimp until someone deletes them there.",
                    tags=", ".join(stopped),
                ),
                "info",
            )
        if dropped:
            flash(
                gettext(
                    "No longer in the audience, so no longer turned on for the contacts this "
                    "list adds: %(permissions)s.",
                    permissions=", ".join(dropped),
                ),
                "warning",
            )

    @expose("/<list_id>/address-change/<event_id>/<decision>", methods=("POST",))
    def review_change(self, list_id: str, event_id: str, decision: str) -> Response:
        """Apply a change made in Mailchimp (an address, a profile) to the people, or
        dismiss it; either way exports stop holding the addresses it concerns."""
        mailing_list = load_list_in_scope(list_id)
        event = db.session.scalar(
            MailchimpEvent.open_changes(mailing_list.id).where(
                MailchimpEvent.id == int_or_404(event_id)
            )
        )
        if event is None or decision not in ("apply", "dismiss"):
            abort(404)
        if decision == "apply":
            changed = apply_change(event)
            flash(
                ngettext("%(num)d person updated.", "%(num)d people updated.", changed),
                "success",
            )
        else:
            dismiss_change(event)
        event.review = "applied" if decision == "apply" else "dismissed"
        db.session.commit()
        return redirect(url_for("mcbridge_subscribers.recipients", list_id=mailing_list.id))

    @expose("/<list_id>/adoption/<decision>", methods=("POST",))
    def adoption(self, list_id: str, decision: str) -> Response:
        """A leader decides, on record, what exports do with the contacts the audience
        already held: adopt them at the next export, or leave them. Once they were
        adopted the choice is over (a later sign-up is never adopted)."""
        mailing_list = load_list_in_scope(list_id)
        if decision not in (ADOPT, LEAVE):
            abort(404)
        back = redirect(url_for(".edit", list_id=mailing_list.id))
        if not mailing_list.is_linked or mailing_list.adoption == ADOPTED:
            flash(gettext("This choice is no longer open."), "warning")
            return back
        record_decision(mailing_list, decision)
        db.session.commit()
        if decision == ADOPT:
            done = gettext("The next export adopts the contacts already in the audience.")
        else:
            done = gettext("Exports leave the contacts already in the audience alone.")
        flash(done, "success")
        return back

    @expose("/<list_id>/bring-back", methods=("POST",))
    def bring_back(self, list_id: str) -> Response:
        """A leader asks, on record, that a contact archived by someone else be subscribed
        again by the next export."""
        mailing_list = load_list_in_scope(list_id)
        email = (request.form.get("email") or "").strip().lower()
        archived = db.session.scalar(
            select(AudienceMember.id).where(
                AudienceMember.mailing_list_id == mailing_list.id,
                AudienceMember.email == email,
                AudienceMember.status == "archived",
            )
        )
        if archived is None:
            abort(404)
        db.session.add(
            BringBackRequest(
                mailing_list_id=mailing_list.id,
                email=email,
                requested_by_id=current_account_id(),
                requested_by_label=current_actor_label(),
                requested_at=now(),
            )
        )
        db.session.commit()
        flash(
            gettext("%(email)s will be subscribed again by the next export.", email=email),
            "success",
        )
        return redirect(url_for("mcbridge_subscribers.recipients", list_id=mailing_list.id))

    @expose("/<list_id>/disconnect", methods=("POST",))
    def disconnect(self, list_id: str) -> Response:
        """Unlink, saying what happens to the contacts in Mailchimp: left as they are at
        once, or the ones this list manages archived by an export first (the list stays
        linked until that run has archived them all)."""
        mailing_list = load_list_in_scope(list_id)
        form = UnlinkForm()
        back = redirect(url_for(".edit", list_id=mailing_list.id))
        if not mailing_list.is_linked:
            return back
        if not form.validate_on_submit():
            flash(gettext("Choose what happens to the contacts in Mailchimp."), "error")
            return back
        if form.contacts.data == UNLINK_KEEP:
            unlink_keeping_contacts(mailing_list, current_account_id())
            db.session.commit()
            flash(
                gettext(
                    "The list is no longer linked to Mailchimp. The contacts it exported stay in "
                    "the audience as they are."
                ),
                "success",
            )
            return back
        return archive_then_unlink(mailing_list, back)


class UnlinkForm(FlaskForm):
    contacts = RadioField(
        lazy_gettext("The contacts in Mailchimp"),
        choices=[
            SelectChoice(UNLINK_KEEP, lazy_gettext("Leave them as they are")),
            SelectChoice(
                UNLINK_ARCHIVE,
                lazy_gettext(
                    "Archive the contacts this list manages (those with its tag); contacts "
                    "others added are never touched"
                ),
            ),
        ],
        validators=[InputRequired()],
    )


def archive_then_unlink(mailing_list: MailingList, back: Response) -> Response:
    """Queue the run that archives the list's contacts and then unlinks it."""
    try:
        run = enqueue_unlink(mailing_list, user_id=current_account_id())
    except AlreadyRunningError as running:
        message = gettext("An export of this list is already running: unlink it once it ends.")
        link_to_run = run_link(running.run) if running.run else ""
        flash(Markup("%s %s") % (message, link_to_run), "warning")
        return back
    flash(
        Markup("%s %s")
        % (
            gettext(
                "Archiving the contacts this list manages; the list is unlinked once they are "
                "all archived."
            ),
            run_link(run),
        ),
        "success",
    )
    return back
