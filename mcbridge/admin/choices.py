"""Choice lists that may be left empty, and what their empty choice says.

Flask-Admin leaves the empty choice's text blank and WTForms (3.3) then writes its value
instead: pages showed "__None" as the first choice of a group or a role type.
"""

from __future__ import annotations

from typing import Any

from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_babel import lazy_gettext

BLANK_CHOICE = lazy_gettext("(none)")


class BlankChoiceConverter(AdminModelConverter):
    """Flask-Admin's form builder, whose optional choice lists name their empty choice."""

    def _model_select_field(
        self, prop: Any, multiple: bool, remote_model: Any, **kwargs: Any
    ) -> Any:
        searched = prop.key in getattr(self.view, "_form_ajax_refs", {})  # no empty choice
        if not multiple and not searched:
            kwargs.setdefault("blank_text", BLANK_CHOICE)
        return super()._model_select_field(prop, multiple, remote_model, **kwargs)
