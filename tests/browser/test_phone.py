"""A leader on a phone (375 CSS pixels wide): wide tables scroll inside their own box, the
page itself never scrolls sideways, and every page still passes axe (visit checks it)."""

from __future__ import annotations

from playwright.sync_api import Page

from mcbridge.extensions import db
from tests import factories as make
from tests.browser.helpers import sign_in, visit

# The page scrolling sideways, or a table reaching past the screen's edge with no box of
# its own to scroll it in (a clipping parent cuts it off: its end cannot be reached).
SIDEWAYS = """() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (element) => {
    for (let box = element.parentElement; box; box = box.parentElement) {
      const overflow = getComputedStyle(box).overflowX;
      if (overflow === "auto" || overflow === "scroll") {
        return box.getBoundingClientRect().right <= width + 1;
      }
    }
    return false;
  };
  const cut = [...document.querySelectorAll("table")]
    .filter((table) => table.getBoundingClientRect().right > width + 1 && !scrolls(table))
    .map((table) => table.id || table.className);
  const page = Math.max(document.body.scrollWidth, document.documentElement.scrollWidth);
  return page > width ? ["the page itself", ...cut] : cut;
}"""


def cut_off(page: Page) -> list[str]:
    """What does not fit the screen's width and cannot be scrolled into view."""
    return page.evaluate(SIDEWAYS)


def test_the_subscriber_view_people_list_and_person_page_fit_a_phone(phone, club, language):
    long_address = "anna.meiervondermuehlenstrasse.vorstand@rowingclubbaselmembers.ch"
    club.people[0].email = long_address
    coach = make.role_type("Head coach of the juniors")
    make.role(club.people[0], make.group("Juniors and their coaches", club.club), coach)
    db.session.commit()
    sign_in(phone, language, club.leader.email)

    anna = club.people[0].id
    for url in (
        f"/admin/subscribers/{club.newsletter.id}/",
        "/admin/people/",
        f"/admin/people/details/?id={anna}",
    ):
        visit(phone, url)
        assert phone.get_by_text(long_address).count() >= 1
        assert cut_off(phone) == [], url
