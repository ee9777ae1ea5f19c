# mcbridge: `make run` starts the application, `make test` runs the tests.
# Both set up what they need first (virtualenv, compiled translations, services; for the
# tests, Debian's Chromium).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
CATALOGS := $(wildcard mcbridge/translations/*/LC_MESSAGES/messages.po)
# The Mailchimp sandbox is a distribution of its own, with its own catalogs (its build
# compiles them too; here they follow an edit of its .po files without a reinstall).
SANDBOX_CATALOGS := $(wildcard sandbox/mcbridge_sandbox/translations/*/LC_MESSAGES/messages.po)
# Flask-Admin's own catalogs for the same languages, compiled from the .po files it ships:
# the .mo files in its wheel are older than them and lack messages it shows ("Failed to
# create record.", "Export"). mcbridge's admin reads them before Flask-Admin's.
ADMIN_CATALOGS := $(CATALOGS:messages.po=admin.mo)
COMPILED := $(CATALOGS:.po=.mo) $(ADMIN_CATALOGS) $(SANDBOX_CATALOGS:.po=.mo)

.PHONY: run test lint translations extract-messages services chromium check-live

run: $(INSTALLED) $(COMPILED)
	scripts/run

test: $(INSTALLED) $(COMPILED) services chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

translations: $(COMPILED)

# Never run by CI: probes the real Mailchimp, see README "Live conformance check".
check-live: $(INSTALLED)
	$(BIN)/python -m conformance

services:
	scripts/ensure-services

# The browser tests' Chromium: Debian's package, installed when missing.
chromium:
	scripts/ensure-chromium

$(INSTALLED): requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

%/admin.mo: $(INSTALLED)
	$(BIN)/pybabel compile -D admin -o $@ -i "$$($(BIN)/python -c 'import flask_admin, pathlib; print(pathlib.Path(flask_admin.__file__).parent)')/translations/$(word 3,$(subst /, ,$@))/LC_MESSAGES/admin.po"

%.mo: %.po $(INSTALLED)
	$(BIN)/pybabel compile -i $< -o $@

# For developers: refresh the catalogs after changing user-facing strings.
extract-messages: $(INSTALLED)
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -o mcbridge/translations/messages.pot .
	$(BIN)/pybabel update -i mcbridge/translations/messages.pot -d mcbridge/translations
	cd sandbox && ../$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -o mcbridge_sandbox/translations/messages.pot .
	cd sandbox && ../$(BIN)/pybabel update -i mcbridge_sandbox/translations/messages.pot -d mcbridge_sandbox/translations
