"""An organisation with two regions and a leader for one of them."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from mcbridge.extensions import db
from mcbridge.models import Group, MailingList, Person, Role, RoleType, User
from tests import factories as make
from tests.helpers import sign_in


@dataclass
class Organisation:
    federation: Group
    north: Group
    club_a: Group
    south: Group
    club_b: Group
    leader_type: RoleType
    member_type: RoleType
    north_leader: Person
    alice: Person
    bob: Person
    alice_role: Role
    bob_role: Role
    north_list: MailingList
    south_list: MailingList
    admin: User
    leader: User


@pytest.fixture
def org(app) -> Organisation:
    federation = make.group("Federation")
    north = make.group("North", federation)
    club_a = make.group("Club A", north)
    south = make.group("South", federation)
    club_b = make.group("Club B", south)
    leader_type = make.role_type("Leader", manages=True)
    member_type = make.role_type("Member")
    north_leader = make.person("Nora", "Leader", email="nora.leader@club-mail.ch")
    make.role(north_leader, north, leader_type)
    alice = make.person("Alice", "North")
    alice_role = make.role(alice, club_a, member_type)
    bob = make.person("Bob", "South")
    bob_role = make.role(bob, club_b, member_type)
    north_list = make.mailing_list(north, "North news")
    make.role_rule(north_list, north, member_type)
    south_list = make.mailing_list(south, "South news")
    make.role_rule(south_list, south, member_type)
    admin = make.user("admin@club-mail.ch", admin=True)
    leader = make.user("nora.leader@club-mail.ch", holder=north_leader)
    db.session.commit()
    return Organisation(
        federation, north, club_a, south, club_b, leader_type, member_type, north_leader,
        alice, bob, alice_role, bob_role, north_list, south_list, admin, leader,
    )  # fmt: skip


@pytest.fixture
def as_leader(client, org):
    sign_in(client, org.leader.email)
    return client


@pytest.fixture
def as_admin(client, org):
    sign_in(client, org.admin.email)
    return client
