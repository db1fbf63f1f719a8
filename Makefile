# glasskernel: every target does its own set-up on a fresh Debian 12 machine.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
DEBS := g++ cmake ninja-build libboost-context-dev libboost-dev pybind11-dev python3-pybind11 python3-venv \
        python3-dev python3-pip python3-setuptools python3-pytest python3-hypothesis python3-nbclient python3-nbformat \
        python3-ipykernel jupyter-notebook python3-matplotlib libgtest-dev libbenchmark-dev python3-scapy tshark
JOBS ?= $(shell nproc)

.PHONY: deps venv install demo test test-cpp test-python stub bench asan fuzz notebook clean

deps:
	@missing=$$(for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  $$( [ $$(id -u) -eq 0 ] || echo sudo ) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$( [ $$(id -u) -eq 0 ] || echo sudo ) apt-get install -y -qq $$missing; \
	fi

$(VENV)/bin/python: | deps
	/usr/bin/python3 -m venv --system-site-packages $(VENV)

venv: deps $(VENV)/bin/python

install: venv
	GK_JOBS=$(JOBS) $(VENV)/bin/pip install --no-build-isolation -q .

demo: install
	$(PY) examples/demo.py

build/cpp/build.ninja: | deps
	cmake -S . -B build/cpp -G Ninja -DGK_PYTHON=OFF -DGK_TESTS=ON

test-cpp: deps build/cpp/build.ninja
	cmake --build build/cpp -j $(JOBS)
	cd build/cpp && ctest --output-on-failure -j $(JOBS)

test-python: install
	$(PY) -m pytest -q -p no:cacheprovider

test: test-cpp test-python

# The typed stub of the compiled core, python/glasskernel/_core.pyi, rewritten from the built module: run it after
# changing cpp/bindings (tests/python/bindings/test_core_stub.py fails while the committed stub is stale).
stub: install
	$(PY) tools/gen_core_stub.py

bench: install build/cpp/build.ninja
	cmake --build build/cpp -j $(JOBS) --target gk_bench
	$(PY) benchmarks/run.py --cpp build/cpp/gk_bench

# The stateful fuzzer for long: batches in subprocesses; crashes, hangs and failed checks are
# counted and their seeds saved in build/fuzz/ (FUZZ_ARGS="--batches 200" for longer).
fuzz: install
	$(PY) tests/fuzz/run.py $(FUZZ_ARGS)

# The C++ tests, the Python tests and the fuzzer's batches (40 unless FUZZ_ARGS says) under
# AddressSanitizer + UndefinedBehaviorSanitizer.
asan: deps
	cmake -S . -B build/asan -G Ninja -DGK_SANITIZE=ON -DGK_PYTHON=ON -DGK_TESTS=ON \
	      -DPython3_EXECUTABLE=/usr/bin/python3 -DCMAKE_LIBRARY_OUTPUT_DIRECTORY=$(CURDIR)/build/asan/pkg/glasskernel
	cmake --build build/asan -j $(JOBS)
	cd build/asan && ASAN_OPTIONS=detect_leaks=0 ctest --output-on-failure -j $(JOBS)
	cp -r python/glasskernel/. build/asan/pkg/glasskernel/
	cd tests && ASAN_OPTIONS=detect_leaks=0:detect_stack_use_after_return=0 \
	  LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)" \
	  PYTHONPATH=$(CURDIR)/build/asan/pkg /usr/bin/python3 -m pytest -q -p no:cacheprovider --capture=sys -x ../tests/python
	ASAN_OPTIONS=detect_leaks=0:detect_stack_use_after_return=0 \
	  LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)" \
	  PYTHONPATH=$(CURDIR)/build/asan/pkg /usr/bin/python3 tests/fuzz/run.py --out build/asan/fuzz $(FUZZ_ARGS)

notebook: install
	$(VENV)/bin/jupyter notebook --notebook-dir=notebooks --ip=127.0.0.1 --no-browser

clean:
	rm -rf build $(VENV) *.egg-info
