# -*- coding: utf-8 -*-
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A role's template rendered as the role renders it: its defaults and vars, Ansible's Templar."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

try:  # ansible-core 2.19 and later template only trusted text, as a role's template file is
    from ansible.template import trust_as_template
except ImportError:  # before 2.19 every string is a template

    def trust_as_template(value):
        return value


ROLES = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", "..", "roles"))


def role_vars(role, **extra):
    """The role's defaults and vars (as on a Debian host), then `extra`."""
    variables = {"ansible_managed": "Ansible managed"}
    for name in ("defaults/main.yml", "vars/main.yml", "vars/Debian.yml"):
        path = os.path.join(ROLES, role, name)
        if os.path.exists(path):
            with open(path) as handle:
                variables.update(yaml.safe_load(handle) or {})
    variables.update(extra)
    return variables


def render(role, template, **extra):
    """roles/ROLE/templates/TEMPLATE rendered with role_vars(role, **extra)."""
    with open(os.path.join(ROLES, role, "templates", template)) as handle:
        source = handle.read()
    return Templar(loader=DataLoader(), variables=role_vars(role, **extra)).template(trust_as_template(source))
