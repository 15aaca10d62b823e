# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What every reader of a pair host's live state shares: the :class:`Output` of a
tool (``rc`` None when the program is not installed), the Debian package of each
program, and the small value helpers of the parsers.
"""

from __future__ import absolute_import, division, print_function  # noqa: UP010

__metaclass__ = type  # noqa: UP001

import collections

from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import PACKAGES

Output = collections.namedtuple("Output", ["rc", "stdout", "stderr"])


def not_installed(program):
    """The message for a program that is missing on the host."""
    return "%s is not installed (Debian package %s)" % (program, PACKAGES.get(program, program))


def error_text(output, program):
    if output.rc is None:
        return not_installed(program)
    text = (output.stderr or "").strip() or (output.stdout or "").strip()
    return "%s exited with %s%s" % (program, output.rc, ": " + text if text else "")


def to_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def bool_attr(element, name):
    return element.get(name) == "true"


def yes(value):
    return (value or "").strip().lower().startswith("yes")
