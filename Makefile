# make run   — create .venv, install, build the demo data if absent, serve on $(PORT)
# make test  — create .venv, install, run the whole suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum < requirements.txt | cut -d' ' -f1)
PORT   ?= 8501
ADDRESS ?= 127.0.0.1

.PHONY: run test venv demo sync bench clean

venv: $(STAMP)

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

demo: venv
	$(PY) -m data_access seed --if-absent

sync: venv
	$(PY) -m data_access sync

run: demo sync
	$(PY) -m streamlit run serve.py --server.port $(PORT) --server.address $(ADDRESS)

test: venv
	$(PY) -m pytest

bench: venv
	$(PY) bench/run.py --scale city

clean:
	rm -rf $(VENV) .pytest_cache tests/artifacts
