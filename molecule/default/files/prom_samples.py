# SPDX-License-Identifier: GPL-3.0-or-later
"""Read a Prometheus text-format file on stdin with prometheus_client's parser; print its samples as JSON.

Usage: python3 prom_samples.py < duplex_vmpair.prom. Prints {"samples": {KEY: value}, "types": {family:
type}}, KEY being the sample's name and its labels sorted by name, as name{a="x",b="y"}. Run on the
controller by molecule/default/metrics.yml (prometheus_client is in requirements-dev.txt); a file the
parser refuses, or a series that appears twice, exits non-zero.
"""

import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def key(name, labels):
    return "%s{%s}" % (name, ",".join('%s="%s"' % (k, labels[k]) for k in sorted(labels)))


def main():
    text = sys.stdin.read()
    if not text.endswith("\n"):
        sys.exit("the file does not end with a newline")
    samples, types = {}, {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for sample in family.samples:
            k = key(sample.name, sample.labels)
            if k in samples:
                sys.exit("series %s appears twice" % k)
            samples[k] = sample.value
    json.dump({"samples": samples, "types": types}, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main()
