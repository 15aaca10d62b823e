# -*- coding: utf-8 -*-
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unknown vmpair_* variables: a typo makes a setting silently fall back to its default."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.duplex.vmpair.plugins.module_utils.site.base import closest

PREFIX = "vmpair_"


class _Suggest(object):
    """The closest known name of each unknown name, computed once per name."""

    def __init__(self, known):
        self.known = sorted(known)
        self.cache = {}

    def __call__(self, name):
        if name not in self.cache:
            self.cache[name] = closest(name, self.known, PREFIX)
        return self.cache[name]


def _report(chk, where, name, suggest):
    close = suggest(name)
    if close:
        message = "is not a variable of duplex.vmpair, so nothing reads it; the closest known name is %s." % close
        fix = "Rename it to %s." % close
    else:
        message = "is not a variable of duplex.vmpair, so nothing reads it."
        fix = "Remove it, or use a variable listed in docs/site_model.md or a role's argument_specs."
    chk.add(where, name, message, fix, check="variables")


def check_variables(chk, pairs, witnesses, names_by_host, known):
    """Report every vmpair_* variable of a pair host or witness that the collection does not know.

    pairs: {pair: [hosts]}; names_by_host: {host: variable names set on it}; known: the known names.
    A variable set on both hosts of a pair (group vars) is reported once for the pair.
    """
    suggest = _Suggest(known)
    known = set(known)
    for pair in sorted(pairs):
        hosts = list(pairs[pair])
        unknown = set()
        for host in hosts:
            unknown.update(n for n in names_by_host.get(host, ()) if n.startswith(PREFIX) and n not in known)
        chk.pair = pair
        for name in sorted(unknown):
            on = [h for h in hosts if name in names_by_host.get(h, ())]
            if len(on) == len(hosts):
                _report(chk, "pair %s" % pair, name, suggest)
            else:
                for host in on:
                    _report(chk, "pair %s host %s" % (pair, host), name, suggest)
    chk.pair = None
    for host in witnesses:
        for name in sorted(n for n in names_by_host.get(host, ()) if n.startswith(PREFIX) and n not in known):
            _report(chk, "witness %s" % host, name, suggest)
