"""The dashboard: what the user manages, bounded however many lists they see."""

from __future__ import annotations

import re

from mcbridge.admin.dashboard import LISTS_SHOWN
from mcbridge.extensions import db
from tests import factories as make


def test_the_dashboard_shows_failures_first_then_the_newest_lists_and_links_to_all(as_admin, org):
    failed = make.mailing_list(org.north, "Aaa failed long ago")
    failed.last_sync_state = "failed"
    for number in range(LISTS_SHOWN + 5):
        make.mailing_list(org.north, f"Team news {number:02d}")
    db.session.commit()

    page = as_admin.get("/admin/").get_data(as_text=True)

    shown = re.findall(r'href="/admin/subscribers/\d+/">([^<]+)</a>', page)
    assert len(shown) == LISTS_SHOWN
    assert "Aaa failed long ago" in shown
    assert "Team news 24" in shown
    assert "North news" not in shown
    assert re.search(r'href="/admin/mailing-lists/">All 28 mailing lists</a>', page)
