# -*- coding: utf-8 -*-
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A job template of awx/job_templates.yml launched the way AWX launches it: through ansible-runner.

AWX's job runner (RunJob in awx/main/tasks/jobs.py) hands ansible-runner a private data directory and a
command line; run_job builds the same for a template and runs it with ``ansible_runner.run`` (process
isolation off, as in an execution environment, where the EE is the isolation):

- ``project``: the AWX project, this repository's ``awx/`` (the template's ``playbook`` is a file of it);
- ``requirements_collections``: where AWX installs ``awx/collections/requirements.yml`` at project sync,
  here duplex.vmpair as this tree. The job's ``ANSIBLE_COLLECTIONS_PATH`` is that directory, then the EE's
  own collections (AWX appends ``~/.ansible/collections:/usr/share/ansible/collections`` of the image):
  here only those named in ``ee_collections``, linked from where this machine has them, so duplex.vmpair is
  found only where AWX installs it;
- ``env/extravars``: the job's extra variables, merged as AWX merges them (the template's ``extra_vars``,
  then its survey's defaults, then the launch's answers: a value for each required question without a
  default, multiple choice: its first choice, integer: its minimum, text: ANSWERS), plus AWX's own
  ``awx_*``/``tower_*`` variables. Written as AWX writes them: every value that is not the template's own
  ``extra_vars`` is ``!unsafe`` (AWX's default ALLOW_JINJA_IN_EXTRA_VARS=template). The answers must pass
  AWX's launch-time survey validation (types, choices, min/max);
- the command line: ``-u`` with the machine credential's user (root), ``--become`` where ``become_enabled``,
  ``--become-method`` where the machine credential sets its "Privilege Escalation Method",
  ``--ask-vault-pass`` for the vault credential, whose password ansible-runner types at ansible-playbook's
  ``Vault password:`` prompt (AWX's ``expect_passwords``); ``--check``, ``--diff``, ``--limit``, ``-v``
  where the template sets its job type, diff mode, limit or verbosity.

tests/lab/test_awx_runner.py launches every template this way on an offline site; the container lab
(molecule/default/user_paths.yml) launches "vmpair validate" and "vmpair check site" on the lab's pair
with this file as a command:

    python3 tests/lab/awxjob.py launch --template "vmpair validate" --inventory INVENTORY \\
        --vault-password-file FILE [--become-method su] [--ee-collection containers.podman] [--dir DIR]

It prints the job's output, then one JSON line: the template, the job's status and rc, and the job's
artifacts (what the playbook's set_stats published, which AWX hands to later workflow nodes). It exits 0
when the job is ``successful``, 1 otherwise. The job sees none of the caller's ANSIBLE_* or MOLECULE_*
environment: AWX gives a job its own (RunJob.build_env).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
import pathlib
import re
import sys
import tempfile

import ansible_runner
import yaml

REPO_ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
AWX = os.path.join(REPO_ROOT, "awx")
VAULT_CREDENTIAL = "vmpair vault"
MACHINE_CREDENTIAL = "vmpair hosts"
# The machine credential ("vmpair hosts") as docs/awx.md describes it: its user, which AWX gives as -u. AWX
# adds --become-method only where the credential sets a "Privilege Escalation Method" (sudo otherwise).
MACHINE = {"username": "root"}
# The answer an operator types for a required text question without a default, by variable, on the docs' site.
ANSWERS = {"vms": "web1", "vm": "web1", "survivor": "hv-east", "host": "hv-east"}
# What AWX adds to every job's extra variables (awx_meta_vars), with the tower_ names of older releases.
AWX_META = {"job_id": 42, "job_launch_type": "manual", "user_name": "admin", "inventory_name": "vmpair site"}
# The ansible-playbook prompt the vault credential's password answers.
VAULT_PROMPT = r"Vault password:\s*?$"
# Where AWX and an EE look for collections after the project's requirements_collections.
EE_COLLECTION_PATHS = ("~/.ansible/collections", "/usr/share/ansible/collections")


class Unsafe(str):
    """A string AWX writes as !unsafe into env/extravars: Ansible never templates it."""


yaml.SafeDumper.add_representer(Unsafe, lambda dumper, value: dumper.represent_scalar("!unsafe", str(value)))


def job_templates():
    """awx/job_templates.yml: controller_templates and controller_schedules."""
    with open(os.path.join(AWX, "job_templates.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def template_named(name):
    found = [t for t in job_templates()["controller_templates"] if t["name"] == name]
    if not found:
        raise ValueError("no job template named %r in awx/job_templates.yml" % name)
    return found[0]


def survey_errors(question, value):
    """AWX's launch-time validation of one survey answer (SurveyJobTemplateMixin._survey_element_validation)."""
    kind, name = question["type"], question["variable"]
    if kind in ("text", "textarea", "password"):
        if not isinstance(value, str):
            return ["%s: %r is not a string" % (name, value)]
        size = len(value)
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):  # AWX: true is not an integer
            return ["%s: %r is not an integer" % (name, value)]
        size = value
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return ["%s: %r is not a number" % (name, value)]
        size = value
    elif kind == "multiplechoice":
        return [] if value in question["choices"] else ["%s: %r is not one of %s" % (name, value, question["choices"])]
    elif kind == "multiselect":
        return [
            "%s: %r is not among %s" % (name, v, question["choices"]) for v in value if v not in question["choices"]
        ]
    else:
        return ["%s: unknown survey type %s" % (name, kind)]
    low, high = question.get("min"), question.get("max")
    errors = []
    if low not in ("", None) and size < float(low):
        errors.append("%s: %r is below the minimum %s" % (name, value, low))
    if high not in ("", None) and size > float(high):
        errors.append("%s: %r is above the maximum %s" % (name, value, high))
    return errors


def launch_answer(question):
    """What the operator answers to a required question that has no default."""
    kind = question["type"]
    if kind == "multiplechoice":
        return question["choices"][0]
    if kind == "multiselect":
        return question["choices"][:1]
    if kind in ("integer", "float"):
        return question["min"] if question.get("min") not in ("", None) else 1
    assert question["variable"] in ANSWERS, "no answer for the required question %s: add one to ANSWERS" % question
    return ANSWERS[question["variable"]]


def job_extra_vars(template):
    """The job's extra variables as AWX builds them: template extra_vars, survey defaults, launch answers
    (all checked as AWX checks them at launch), then AWX's own variables; all but the template's are Unsafe."""
    extra_vars = dict(template.get("extra_vars") or {})
    safe = set(extra_vars)
    answers = {}
    if template.get("survey_enabled"):
        for question in template["survey_spec"]["spec"]:
            name = question["variable"]
            if question.get("default") is not None:
                answers[name] = question["default"]
            elif question.get("required"):
                answers[name] = launch_answer(question)
        refused = [
            e
            for q in template["survey_spec"]["spec"]
            if q["variable"] in answers
            for e in survey_errors(q, answers[q["variable"]])
        ]
        assert refused == [], "AWX refuses the launch of %s: %s" % (template["name"], refused)
    extra_vars.update(answers)
    extra_vars.update(
        {
            "%s_%s" % (prefix, key): value
            for prefix in ("awx", "tower")
            for key, value in dict(AWX_META, job_template_name=template["name"]).items()
        }
    )
    return {k: (Unsafe(v) if isinstance(v, str) and k not in safe else v) for k, v in extra_vars.items()}


def job_cmdline(template, machine=None):
    """The options AWX's RunJob.build_args gives ansible-playbook for the template; machine: the inputs of
    its machine credential (MACHINE unless given: username, optionally become_method)."""
    machine = MACHINE if machine is None else machine
    credentials = template.get("credentials") or []
    args = []
    if MACHINE_CREDENTIAL in credentials:
        args += ["-u", machine["username"]]
    if template.get("become_enabled"):
        args.append("--become")
    if MACHINE_CREDENTIAL in credentials and machine.get("become_method"):
        args += ["--become-method", machine["become_method"]]
    if template.get("diff_mode"):
        args.append("--diff")
    if template.get("limit"):
        args += ["--limit", template["limit"]]
    if template.get("verbosity"):
        args.append("-" + "v" * int(template["verbosity"]))
    if template.get("job_type") == "check":
        args.append("--check")
    if VAULT_CREDENTIAL in credentials:
        args.append("--ask-vault-pass")
    return args


def collection_dir(name):
    """Where this machine has collection ns.name (ANSIBLE_COLLECTIONS_PATH, then Ansible's default places)."""
    places = os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) + list(EE_COLLECTION_PATHS)
    for place in filter(None, places):
        candidate = os.path.join(os.path.expanduser(place), "ansible_collections", *name.split("."))
        if os.path.isdir(candidate):
            return candidate
    raise ValueError("collection %s is not installed on this machine (searched %s)" % (name, places))


def write_job(template, pdd, ee_collections=()):
    """The private data directory of the template's job: project, collections, env/extravars; the EE's
    collections (names) linked under pdd/ee_collections."""
    pdd = pathlib.Path(pdd)
    pdd.mkdir(parents=True)
    (pdd / "project").symlink_to(AWX)
    collection = pdd / "requirements_collections" / "ansible_collections" / "duplex"
    collection.mkdir(parents=True)
    (collection / "vmpair").symlink_to(REPO_ROOT)
    for name in ee_collections:
        namespace, short = name.split(".")
        place = pdd / "ee_collections" / "ansible_collections" / namespace
        place.mkdir(parents=True, exist_ok=True)
        (place / short).symlink_to(collection_dir(name))
    (pdd / "env").mkdir()
    (pdd / "env" / "extravars").write_text(yaml.safe_dump(job_extra_vars(template), sort_keys=False))


def job_envvars(pdd, ee_collections=()):
    """RunJob.build_env: the job's environment (colour off, for the assertions on the output)."""
    pdd = pathlib.Path(pdd)
    collections = [str(pdd / "requirements_collections")] + ([str(pdd / "ee_collections")] if ee_collections else [])
    return {
        "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join(collections),
        "ANSIBLE_ROLES_PATH": str(pdd / "requirements_roles"),
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True",
        "ANSIBLE_PARAMIKO_RECORD_HOST_KEYS": "False",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "JOB_ID": str(AWX_META["job_id"]),
        # duplex.vmpair only where AWX installs it, not through the tests' own import path
        "PYTHONPATH": "",
        # the ansible-core of this Python, as the EE's is the one on its PATH
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
    }


def run_job(template, pdd, inventory, vault_password, machine=None, ee_collections=(), timeout=300):
    """Launch the template's job in private data directory pdd (created here) on inventory: the
    ansible-runner Runner (status, rc, events, stdout)."""
    write_job(template, pdd, ee_collections)
    return ansible_runner.run(
        private_data_dir=str(pdd),
        playbook=template["playbook"],
        inventory=str(inventory),
        cmdline=" ".join(job_cmdline(template, machine)),
        passwords={VAULT_PROMPT: vault_password},
        envvars=job_envvars(pdd, ee_collections),
        process_isolation=False,
        quiet=True,
        timeout=timeout,
    )


def artifacts(runner):
    """What the job's set_stats published (AWX: the job's artifacts, a workflow's later nodes' extra vars)."""
    for event in runner.events:
        if event["event"] == "playbook_on_stats":
            return (event.get("event_data") or {}).get("artifact_data") or {}
    return {}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    launch = commands.add_parser("launch", help="launch a job template as AWX does, print its output and outcome")
    launch.add_argument("--template", required=True, help="its name in awx/job_templates.yml")
    launch.add_argument("--inventory", required=True, help="the job's inventory (a file)")
    launch.add_argument("--vault-password-file", required=True, help="the vault credential's password")
    launch.add_argument("--become-method", help="the machine credential's Privilege Escalation Method")
    launch.add_argument(
        "--ee-collection",
        action="append",
        default=[],
        help="a collection the execution environment has (ns.name, found on this machine); repeatable",
    )
    launch.add_argument("--dir", help="where to make the job's private data directory (default: a new temporary one)")
    launch.add_argument("--timeout", type=int, default=300, help="seconds the job may run")
    args = parser.parse_args(argv)
    template = template_named(args.template)
    machine = dict(MACHINE, become_method=args.become_method) if args.become_method else MACHINE
    with open(args.vault_password_file, encoding="utf-8") as handle:
        vault_password = handle.read().strip()
    if args.dir:
        os.makedirs(args.dir, exist_ok=True)
    pdd = os.path.join(tempfile.mkdtemp(prefix=re.sub(r"\W+", "_", template["name"]) + ".", dir=args.dir), "job")
    # The job's environment is its own (job_envvars); ANSIBLE_COLLECTIONS_PATH stays only to find the EE's
    # collections on this machine (collection_dir).
    for key in [k for k in os.environ if k.startswith(("ANSIBLE_", "MOLECULE_")) and k != "ANSIBLE_COLLECTIONS_PATH"]:
        del os.environ[key]
    runner = run_job(
        template,
        pdd,
        os.path.abspath(args.inventory),
        vault_password,
        machine=machine,
        ee_collections=args.ee_collection,
        timeout=args.timeout,
    )
    sys.stdout.write(runner.stdout.read())
    outcome = {"template": template["name"], "status": runner.status, "rc": runner.rc, "artifacts": artifacts(runner)}
    print("\n" + json.dumps(outcome, sort_keys=True))
    return 0 if runner.status == "successful" else 1


if __name__ == "__main__":
    sys.exit(main())
