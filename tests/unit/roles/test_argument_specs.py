# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every public role option is documented in meta/argument_specs.yml, with the default the role uses."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

ROLES_DIR = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles"))
ROLES = sorted(os.listdir(ROLES_DIR))


def load(role, path):
    full = os.path.join(ROLES_DIR, role, path)
    if not os.path.exists(full):
        return {}
    with open(full) as handle:
        return yaml.safe_load(handle) or {}


def test_the_five_roles_exist():
    assert ROLES == ["cluster", "hypervisor", "mirror", "network", "witness"]


@pytest.mark.parametrize("role", ROLES)
def test_every_default_is_documented(role):
    defaults = load(role, "defaults/main.yml")
    options = load(role, "meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    missing = sorted(set(defaults) - set(options))
    assert not missing, "%s: options in defaults/main.yml but not in meta/argument_specs.yml: %s" % (role, missing)
    for name, value in defaults.items():
        assert name.startswith("vmpair_"), "%s: public option %s must be named vmpair_*" % (role, name)
        spec = options[name]
        assert spec.get("description"), "%s: %s has no description" % (role, name)
        if isinstance(value, str) and "{{" in value:
            continue  # resolved from the OS-specific variables
        assert spec.get("default") == value, "%s: %s defaults to %r but the spec says %r" % (
            role,
            name,
            value,
            spec.get("default"),
        )


@pytest.mark.parametrize("role", ROLES)
def test_internal_variables_are_prefixed(role):
    for path in ("vars/main.yml", "vars/Debian.yml"):
        for name in load(role, path):
            assert name.startswith("__vmpair_"), "%s/%s: internal variable %s must be named __vmpair_*" % (
                role,
                path,
                name,
            )


@pytest.mark.parametrize("role", [r for r in ROLES if r != "network"])
def test_os_specific_defaults_are_documented_with_the_debian_values(role):
    defaults = load(role, "defaults/main.yml")
    options = load(role, "meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    debian = load(role, "vars/Debian.yml")
    for name, value in defaults.items():
        if (
            isinstance(value, str)
            and "__vmpair_" in value
            and name.endswith("_packages")
            and name != "vmpair_hypervisor_packages"
        ):
            internal = value.split("{{")[1].split("|")[0].strip()
            if isinstance(debian[internal], str) and "{{" in debian[internal]:
                # Computed per host (vmpair_fence_agent_packages): no fixed default to document,
                # the description says how it is computed.
                assert "default" not in options[name], name
                assert "By default" in " ".join(options[name]["description"]), name
            else:
                assert options[name].get("default") == debian[internal], name
