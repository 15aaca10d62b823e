# duplex.vmpair: development, test and demo entry points.
# Run as root on Debian 12. Every target is idempotent and quick when already done.
#   make demo   # real-kernel lab + site.yml + a running VM protected live + the pair's state
#   make test   # lint, sanity, galaxy-importer, unit tests, the 2.20/2.21 matrix, EE, Molecule scenarios (about 60 min on 2 cores)

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.NOTPARALLEL:
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
# The `ansible` release built on ansible-core 2.19 (.venv's): source of the vendored collections.
ANSIBLE_PACKAGE_VERSION ?= 12.3.0
DEMO_LAB ?= vmpair-demo
DEMO_INVENTORY ?= lab/.state/$(DEMO_LAB).yml
# MiB of RAM per lab host, how many test VMs (guest1..guestN, 160 MiB each) the demo starts and
# protects, and how often (seconds) each writes its sequence number:
# `make demo DEMO_GUESTS=5 DEMO_MEMORY=2048 DEMO_GUEST_PERIOD=10` is the lab of bench/maintenance_vms.sh.
DEMO_MEMORY ?= 1024
DEMO_GUESTS ?= 1
DEMO_GUEST_PERIOD ?= 0.2
# The scenarios of `make molecule` (and so of `make test`), one at a time (on 2 cores the QEMU lab
# and a container lab side by side starve each other). real-kernel-quick is the real-kernel lab's
# share: a protected, writing VM's host crashed; the whole real-kernel scenario is
# `make test-real-kernel`. VMPAIR_REAL_KERNEL=0 leaves the real-kernel scenarios out.
MOLECULE_SCENARIOS ?= default xen real-kernel-quick
VMPAIR_REAL_KERNEL ?= 1
# Scenarios of `make molecule` run on another ansible-core than .venv's, as SCENARIO=CORE words
# (`make molecule MOLECULE_CORES=xen=2.21`; CORE's requirements-CORE.txt has Molecule: 2.21's has):
# Molecule and that ansible-core in the Debian 13 root of `make matrix` (Python 3.13), the lab's
# containers and lab/lab.py the host's (scripts/debian13.sh run --host-podman). `make test` runs
# default on the newest core, 2.21; MOLECULE_CORES= runs every scenario on .venv's (2.19).
MOLECULE_CORES ?= default=2.21
# The Debian releases of the container lab images `make molecule` builds. A scenario picks its
# hosts' release with VMPAIR_LAB_SUITE in its molecule.yml (bookworm when unset): default runs on
# trixie (Debian 13), xen on bookworm (Debian 12).
LAB_SUITES ?= bookworm trixie

VENV := $(CURDIR)/.venv
# pytest-xdist workers for `make unit` (auto: one per core; 0: no workers, one process)
UNIT_WORKERS ?= auto
# The newer ansible-core releases: sanity and unit tests in the Debian 13 root (requirements-CORE.txt)
MATRIX_CORES ?= 2.20 2.21
BUILD := $(CURDIR)/.build
ORIG_PATH := $(PATH)

# Tools the unit tests drive offline (pcs -f, crm_simulate, drbdadm -d, virsh test:///, nft and ip
# in a private network namespace), plus git and shellcheck for ansible-test sanity.
APT_TOOLS := pcs pacemaker pacemaker-cli-utils corosync corosync-qdevice corosync-qnetd \
	drbd-utils lvm2 libvirt-clients libvirt-daemon resource-agents fence-agents \
	nftables iproute2 git shellcheck

# The same tools in the Debian 13 root of `make matrix`, where fence-agents is a metapackage of
# every agent (600 packages): only the agents the unit tests use, and ssh (the unit tests' plays
# reach hosts that do not answer over ssh; the full fence-agents brought it in).
DEBIAN13_TOOLS := $(filter-out fence-agents,$(APT_TOOLS)) fence-agents-ipmilan fence-agents-apc-snmp \
	fence-agents-redfish fence-agents-dummy openssh-client

export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(BUILD)/collections
# No ANSIBLE_ROLES_PATH: roles resolve only by FQCN (duplex.vmpair.<role>), as users will call them.
export ANSIBLE_FORCE_COLOR ?= $(if $(CI),0,1)
export PY_COLORS ?= $(if $(CI),0,1)

LAB := python3 lab/lab.py
VENV_PY_VERSION = $(shell $(VENV)/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')

.PHONY: help deps tools venv collections lab-deps lint sanity importer unit debian13-root matrix ee molecule test test-real-kernel test-release-upgrade test-site-loss demo lab-down \
	build bench changelog clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-11s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: tools venv collections lab-deps ## everything below: apt tools, .venv, vendored collections, lab deps

tools: ## apt: offline cluster/DRBD/libvirt tools used by the unit tests (only missing ones)
	@scripts/apt-tools.sh $(APT_TOOLS)

venv: ## .venv from requirements-dev.txt (rebuilt only when that file changes)
	@if cmp -s requirements-dev.txt $(VENV)/.requirements-dev.txt \
	    && $(VENV)/bin/python -c '' 2>/dev/null; then exit 0; fi; \
	PATH="$(ORIG_PATH)"; \
	if ! $(PYTHON) -c 'import ensurepip, venv' 2>/dev/null; then scripts/apt-tools.sh python3-venv; fi; \
	echo "venv: creating $(VENV)"; \
	rm -rf $(VENV); \
	$(PYTHON) -m venv $(VENV); \
	$(VENV)/bin/pip install -qq -r requirements-dev.txt; \
	cp requirements-dev.txt $(VENV)/.requirements-dev.txt

collections: venv ## containers.podman + ansible.posix from the PyPI ansible wheel; duplex.vmpair -> repo
	@scripts/vendor-collections.sh $(VENV)/bin/pip $(ANSIBLE_PACKAGE_VERSION) $(ANSIBLE_COLLECTIONS_PATH)

lab-deps: ## podman stack and containers.conf for the container lab, QEMU for the VM lab
	@$(LAB) deps
	@$(LAB) vm deps

lint: venv collections ## ansible-lint (offline), ruff check, ruff format --check
	ansible-lint
	ruff check .
	ruff format --check .

sanity: venv collections ## ansible-test sanity on a copy at .build/sanity/ansible_collections/duplex/vmpair
	scripts/sanity.sh $(BUILD) --venv --requirements --python $(VENV_PY_VERSION) --color $(if $(CI),no,yes)

unit: venv collections ## pytest tests/unit (the product's tests) and tests/lab (the lab's, bench's, AWX's, scripts')
	@if [[ -z "$$(find tests/unit tests/lab -name 'test_*.py' -o -name '*_test.py' 2>/dev/null | head -n 1)" ]]; then \
	    echo "unit: no tests in tests/unit or tests/lab"; exit 0; fi; \
	PYTHONPATH=$(ANSIBLE_COLLECTIONS_PATH)$${PYTHONPATH:+:$$PYTHONPATH} pytest tests/unit tests/lab -q -n $(UNIT_WORKERS)

importer: venv ## galaxy-importer (Galaxy's and Automation Hub's upload check) on the built tarball, offline
	scripts/galaxy-importer.sh

debian13-root: ## the Debian 13 root of `make matrix` (.build/debian13; kept while its recipe holds)
	scripts/debian13.sh root "$(DEBIAN13_TOOLS)"

matrix: collections ## sanity and tests/unit on ansible-core $(MATRIX_CORES), in a Debian 13 root (Python 3.13)
	scripts/matrix.sh "$(DEBIAN13_TOOLS)" $(MATRIX_CORES)

ee: deps ## execution environment: ansible-builder build, check_site and syntax checks in it (navigator)
	$(LAB) image
	tests/integration/ee/run.sh

molecule: deps ## Molecule: container lab (default with its faults, xen), then real-kernel-quick (QEMU VMs); MOLECULE_CORES: some on 2.21
	for suite in $(LAB_SUITES); do VMPAIR_LAB_SUITE=$$suite $(LAB) image; done
	$(if $(filter 1,$(VMPAIR_REAL_KERNEL)),$(LAB) vm image)
	$(if $(strip $(MOLECULE_CORES)),scripts/debian13.sh root "$(DEBIAN13_TOOLS)")
	VMPAIR_REAL_KERNEL=$(VMPAIR_REAL_KERNEL) MOLECULE_SCENARIOS="$(MOLECULE_SCENARIOS)" \
	    MOLECULE_CORES="$(MOLECULE_CORES)" scripts/molecule.sh

test-real-kernel: deps ## Molecule real-kernel, everything, on QEMU VMs (bond, split brain, crashes, a failed disk, rolling update, migration); about 80 min
	$(LAB) vm image
	scripts/molecule.sh real-kernel

test-site-loss: deps ## Molecule site-loss: QEMU VMs with watchdog self-fencing; a witness down, a crash, a host cut off and a whole site lost under a protected, writing VM
	$(LAB) vm image
	scripts/molecule.sh site-loss

test-release-upgrade: deps ## Molecule release-upgrade: a pair of QEMU VMs from Debian 12 to 13 under a protected, writing VM (rolling_update.yml -e vmpair_rolling_release=trixie)
	$(LAB) vm image
	scripts/molecule.sh release-upgrade

test: ## THE test command: deps, lint, sanity, unit, ee, molecule, each timed (table at the end)
	scripts/test.sh

demo: deps ## real-kernel lab (QEMU VMs), site.yml, a running test VM protected by protect.yml, the state
	$(LAB) vm image
	$(LAB) vm up --name $(DEMO_LAB) --inventory $(DEMO_INVENTORY) --memory $(DEMO_MEMORY)
	ansible-playbook -i $(DEMO_INVENTORY) playbooks/site.yml
	ansible-playbook -i $(DEMO_INVENTORY) lab/demo.yml -e lab_guest_count=$(DEMO_GUESTS) -e lab_guest_period=$(DEMO_GUEST_PERIOD) -e lab_guest_acpi=true -e lab_guest_force_stop=true

lab-down: ## remove the demo lab and any Molecule/bench labs, containers and VMs (images stay)
	$(LAB) down --all
	$(LAB) vm down --all

build: venv ## collection tarball in .build/dist
	ansible-galaxy collection build --force --output-path $(BUILD)/dist

bench: deps ## time site.yml on the lab (bench/site_timing.sh)
	bench/site_timing.sh

changelog: venv ## antsibull-changelog lint
	antsibull-changelog lint

clean: ## remove .build (keeps .venv and the lab)
	rm -rf $(BUILD)
