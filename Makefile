# mcbridge: `make run` starts the application, `make test` runs the tests.
# Both set up what they need first (virtualenv, compiled translations, services; for the
# tests, Debian's Chromium).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
CATALOGS := $(wildcard mcbridge/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)

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

%.mo: %.po $(INSTALLED)
	$(BIN)/pybabel compile -i $< -o $@

# For developers: refresh the catalogs after changing user-facing strings.
extract-messages: $(INSTALLED)
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -o mcbridge/translations/messages.pot .
	$(BIN)/pybabel update -i mcbridge/translations/messages.pot -d mcbridge/translations
