"""The domain: groups and roles, people and emails, mailing lists and rules, users."""

from mcbridge.models.connections import ConnectionAudience, MailchimpConnection, usable_by
from mcbridge.models.groups import Group, Role, RoleType, role_is_active, subtree_ids
from mcbridge.models.mailing_lists import MailingList, Subscription, subscription_role_types
from mcbridge.models.people import GENDERS, LANGUAGES, AdditionalEmail, Person
from mcbridge.models.resolution import StoredAddress, StoredPerson, StoredResolution
from mcbridge.models.sync import (
    COUNTERS,
    FINISHED_STATES,
    UNFINISHED_STATES,
    AudienceMember,
    BringBackRequest,
    MailchimpEvent,
    PendingBatch,
    RefusedAddress,
    SyncIssue,
    SyncRun,
)
from mcbridge.models.users import User

__all__ = [
    "COUNTERS",
    "FINISHED_STATES",
    "GENDERS",
    "LANGUAGES",
    "UNFINISHED_STATES",
    "AdditionalEmail",
    "AudienceMember",
    "BringBackRequest",
    "ConnectionAudience",
    "Group",
    "MailchimpConnection",
    "MailchimpEvent",
    "MailingList",
    "PendingBatch",
    "Person",
    "RefusedAddress",
    "Role",
    "RoleType",
    "StoredAddress",
    "StoredPerson",
    "StoredResolution",
    "Subscription",
    "SyncIssue",
    "SyncRun",
    "User",
    "role_is_active",
    "subscription_role_types",
    "subtree_ids",
    "usable_by",
]
