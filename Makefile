# ocirun: make demo (set up and run a container), make test (everything), make help.
# Debian's python3 (built with PGO and LTO, libpython linked in) starts about 1 ms sooner than a
# default source build such as pyenv's, and runs ocirun's own code faster: the venv is made from it.
PYTHON  ?= $(firstword $(wildcard /usr/bin/python3) python3)
VENV    ?= .venv
OCIRUN  := $(VENV)/bin/ocirun
VPY     := $(VENV)/bin/python
DEMO    ?= demo-bundle
# Debian packages: build tools, Python's venv and headers, the busybox the test rootfs is made
# of, the oracles runc and crun
APT_PACKAGES := gcc make libc6-dev python3-venv python3-dev busybox-static libseccomp-dev libcap-dev runc crun hyperfine util-linux strace

.PHONY: help deps venv install demo test test-v2 test-systemd unit integration attack-proof bench bench-systemd validator lint clean

help:
	@echo "make demo         install what is needed, build $(DEMO)/ from the host's busybox, run a container"
	@echo "make test         install what is needed, run the unit and integration tests (ocirun and runc)"
	@echo "make unit         unit tests only (no root needed)"
	@echo "make test-v2      the cgroup v2 tests in a pure cgroup v2 VM (../shared/tools/cgroup2-vm)"
	@echo "make test-systemd the systemd cgroup driver's tests, podman and containerd on it, in the VM with systemd"
	@echo "make attack-proof each protection taken out in a build of its own: its attack tests must fail there"
	@echo "make bench        side-by-side benchmarks against runc and crun (bench/README.md)"
	@echo "make lint         ruff and mypy (strict settings in pyproject.toml)"
	@echo "make validator    regenerate ocirun/spec/_validator.py from the schema"

deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "missing Debian packages (run as root, or install them): $$missing"; exit 1; fi; \
	  echo "apt-get install $$missing"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(VPY):
	$(PYTHON) -m venv $(VENV)

venv: $(VPY)

install: deps venv
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q '.[test]' 'setuptools>=77'
	@# the compiled parts next to the sources too: the unit tests import ocirun from the checkout
	$(VPY) setup.py -q build_ext --inplace 2>&1 | grep -v -e '^running' -e 'Deprecat' -e '^!!' -e '^\s*\*\*' -e '^\s*$$' || true

demo: install
	rm -rf $(DEMO) && mkdir -p $(DEMO)/rootfs/bin
	cp /bin/busybox $(DEMO)/rootfs/bin/busybox
	for a in sh echo cat ls ps id hostname mount sleep; do ln -s busybox $(DEMO)/rootfs/bin/$$a; done
	cd $(DEMO) && ../$(OCIRUN) spec
	$(VPY) -c 'import json; p="$(DEMO)/config.json"; c=json.load(open(p)); \
	  c["process"].update(terminal=False, args=["sh", "-c", "echo it works: $$(hostname), pid $$$$"]); \
	  c["linux"]["cgroupsPath"] = "/ocirun-demo"; \
	  json.dump(c, open(p, "w"), indent=2)'
	$(OCIRUN) --root /run/ocirun-demo run --bundle $(DEMO) demo-$$$$

unit: install
	$(VPY) -m pytest -q tests/unit

integration: install
	$(VPY) -m pytest -q tests/integration

test: install
	$(VPY) -m pytest -q tests

# Proof that the attack tests catch what they guard: one weakened build per protection (csrc/weaken.h)
# in build/attack/venv, never .venv; its attack tests must fail there and pass on the normal build.
attack-proof: install
	$(VPY) tests/attack_proof.py

# The cgroup v2 tests in a throw-away pure-cgroup-v2 guest (../shared/tools/cgroup2-vm, about 80 s).
V2VM ?= ../shared/tools/cgroup2-vm/run-in-v2.sh
test-v2: install
	@if [ -x $(V2VM) ]; then \
	  $(V2VM) --setup && \
	  $(V2VM) --timeout 1200 -- $(VPY) -m pytest -q -p no:cacheprovider tests/integration/test_cgroups_v2.py; \
	else echo "test-v2: $(V2VM) not found: the pure cgroup v2 tests did not run"; fi

# The systemd cgroup driver (--systemd-cgroup) in the guest with systemd as PID 1: its integration
# tests, and podman and containerd with systemd cgroups (a missing guest tool fails under CI).
SYSTEMD_TESTS ?= tests/integration/test_systemd.py tests/e2e/test_systemd_engines.py
test-systemd: install
	@if [ -x $(V2VM) ]; then \
	  $(V2VM) --setup --systemd && \
	  $(V2VM) --systemd --timeout 2400 -- $(VPY) -m pytest -q -p no:cacheprovider $(SYSTEMD_TESTS); \
	else echo "test-systemd: $(V2VM) not found: the systemd driver's tests did not run"; [ -z "$$CI" ]; fi

bench: install
	$(VPY) bench/bench.py

# run with --systemd-cgroup, ocirun next to runc, in the systemd guest (median of 10)
bench-systemd: install
	$(V2VM) --setup --systemd && $(V2VM) --systemd --timeout 1200 -- $(VPY) bench/systemd_run.py -n 10

lint: install
	$(VPY) -m pip install -q '.[lint]'
	$(VPY) -m ruff check ocirun
	$(VPY) -m mypy ocirun

validator:
	$(VPY) -m ocirun.spec.compile_schema

clean:
	rm -rf build dist *.egg-info $(DEMO) ocirun/_shim.c ocirun/*.so ocirun/libexec
