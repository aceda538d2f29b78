# Two commands do everything on a fresh machine:  make run  /  make test
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.10 || echo /root/.pyenv/versions/3.10.13/bin/python)
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
INSTALLED := $(VENV)/.installed
MODEL := models/assistente.tar.gz
TRAINING_INPUTS := config.yml domain.yml $(shell find bot/data -name '*.yml' 2>/dev/null)
RASA_TEST_OUT := var/rasa-test

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

CHROMIUM := /usr/bin/chromium

.PHONY: install model db run test test-py validate test-stories bench clean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip<24.1"
	$(PY) -m pip install -q -c constraints.txt -e ".[dev]"
	@touch $@

# Trains only when the training data, the domain or the config changed.
model: $(MODEL)

$(MODEL): $(INSTALLED) $(TRAINING_INPUTS)
	$(RASA) train --data bot/data --config config.yml --domain domain.yml \
		--out models --fixed-model-name assistente

db: $(INSTALLED)
	$(PY) -m backend.migrate
	$(PY) -m backend.seed

run: $(INSTALLED) $(MODEL)
	$(PY) -m scripts.run

validate: $(INSTALLED)
	$(RASA) data validate --data bot/data --domain domain.yml --config config.yml

# The browser tests use Debian's Chromium (Playwright never downloads a browser here).
$(CHROMIUM):
	$$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -q chromium || \
	  ( $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -q && \
	    $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -q chromium )

test-py: $(INSTALLED) $(MODEL) $(CHROMIUM)
	$(PY) -m pytest -q

test-stories: $(INSTALLED) $(MODEL)
	$(RASA) test core --stories tests/stories --model $(MODEL) \
		--out $(RASA_TEST_OUT) --fail-on-prediction-errors

test: validate test-py test-stories

bench: $(INSTALLED) $(MODEL)
	$(PY) -m bench.run
	$(PY) -m bench.nlu

clean:
	rm -rf var models .pytest_cache
