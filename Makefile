# Two commands do everything on a fresh machine:  make run  /  make test
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.10 || echo /root/.pyenv/versions/3.10.13/bin/python)
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
INSTALLED := $(VENV)/.installed
MODEL := models/assistente.tar.gz
TRAINING_INPUTS := config.yml domain.yml bot/blended_intent_classifier.py $(shell find bot/data -name '*.yml' 2>/dev/null)
RASA_TEST_OUT := var/rasa-test

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

CHROMIUM := /usr/bin/chromium

.PHONY: install model model-full db run test lint validate test-nlu test-stories bench bench-cluster bench-train clean catalogue

install: $(INSTALLED)

$(INSTALLED): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip<24.1"
	$(PY) -m pip install -q -c constraints.txt -e ".[dev]"
	@touch $@

# Trains only when the training data, the domain or the config changed; when only NLU examples
# changed it fine-tunes the previous model (scripts/train_model.py says how it decides).
model: $(MODEL)

$(MODEL): $(INSTALLED) $(TRAINING_INPUTS)
	$(PY) -m scripts.train_model

model-full: $(INSTALLED)
	$(PY) -m scripts.train_model --full

db: $(INSTALLED)
	$(PY) -m backend.migrate
	$(PY) -m backend.seed

run: $(INSTALLED) $(MODEL)
	$(PY) -m scripts.run

# The production topology on this machine (docs/deploy.md): HAProxy on 127.0.0.1:8000 in front of
# 2 Rasa, 2 action servers and 2 backends, on the machine's PostgreSQL, Redis and RabbitMQ
# (CLUSTER_DATABASE_URL, CLUSTER_REDIS_URL, CLUSTER_AMQP_URL; the machine's defaults otherwise).
HAPROXY := /usr/sbin/haproxy

$(HAPROXY):
	$$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -q haproxy || \
	  ( $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -q && \
	    $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -q haproxy )

.PHONY: cluster
cluster: $(INSTALLED) $(MODEL) $(HAPROXY)
	$(PY) -m scripts.cluster

validate: $(INSTALLED)
	$(RASA) data validate --data bot/data --domain domain.yml --config config.yml

# Phone-noise variants of the written NLU examples (accents, abbreviations, typos), at most 20 % per
# intent, into bot/data/nlu/generated/ruido.yml (committed): run it after editing bot/data/nlu/*.yml.
.PHONY: augment
augment: $(INSTALLED)
	$(PY) -m scripts.augment_nlu

# The rules that name every request (bot/data/rules_digressoes.yml, rules_catalogo.yml), written from
# bot/catalogue.yml; also checks that domain.yml declares what the catalogue names.
catalogue: $(INSTALLED)
	$(PY) -m scripts.gen_catalogue

# The browser tests use Debian's Chromium (Playwright never downloads a browser here).
$(CHROMIUM):
	$$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -q chromium || \
	  ( $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -q && \
	    $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -q chromium )

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test-nlu: $(INSTALLED) $(MODEL)
	$(PY) -m scripts.nlu_gate

test-stories: $(INSTALLED) $(MODEL)
	$(RASA) test core --stories tests/stories --model $(MODEL) \
		--out $(RASA_TEST_OUT) --fail-on-prediction-errors

# Everything, fastest first; trains the model (make model) meanwhile; one summary of all failures.
test: $(INSTALLED) $(CHROMIUM) $(HAPROXY)
	$(PY) -m scripts.check

bench: $(INSTALLED) $(MODEL)
	$(PY) -m bench.run
	$(PY) -m bench.nlu

# The cluster of make cluster (own ports, database and prefix) under 200 conversations on REST,
# socket.io and WhatsApp, with kill -9 faults, and 1 vs 2 Rasa instances (bench/cluster.py).
bench-cluster: $(INSTALLED) $(MODEL) $(HAPROXY)
	$(PY) -m bench.cluster

# Training time against NLU quality for the candidate configurations of bench/train.py.
bench-train: $(INSTALLED)
	$(PY) -m bench.train $(if $(CV),--cv $(CV))

clean:
	rm -rf var models .pytest_cache
