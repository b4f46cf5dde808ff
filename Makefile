# ocirun: make demo (set up and run a container), make test (everything), make help.
# Debian's python3 (built with PGO and LTO, libpython linked in) starts about 1 ms sooner than a
# default source build such as pyenv's, and runs ocirun's own code faster: the venv is made from it.
PYTHON  ?= $(firstword $(wildcard /usr/bin/python3) python3)
VENV    ?= .venv
OCIRUN  := $(VENV)/bin/ocirun
VPY     := $(VENV)/bin/python
DEMO    ?= demo-bundle
# Debian packages: build tools, Python's venv and headers, the busybox the test rootfs is made
# of, the oracles runc and crun, criu (checkpoint/restore; it brings pycriu and python3-protobuf),
# iptables (criu locks a container's network with it while it dumps and restores)
APT_PACKAGES := gcc make libc6-dev python3-venv python3-dev busybox-static libseccomp-dev libcap-dev runc crun hyperfine util-linux strace iproute2 uidmap criu iptables

.PHONY: help deps venv install demo test test-v2 test-v2-lane test-v2-all test-criu test-systemd bench-criu bench-systemd unit integration attack-proof bench test-runtime conformance validator lint clean

help:
	@echo "make demo         install what is needed, build $(DEMO)/ from the host's busybox, run a container"
	@echo "make test         install what is needed, run the unit and integration tests (ocirun and runc)"
	@echo "make unit         unit tests only (no root needed)"
	@echo "make test-v2      the v2 tests in a pure cgroup v2 guest (test-v2-lane, CI's: and those marked v2lane)"
	@echo "make test-v2-all  the whole integration suite on ocirun in pure cgroup v2 guests (30 minutes)"
	@echo "make test-criu    checkpoint/restore (criu) tests in the same VM: criu 3.17 refuses this kernel"
	@echo "make test-systemd the systemd cgroup driver's tests, podman and containerd on it, in the VM with systemd"
	@echo "make attack-proof each protection taken out in a build of its own: its attack tests must fail there"
	@echo "make bench        side-by-side benchmarks against runc and crun (bench/README.md)"
	@echo "make test-runtime the integration suite against RUNTIME=/path (crun, youki...), with a report"
	@echo "make conformance RUNTIME_TOOLS=/path/to/runtime-tools   the runtime-tools validation files,"
	@echo "                  ocirun and runc side by side (docs/conformance.md)"
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

# Tests on a pure cgroup v2 kernel, in throw-away emulated guests side by side (tests/v2guests.sh,
# ../shared/tools/cgroup2-vm; CI=true makes a missing guest tool a failure). test-v2:
# test_cgroups_v2.py on ocirun and runc. test-v2-lane, CI's lane, adds in a second guest the
# lifecycle, exec and mounts tests marked v2lane. test-v2-all: the whole integration suite on
# ocirun, in two guests (about 30 minutes).
V2VM ?= ../shared/tools/cgroup2-vm/run-in-v2.sh
V2LANE := -m v2lane tests/integration/test_lifecycle.py tests/integration/test_exec.py tests/integration/test_mounts.py
# two guests of about 350 tests each (the 2-core host runs no more at a time); test_criu and
# test_systemd have guests of their own (test-criu, test-systemd)
V2ALL_1 := test_lifecycle test_exec test_mounts test_namespaces test_api test_recovery test_cgroups_v2 test_cgroups \
  test_rootless test_userns test_docs
V2ALL_2 := test_errors test_process test_hooks test_terminal test_security test_seccomp test_cves test_fuzz \
  test_spec_fields test_netdevices test_memory_policy
# with the rootless and user namespace tests that meet pure v2: a delegated subtree (limits in it),
# and a cgroup2 mount where /sys is the host's, bound (its cgroup2 is there already: EBUSY)
V2ROOTLESS := tests/integration/test_rootless.py::test_delegated_cgroup2_subtree_is_used \
  tests/integration/test_rootless.py::test_limits_in_a_delegated_cgroup2_subtree \
  tests/integration/test_rootless.py::test_spec_rootless_runs \
  tests/integration/test_userns.py::test_sysfs_bound_without_a_network_namespace
test-v2: install
	@V2VM=$(V2VM) V2TIMEOUT=2400 VPY=$(VPY) tests/v2guests.sh "tests/integration/test_cgroups_v2.py $(V2ROOTLESS)"

test-v2-lane: install
	@V2VM=$(V2VM) V2TIMEOUT=2400 VPY=$(VPY) tests/v2guests.sh "tests/integration/test_cgroups_v2.py $(V2ROOTLESS)" "$(V2LANE)"

test-v2-all: install
	@V2VM=$(V2VM) V2TIMEOUT=21600 VPY=$(VPY) OCIRUN_FUZZ_EXAMPLES=20 tests/v2guests.sh \
	  "--runtime=ocirun $(V2ALL_1:%=tests/integration/%.py)" "--runtime=ocirun $(V2ALL_2:%=tests/integration/%.py)"

# checkpoint/restore: Debian 12's criu 3.17 refuses newer kernels (natively the tests skip), so
# they run in the guest too, Debian's 6.1 kernel (several minutes: each checkpoint is 10-20 s there).
# tests/in-guest.sh: the venv in the guest's memory, and the command's own exit status where the
# guest tool loses it at power-off.
test-criu: install
	@if [ -x $(V2VM) ]; then \
	  $(V2VM) --setup && \
	  V2VM=$(V2VM) tests/in-guest.sh --timeout 2400 --boot-timeout 600 -- \
	    $(VPY) -m pytest -q -p no:cacheprovider tests/integration/test_criu.py tests/e2e/test_podman_criu.py $(CRIU_TESTS); \
	else echo "test-criu: $(V2VM) not found: the checkpoint/restore tests did not run"; [ -z "$$CI" ]; fi

# The systemd cgroup driver (--systemd-cgroup) in the guest with systemd as PID 1: its integration
# tests, and podman and containerd with systemd cgroups (a missing guest tool fails under CI).
# The test probe is built here (gcc -static takes ~40 s in the guest): $OCIRUN_TEST_PROBE.
SYSTEMD_TESTS ?= tests/integration/test_systemd.py tests/e2e/test_systemd_engines.py
GUEST_PROBE := build/test-probe
$(GUEST_PROBE): tests/probe/probe.c
	@mkdir -p build && gcc -static -O2 -std=gnu11 -Wall -Wextra -Werror -o $@ $<
test-systemd: install $(GUEST_PROBE)
	@if [ -x $(V2VM) ]; then \
	  $(V2VM) --setup --systemd && \
	  V2VM=$(V2VM) tests/in-guest.sh --systemd --time --timeout 1800 -e OCIRUN_TEST_PROBE=$(CURDIR)/$(GUEST_PROBE) -- \
	    $(VPY) -m pytest -q -p no:cacheprovider -rfEx --durations=10 $(SYSTEMD_TESTS); \
	else echo "test-systemd: $(V2VM) not found: the systemd driver's tests did not run"; [ -z "$$CI" ]; fi

bench: install
	$(VPY) bench/bench.py

# The integration suite against any runc-compatible runtime, with results by spec area and a JSON
# report (tests/README.md, "Any runtime"): make test-runtime RUNTIME=/usr/bin/crun
RUNTIME ?= /usr/bin/crun
REPORT  ?= harness-report.json
test-runtime: install
	PYTHON=$(VPY) tests/harness.sh $(RUNTIME) $(REPORT)

# The OCI runtime-tools validation files against ocirun and runc, one row per file, written to
# docs/conformance.md. RUNTIME_TOOLS is a runtime-tools checkout; its runtimetest and
# validation/*/*.t are built there (Go on PATH, its vendored modules) when missing.
RUNTIME_TOOLS ?=
conformance: install
	@if [ -z "$(RUNTIME_TOOLS)" ]; then \
	  echo "usage: make conformance RUNTIME_TOOLS=/path/to/runtime-tools (a checkout; Go on PATH builds it)"; exit 2; fi
	@if [ ! -x "$(RUNTIME_TOOLS)/runtimetest" ] || [ ! -x "$(RUNTIME_TOOLS)/validation/state/state.t" ]; then \
	  GOTOOLCHAIN=local GOFLAGS=-mod=vendor $(MAKE) -C "$(RUNTIME_TOOLS)" runtimetest validation-executables; fi
	$(VPY) tests/conformance/runtime_tools.py "$(RUNTIME_TOOLS)" --runtime ocirun=$(abspath $(OCIRUN)) \
	  --runtime runc=runc --logs build/conformance --page docs/conformance.md \
	  --command "make conformance RUNTIME_TOOLS=$(RUNTIME_TOOLS)"

# checkpoint and restore times, ocirun against runc, in the guest (bench/criu.py)
bench-criu: install
	$(V2VM) --setup && V2VM=$(V2VM) tests/in-guest.sh --timeout 2400 --boot-timeout 600 -- $(VPY) bench/criu.py

# run with --systemd-cgroup, ocirun next to runc, in the systemd guest (median of 10)
bench-systemd: install
	$(V2VM) --setup --systemd && V2VM=$(V2VM) tests/in-guest.sh --systemd --timeout 1200 -- $(VPY) bench/systemd_run.py -n 10

lint: install
	$(VPY) -m pip install -q '.[lint]'
	$(VPY) -m ruff check ocirun
	$(VPY) -m mypy ocirun
	@# the library as its users write against it: typed all the way (ocirun ships py.typed)
	$(VPY) -m mypy --strict tests/typing/library_sample.py

validator:
	$(VPY) -m ocirun.spec.compile_schema

clean:
	rm -rf build dist *.egg-info $(DEMO) ocirun/_shim.c ocirun/*.so ocirun/libexec
