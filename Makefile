# biodl: every target installs what it needs first, so any one works on a fresh clone.
#   make run                      train the E. coli promoter pipeline (shipped data)
#   make test                     the fast test suite
#   make fit PIPELINE=... SET="trainer.max_epochs=5 task.optimizer.lr=3e-4"
#   make ui                       MLflow UI on ./mlruns.db
# On a GPU cluster, pick the torch build with TORCH / TORCH_INDEX, e.g.
#   make install TORCH_INDEX=https://download.pytorch.org/whl/cu126
PYTHON      ?= python3
VENV        ?= .venv
TORCH       ?= torch==2.13.0
TORCH_INDEX ?=
PIPELINE    ?= pipelines/ecoli_promoters
SET         ?=
PORT        ?= 5000
BIN         := $(VENV)/bin
STAMP       := $(VENV)/.installed

.PHONY: install run fit test test-slow ui bench clean
.DEFAULT_GOAL := run

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet "$(TORCH)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

run: install
	$(BIN)/biodl fit $(PIPELINE) $(foreach s,$(SET),--set $(s))

fit: run

test: install
	$(BIN)/pytest -q

test-slow: install
	$(BIN)/pytest -q -m slow

ui: install
	$(BIN)/biodl ui --port $(PORT)

bench: install
	$(BIN)/python benchmarks/train_throughput.py

clean:
	rm -rf $(VENV) biodl.egg-info
