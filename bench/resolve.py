"""The export's resolution alone: every recipient of a list streamed out of the database as
an export reads them (`Recipients.stream`), and counted. `bench.run` times it in a process
of its own as its `resolve` scenario; `flask mcbridge recipients --count` reads the stored
resolution instead (the subscriber view's), which is not what an export costs.

    .venv/bin/python -m bench.resolve LIST_ID     # settings from the environment, as wsgi.py
"""

from __future__ import annotations

import sys

from mcbridge import create_app
from mcbridge.extensions import db
from mcbridge.models import MailingList
from mcbridge.recipients import recipients_of


def main() -> None:
    app = create_app()
    with app.app_context():
        mailing_list = db.session.get(MailingList, int(sys.argv[1]))
        assert mailing_list is not None, f"no mailing list {sys.argv[1]}"
        addresses = sum(1 for _ in recipients_of(mailing_list).stream(db.session))
        print(f"{addresses} addresses")


if __name__ == "__main__":
    main()
