# biodl: every target installs what it needs first, so any one works on a fresh clone.
#   make run                      train the E. coli promoter pipeline (shipped data)
#   make test                     the fast test suite
#   make fit PIPELINE=... SET="trainer.max_epochs=5 task.optimizer.lr=3e-4"
#   make ui                       MLflow UI on ./mlruns.db
#   make -j4 sweep PIPELINE=... GRID="task.optimizer.lr=1e-3,3e-4 model.dropout=0.1,0.3"
#   make report PIPELINE=...      the comparison table of the pipeline's runs
#   make slurm PIPELINE=... NODES=2 GPUS=4 [SET=...]   render and submit an sbatch job
#   make -j4 tune PIPELINE=... TRIALS=20 WORKERS=4   one Optuna study, 4 worker processes
#   make slurm-tune PIPELINE=... TRIALS=40 WORKERS=8 STORAGE=sqlite:////shared/optuna.db
# On a GPU cluster, pick the torch build with TORCH / TORCH_INDEX, e.g.
#   make install TORCH_INDEX=https://download.pytorch.org/whl/cu126
PYTHON      ?= python3
VENV        ?= .venv
TORCH       ?= torch==2.13.0
TORCH_INDEX ?=
PIPELINE    ?= pipelines/ecoli_promoters
SET         ?=
PORT        ?= 5000
GRID        ?=
SORT        ?=
NODES       ?= 1
GPUS        ?= 1
TASKS       ?= 1
CPUS        ?= 8
TIME        ?= 24:00:00
SWEEP_DIR   ?= .sweep
TRIALS      ?= 20
WORKERS     ?= 2
PRUNER      ?= median
STORAGE     ?=
SPACE       ?=
TUNE_DIR    ?= .tune
BIN         := $(VENV)/bin
STAMP       := $(VENV)/.installed

.PHONY: install run fit test test-system test-slow ui bench sweep sweep-runs report slurm \
	tune tune-workers slurm-tune clean
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

# unit and fast integration tests (under 5 minutes here); with CI=true (CI sets it) also the
# multi-process system tests and the slow real-data checks
test: install
	$(BIN)/pytest -q $(if $(CI),-m "not cluster")

# the multi-process system tests alone
test-system: install
	$(BIN)/pytest -q -m system

# the slow real-data checks and the real Slurm cluster (root, apt-get)
test-slow: install
	$(BIN)/pytest -q -m slow

ui: install
	$(BIN)/biodl ui --port $(PORT)

# each combination of GRID is one run (one MLflow run, same experiment); `make -j N` runs
# N at once (the sub-make shares the job slots)
sweep: install
	@mkdir -p $(SWEEP_DIR)
	$(BIN)/python -m biodl.sweep "$(GRID)" > $(SWEEP_DIR)/plan
	@echo "sweep: $$(wc -l < $(SWEEP_DIR)/plan) runs of $(PIPELINE)"
	@$(MAKE) --no-print-directory sweep-runs RUNS="$$(seq -s ' ' 1 $$(wc -l < $(SWEEP_DIR)/plan))"

sweep-runs: $(addprefix $(SWEEP_DIR)/run-,$(RUNS))

$(SWEEP_DIR)/run-%: $(SWEEP_DIR)/plan
	@eval $(BIN)/biodl fit $(PIPELINE) $$(sed -n '$*p' $(SWEEP_DIR)/plan) $(foreach s,$(SET),--set $(s)) \
		> $(SWEEP_DIR)/run-$*.log 2>&1 && echo "run $*: $$(tail -1 $(SWEEP_DIR)/run-$*.log)" \
		|| (echo "run $* failed:"; tail -3 $(SWEEP_DIR)/run-$*.log; exit 1)

# WORKERS processes of one study (`biodl tune`) sharing its storage (default: optuna.db beside
# the MLflow store); `make -j N tune` runs N at once; the study stops at TRIALS finished trials
tune: install
	@mkdir -p $(TUNE_DIR)
	@$(MAKE) --no-print-directory tune-workers WORKER_IDS="$$(seq -s ' ' 1 $(WORKERS))"

tune-workers: $(addprefix tune-worker-,$(WORKER_IDS))

tune-worker-%:
	@$(BIN)/biodl tune $(PIPELINE) --trials $(TRIALS) --pruner $(PRUNER) \
		$(if $(STORAGE),--storage $(STORAGE)) $(if $(SPACE),--space $(SPACE)) \
		$(foreach s,$(SET),--set $(s)) > $(TUNE_DIR)/worker-$*.log 2>&1 && echo "worker $*: $$(tail -1 $(TUNE_DIR)/worker-$*.log)" \
		|| (echo "worker $* failed:"; tail -3 $(TUNE_DIR)/worker-$*.log; exit 1)

# a Slurm array of WORKERS tune workers on one STORAGE every node reaches
slurm-tune: install
	$(BIN)/python -m biodl.slurm $(PIPELINE) --tune $(TRIALS) --workers $(WORKERS) \
		--storage "$(STORAGE)" $(if $(SPACE),--space $(SPACE)) --gpus $(GPUS) --cpus $(CPUS) --time $(TIME) \
		$(foreach s,$(SET),--set $(s)) --submit

report: install
	$(BIN)/biodl runs $(PIPELINE) $(if $(SORT),--sort $(SORT))

slurm: install
	$(BIN)/python -m biodl.slurm $(PIPELINE) --nodes $(NODES) --gpus $(GPUS) --tasks $(TASKS) --cpus $(CPUS) \
		--time $(TIME) $(foreach s,$(SET),--set $(s)) --submit

bench: install
	$(BIN)/python benchmarks/train_throughput.py

clean:
	rm -rf $(VENV) biodl.egg-info
