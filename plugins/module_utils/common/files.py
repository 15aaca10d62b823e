# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Files the modules read and write on a host; writes are atomic, with the mode set before the content lands."""

from __future__ import absolute_import, division, print_function  # noqa: UP010

__metaclass__ = type  # noqa: UP001

import os
import tempfile


def read_file(path):
    """A file's text, or None when it cannot be read (absent, for example)."""
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return None


def write_atomic(path, text, mode, make_dirs=False):
    """Write ``text`` to ``path`` through a temporary file in the same directory, renamed over it.

    The temporary file has ``mode`` from the start, so a secret (mode 0600) is never readable by
    others, not even for a moment. ``make_dirs`` creates a missing directory (mode 0755).
    """
    directory = os.path.dirname(path)
    if make_dirs and not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    fd, tmp = tempfile.mkstemp(prefix=".vmpair-", dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
