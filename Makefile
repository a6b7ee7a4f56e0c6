# kgrec: two commands do all the set-up on a fresh machine.
#   make demo   venv + install, local Neo4j (or $NEO4J_URI), ingest the MovieLens-100k KG,
#               item features, train the GNN, print test metrics and explained recommendations
#   make demo DATASET=lastfm  (or make demo-music) the same story on the Last.fm music catalogue
#   make test   venv + install, the whole test suite against a real Neo4j it starts and stops
# Needs Python >= 3.10; the local Neo4j needs Java 17 (or 21) and Maven (first start downloads it).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# The dataset mirror beside the checkout when there is one; else kgrec's own data folder.
SHARED_DATA := $(abspath $(CURDIR)/../shared/recsys-data)
ifeq ($(KGREC_DATA_DIR),)
ifneq ($(wildcard $(SHARED_DATA)/movielens-100k/u.data),)
export KGREC_DATA_DIR := $(SHARED_DATA)
endif
endif

# The catalogue of `make demo`: DATASET=movielens (default) or DATASET=lastfm (music; `make demo-music`).
# Each catalogue has its own local Neo4j instance and model folder, so both can live side by side.
DATASET ?= movielens
ifeq ($(DATASET),lastfm)
SPECS       := ingest/lastfm.toml ingest/lastfm-dbpedia.toml ingest/lastfm-satori.toml
DEMO_CONFIG := configs/lastfm.toml
DEMO_OUT    := runs/lastfm
DEMO_USER   := 2
FEATURES    :=
FETCH       := $(BIN)/kgrec data status $(SPECS)
export KGREC_INSTANCE ?= lastfm
export KGREC_BOLT_PORT ?= 7697
export KGREC_HTTP_PORT ?= 7484
else ifeq ($(DATASET),movielens)
SPECS       := ingest/movielens-100k.toml ingest/dbpedia-films.toml ingest/freebase.toml ingest/imdb-details.toml
DEMO_CONFIG := configs/demo.toml
DEMO_OUT    := runs/kgrec
DEMO_USER   := 1
FEATURES    := $(BIN)/kgrec features --modality text   # what the demo model uses (posters: kgrec features)
FETCH       := $(BIN)/kgrec data fetch
else
$(error DATASET must be movielens or lastfm, not '$(DATASET)')
endif

.PHONY: demo demo-music test test-deps bench bench-learn bench-learn-quick bench-learn-cases recbole lint neo4j-stop clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,bench,encoders,scale]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/kgrec neo4j start
	$(FETCH)
	$(BIN)/kgrec ingest $(SPECS)
	$(FEATURES)
	$(BIN)/kgrec train --config $(DEMO_CONFIG) --out $(DEMO_OUT) --write
	$(BIN)/kgrec recommend $(DEMO_USER) -k 10 --write --model $(DEMO_OUT)
	$(BIN)/kgrec summary
	$(BIN)/kgrec neo4j status

demo-music:
	$(MAKE) demo DATASET=lastfm

# System packages some tests use: real music files for the audio encoder (singularity-music,
# CC BY-SA OGG tracks) and Chromium for the Neo4j Browser test. Installed when missing and
# apt-get is usable as root; otherwise those tests skip and say why.
SYSTEM_TEST_PACKAGES := singularity-music chromium

test-deps:
	@missing=""; for p in $(SYSTEM_TEST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing$$missing (apt-get)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	      || echo "could not install$$missing: the tests that need them will skip"; \
	  else echo "not root: the tests that need$$missing will skip"; fi; \
	fi

test: $(STAMP) test-deps
	$(BIN)/python -m pytest -ra

bench: $(STAMP)
	$(BIN)/python -m bench.ingest

# The learning leaderboard (protocol: docs/benchmark-protocol.md): every harness model tuned with the
# same budget on validation (bench/spaces.toml), rerun with 5 seeds, test read once per seed, on both
# catalogues; then bench/results/leaderboard.json and README's tables. Needs both snapshots:
# runs/snapshot.npz (kgrec export after make demo) and runs/lastfm/snapshot.npz (make demo-music).
LEARN_RESULTS := bench/results/learn/movielens/result.json bench/results/learn/lastfm/result.json
bench-learn: $(STAMP)
	test -f runs/snapshot.npz || $(BIN)/kgrec export --out runs/snapshot.npz
	test -f runs/lastfm/snapshot.npz || { echo "runs/lastfm/snapshot.npz missing: make demo-music"; exit 1; }
	$(BIN)/python -m bench.tune --dataset movielens
	$(BIN)/python -m bench.tune --dataset lastfm
	$(BIN)/python -m bench.leaderboard $(LEARN_RESULTS)
	$(BIN)/python -m bench.report_leaderboard

# Smoke run of the same pipeline (2 trials, 2 seeds, 3 epochs) on the catalogues whose snapshot exists;
# writes bench/results/learn-quick/ and bench/results/leaderboard-quick.json, never README.
bench-learn-quick: $(STAMP)
	for d in movielens lastfm; do $(BIN)/python -m bench.tune --dataset $$d --quick --skip-missing || exit 1; done
	$(BIN)/python -m bench.leaderboard bench/results/learn-quick/*/result.json --out bench/results/leaderboard-quick.json
	$(BIN)/python -m bench.report_leaderboard --leaderboard bench/results/leaderboard-quick.json --no-readme

# The previous benchmark's ablation, cold-start and seed-spread tables (bench/results/learn/tables.md).
bench-learn-cases: $(STAMP)
	$(BIN)/kgrec export --out runs/snapshot.npz
	$(BIN)/python -m bench.learn --snapshot runs/snapshot.npz --seeds 2021,2022

# RecBole 1.2.1 peers (its own virtualenv under ~/.cache/kgrec) under the same protocol (8 trials, 5 seeds,
# [common] stopping) on kgrec's exact split and KG of each catalogue; then one leaderboard with the harness
# results, which bench.leaderboard accepts only from the same commit and split (run both from one commit).
RECBOLE_RESULTS := bench/results/recbole/movielens/result.json bench/results/recbole/lastfm/result.json
recbole: $(STAMP)
	$(BIN)/python -m bench.recbole --dataset movielens
	$(BIN)/python -m bench.recbole --dataset lastfm
	$(BIN)/python -m bench.leaderboard $(LEARN_RESULTS) $(RECBOLE_RESULTS)
	$(BIN)/python -m bench.report_leaderboard

lint: $(STAMP)
	$(BIN)/ruff check kgrec tests bench

neo4j-stop: $(STAMP)
	$(BIN)/kgrec neo4j stop

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
