# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every AWX job template of awx/job_templates.yml, launched the way AWX launches it: through ansible-runner.

AWX's job runner (RunJob in awx/main/tasks/jobs.py) hands ansible-runner a private data directory and a
command line; this test builds the same for each template and runs it with ``ansible_runner.run``
(process isolation off, as in an execution environment, where the EE is the isolation):

- ``project``: the AWX project, this repository's ``awx/`` (the template's ``playbook`` is a file of it);
- ``requirements_collections``: where AWX installs ``awx/collections/requirements.yml`` at project sync,
  here duplex.vmpair as this tree; the job's ``ANSIBLE_COLLECTIONS_PATH`` is that directory alone;
- ``env/extravars``: the job's extra variables, merged as AWX merges them (the template's ``extra_vars``,
  then its survey's defaults, then the launch's answers: a value for each required question without a
  default, multiple choice: its first choice, integer: its minimum, text: ANSWERS), plus AWX's own
  ``awx_*``/``tower_*`` variables. Written as AWX writes them: every value that is not the template's own
  ``extra_vars`` is ``!unsafe`` (AWX's default ALLOW_JINJA_IN_EXTRA_VARS=template). The answers must pass
  AWX's launch-time survey validation (types, choices, min/max);
- the command line: ``-u root`` for the machine credential, ``--become`` where ``become_enabled``,
  ``--ask-vault-pass`` for the vault credential, whose password ansible-runner types at ansible-playbook's
  ``Vault password:`` prompt (AWX's ``expect_passwords``); ``--check``, ``--diff``, ``--limit``, ``-v``
  where the template sets its job type, diff mode, limit or verbosity;
- the inventory: the docs' site of tests/unit/test_documented_commands.py (two pairs, witness qw1, VMs web1,
  db1, app1) with its secrets in ``group_vars/vmpair_pairs/vault.yml`` encrypted as a whole file, so a job
  without the vault password cannot read a pair host's variables. Its hosts do not answer (ssh to
  127.0.0.1 port 1). (AWX itself imports an inventory into its database and gives the job a generated
  inventory script; a file inventory with a vaulted vars file is the harder case for the vault credential.)

What each launch must do (test_the_template_launches[NAME]):

- a template whose playbook runs on the control node only (check_site.yml): the job is ``successful``
  (rc 0) with the site's verdict, CONTROL_NODE;
- every other template: the job gets through its playbook's checks on the controller, the site model's
  validation (``duplex.vmpair.site_model`` ok on the hosts) and the playbook's own refusals of bad
  survey answers, to the hosts: the first task that contacts a host of pair_mail (hv-east, hv-west) finds
  it UNREACHABLE (event ``runner_on_unreachable``, after its site_model task); no task failed (no
  ``runner_on_failed`` event), the output has no "is not a variable", no vault error and no undefined
  variable, and the job ends ``failed`` with ansible-playbook's code for unreachable hosts, 4.

test_deploy_in_check_mode_with_a_limit_as_docs_awx_md_says launches "vmpair deploy site" with the launch
prompts docs/awx.md suggests (job type check, show changes, limit pair_mail:qw1), each only where the template
asks for it on launch.

The negative tests launch broken copies of a template: without the vault credential, with a survey
answer the playbook refuses, with a playbook that is not in the project. Each must fail those checks.
The container lab (molecule/default) does not launch the templates: this is the offline half.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os
import re
import sys

import ansible_runner
import pytest
import yaml

from ansible_collections.duplex.vmpair.tests.unit.plugins.action.test_site_model import REPO_ROOT, ansible_env
from ansible_collections.duplex.vmpair.tests.unit.test_awx import (
    AWX,
    MACHINE_CREDENTIAL,
    VAULT_CREDENTIAL,
    job_templates,
)
from ansible_collections.duplex.vmpair.tests.unit.test_documented_commands import documented_site

TEMPLATES = {t["name"]: t for t in job_templates()["controller_templates"]}
# The answer an operator types for a required text question without a default, by variable, on the docs' site.
ANSWERS = {"vms": "web1", "vm": "web1", "survivor": "hv-east", "host": "hv-east"}
# The user of the machine credential ("vmpair hosts"): AWX gives it as -u.
MACHINE_USER = "root"
# Templates whose playbook runs on the control node only: {playbook: the last line of its verdict}.
CONTROL_NODE = {
    "check_site.yml": "PASSED: 0 error(s), 0 warning(s); 2 pair(s) checked (0 with errors, 0 with warnings), "
    "1 witness(es), 3 VM(s).",
}
# What AWX adds to every job's extra variables (awx_meta_vars), with the tower_ names of older releases.
AWX_META = {"job_id": 42, "job_launch_type": "manual", "user_name": "admin", "inventory_name": "vmpair site"}
# Text that a job which got through its checks never shows.
NEVER_SHOWN = (
    "is not a variable",
    "Decryption failed",
    "no vault secrets",
    "is undefined",
    "undefined variable",
)
# An error of ansible-playbook itself (2.17: "ERROR! ...", 2.19: "[ERROR]: ..."), except a host that does not answer.
PLAYBOOK_ERROR = re.compile(r"^(?:ERROR!|\[ERROR\]:) (?!Task failed: Failed to connect to the host).*$", re.M)
UNREACHABLE_EXIT = 4  # ansible-playbook's exit code when hosts were unreachable


class Unsafe(str):
    """A string AWX writes as !unsafe into env/extravars: Ansible never templates it."""


yaml.SafeDumper.add_representer(Unsafe, lambda dumper, value: dumper.represent_scalar("!unsafe", str(value)))


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


def job_cmdline(template):
    """The options AWX's RunJob.build_args gives ansible-playbook for the template."""
    credentials = template.get("credentials") or []
    args = []
    if MACHINE_CREDENTIAL in credentials:
        args += ["-u", MACHINE_USER]
    if template.get("become_enabled"):
        args.append("--become")
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


def write_job(template, pdd):
    """The private data directory of the template's job: project, collections, env/extravars."""
    pdd.mkdir(parents=True)
    (pdd / "project").symlink_to(AWX)
    collection = pdd / "requirements_collections" / "ansible_collections" / "duplex"
    collection.mkdir(parents=True)
    (collection / "vmpair").symlink_to(REPO_ROOT)
    (pdd / "env").mkdir()
    (pdd / "env" / "extravars").write_text(yaml.safe_dump(job_extra_vars(template), sort_keys=False))


class Launched(object):
    """One job: its ansible-runner result, events and output."""

    def __init__(self, template, runner):
        self.template, self.status, self.rc = template, runner.status, runner.rc
        self.events = list(runner.events)
        self.out = runner.stdout.read()

    def tasks(self, event, action=None):
        """[(counter, host, task name, play name)] of the events of a kind (and a task action)."""
        found = []
        for e in self.events:
            data = e.get("event_data") or {}
            if e["event"] == event and (action is None or data.get("task_action") == action):
                found.append((e["counter"], data.get("host"), data.get("task"), data.get("play")))
        return found

    def failures(self):
        return [
            "%s on %s: %s"
            % (e["event_data"].get("task"), e["event_data"].get("host"), e["event_data"]["res"].get("msg"))
            for e in self.events
            if e["event"] == "runner_on_failed"
        ]

    def __str__(self):
        return "%s (%s): status %s, rc %s\n%s" % (
            self.template["name"],
            self.template["playbook"],
            self.status,
            self.rc,
            self.out[-6000:],
        )


@pytest.fixture(scope="module")
def launch(tmp_path_factory):
    """launch(template) -> Launched: the template's job, run once per template name, on the docs' site."""
    base = tmp_path_factory.mktemp("awx")
    env = ansible_env(base)
    layouts, password_file = documented_site(base, env)
    with open(password_file) as handle:
        vault_password = handle.read().strip()
    inventory = str(layouts["vaulted"] / "inventory.yml")
    done = {}

    def run(template):
        if template["name"] in done:
            return done[template["name"]]
        pdd = base / "jobs" / re.sub(r"\W+", "_", template["name"])
        write_job(template, pdd)
        envvars = {
            # RunJob.build_env: the job's environment (colour off here, for the assertions on the output)
            "ANSIBLE_COLLECTIONS_PATH": str(pdd / "requirements_collections"),
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
            # the ansible-core of the tests' Python, as the EE's is the one on its PATH
            "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
        }
        runner = ansible_runner.run(
            private_data_dir=str(pdd),
            playbook=template["playbook"],
            inventory=inventory,
            cmdline=" ".join(job_cmdline(template)),
            passwords={r"Vault password:\s*?$": vault_password},
            envvars=envvars,
            process_isolation=False,
            quiet=True,
            timeout=300,
        )
        done[template["name"]] = Launched(template, runner)
        return done[template["name"]]

    return run


def assert_completes(job, verdict):
    """A control-node job: successful, with the verdict."""
    assert (job.status, job.rc) == ("successful", 0), str(job)
    assert verdict in job.out, str(job)
    assert job.tasks("runner_on_unreachable") == [] and job.failures() == [], str(job)


def assert_reaches_the_hosts(job):
    """A job on hosts: through the controller's checks to the hosts of pair_mail, which do not answer."""
    shown = [text for text in NEVER_SHOWN if text in job.out] + PLAYBOOK_ERROR.findall(job.out)
    assert shown == [], "%s\n%s" % (shown, job)
    assert job.failures() == [], "%s\n%s" % (job.failures(), job)
    validated = job.tasks("runner_on_ok", "duplex.vmpair.site_model")
    assert validated, "the site model's validation never passed:\n%s" % job
    first_validated = {}
    for counter, host, _task, _play in validated:
        first_validated.setdefault(host, counter)
    unreachable = [
        (host, task)
        for counter, host, task, _play in job.tasks("runner_on_unreachable")
        if host in ("hv-east", "hv-west") and counter > first_validated.get(host, float("inf"))
    ]
    assert unreachable, "no host of pair_mail was contacted after its validation:\n%s" % job
    assert (job.status, job.rc) == ("failed", UNREACHABLE_EXIT), str(job)


def broken(name, **changes):
    """A copy of a template with changes; a change given as a function gets the copy's value."""
    template = copy.deepcopy(TEMPLATES[name])
    for key, change in changes.items():
        template[key] = change(template[key]) if callable(change) else change
    template["name"] += " (broken: %s)" % ", ".join(sorted(changes))
    return template


def test_every_template_is_launched_here():
    listed = [t["name"] for t in job_templates()["controller_templates"]]
    assert sorted(TEMPLATES) == sorted(listed) and len(listed) == len(TEMPLATES)
    assert listed, "awx/job_templates.yml has no templates"
    for template in TEMPLATES.values():
        assert os.path.isfile(os.path.join(AWX, template["playbook"])), template["name"]


def test_a_job_is_built_as_awx_builds_it():
    validate = TEMPLATES["vmpair validate"]
    assert job_cmdline(validate) == ["-u", MACHINE_USER, "--become", "--ask-vault-pass"]
    assert job_cmdline(TEMPLATES["vmpair check site"]) == ["--ask-vault-pass"]
    assert job_cmdline(dict(validate, job_type="check", limit="pair_mail:qw1", diff_mode=True)) == [
        "-u",
        MACHINE_USER,
        "--become",
        "--diff",
        "--limit",
        "pair_mail:qw1",
        "--check",
        "--ask-vault-pass",
    ]
    extra = job_extra_vars(dict(validate, extra_vars={"vmpair_validate_json_report": "out/v.json"}))
    assert extra["vmpair_validate_fail_on"] == "warning" and isinstance(extra["vmpair_validate_fail_on"], Unsafe)
    assert not isinstance(extra["vmpair_validate_json_report"], Unsafe)  # the template's own: Jinja allowed
    assert extra["awx_job_template_name"] == extra["tower_job_template_name"] == "vmpair validate"
    assert "!unsafe 'warning'" in yaml.safe_dump(extra)
    # Required questions without a default get an answer; optional ones without a default are left out.
    move = job_extra_vars(TEMPLATES["vmpair move VM"])
    assert (move["vm"], move["failover_timeout"], "to" in move) == ("web1", 300, False)
    split = job_extra_vars(TEMPLATES["vmpair recover split-brain"])
    assert (split["vm"], split["survivor"], split["confirm"]) == ("web1", "hv-east", "no")
    # AWX refuses a launch whose answers break the survey's rules.
    assert survey_errors({"variable": "n", "type": "integer", "min": 30}, 10) == ["n: 10 is below the minimum 30"]
    assert survey_errors({"variable": "c", "type": "multiplechoice", "choices": ["a"]}, "b")
    with pytest.raises(AssertionError, match="AWX refuses the launch"):
        job_extra_vars(broken("vmpair validate", survey_spec=lambda s: dict(s, spec=[dict(s["spec"][0], default="x")])))


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_the_template_launches(name, launch):
    template = TEMPLATES[name]
    job = launch(template)
    if template["playbook"] in CONTROL_NODE:
        assert_completes(job, CONTROL_NODE[template["playbook"]])
    else:
        assert_reaches_the_hosts(job)


def prompted(name, **prompts):
    """The template launched with answers to its launch prompts (job_type, limit, diff_mode...): AWX takes a
    prompt only where the template asks for it (ask_<field>_on_launch)."""
    template = copy.deepcopy(TEMPLATES[name])
    for field, value in prompts.items():
        assert template.get("ask_%s_on_launch" % field), "%s does not ask for %s on launch" % (name, field)
        template[field] = value
    template["name"] += " (launched with %s)" % ", ".join("%s=%s" % item for item in sorted(prompts.items()))
    return template


def test_deploy_in_check_mode_with_a_limit_as_docs_awx_md_says(launch):
    """docs/awx.md, step 7: job type "Check" with "Show changes" first; the limit takes whole pairs and their
    witness (pair_mail:qw1)."""
    template = prompted("vmpair deploy site", job_type="check", diff_mode=True, limit="pair_mail:qw1")
    assert job_cmdline(template)[-5:] == ["--diff", "--limit", "pair_mail:qw1", "--check", "--ask-vault-pass"]
    job = launch(template)
    assert_reaches_the_hosts(job)
    assert {host for _c, host, _t, _p in job.tasks("runner_on_unreachable")} <= {"hv-east", "hv-west", "qw1"}, str(job)


@pytest.mark.parametrize(
    "name, error",
    [
        # Ansible cannot build the first task's variables on a pair host: the play stops at once.
        ("vmpair validate", "Attempting to decrypt but no vault secrets found"),
        # check_site reads the hosts' variables itself and names the file it could not read.
        ("vmpair check site", "vault.yml is encrypted with ansible-vault as a whole file"),
    ],
)
def test_a_template_without_the_vault_credential_fails(name, error, launch):
    template = broken(name, credentials=lambda c: [x for x in c if x != VAULT_CREDENTIAL])
    assert "--ask-vault-pass" not in job_cmdline(template)
    job = launch(template)
    with pytest.raises(AssertionError):
        if template["playbook"] in CONTROL_NODE:
            assert_completes(job, CONTROL_NODE[template["playbook"]])
        else:
            assert_reaches_the_hosts(job)
    assert error in job.out, str(job)


def test_a_survey_answer_the_playbook_refuses_fails(launch):
    def warnings_not_warning(survey):
        question = dict(survey["spec"][0], choices=["warnings"], default="warnings")
        return dict(survey, spec=[question])

    job = launch(broken("vmpair validate", survey_spec=warnings_not_warning))
    with pytest.raises(AssertionError, match="Refuse an unknown vmpair_validate_fail_on"):
        assert_reaches_the_hosts(job)


def test_a_template_whose_playbook_is_not_in_the_project_fails(launch):
    job = launch(broken("vmpair validate", playbook="validation.yml"))
    with pytest.raises(AssertionError):
        assert_reaches_the_hosts(job)
    assert "the playbook: validation.yml could not be found" in job.out, str(job)
    assert job.rc not in (0, UNREACHABLE_EXIT), str(job)
