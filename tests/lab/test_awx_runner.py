# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every AWX job template of awx/job_templates.yml, launched the way AWX launches it: through ansible-runner.

tests/lab/awxjob.py builds each job as AWX's job runner does (the private data directory with the project
``awx/`` and duplex.vmpair in ``requirements_collections``, the extra variables of the template, its survey
and AWX, the command line of the machine and vault credentials) and runs it with ``ansible_runner.run``;
its docstring says how. Here the inventory is the docs' site of tests/unit/test_documented_commands.py (two
pairs, witness qw1, VMs web1, db1, app1) with its secrets in ``group_vars/vmpair_pairs/vault.yml`` encrypted
as a whole file, so a job without the vault password cannot read a pair host's variables. Its hosts do not
answer (ssh to 127.0.0.1 port 1). (AWX itself imports an inventory into its database and gives the job a
generated inventory script; a file inventory with a vaulted vars file is the harder case for the vault
credential.)

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
This is the offline half: the container lab (molecule/default/user_paths.yml) launches "vmpair validate" and
"vmpair check site" with the same tests/lab/awxjob.py on its deployed pair, where both jobs must succeed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os
import re

import pytest
import yaml

from ansible_collections.duplex.vmpair.tests.lab.awxjob import (
    AWX,
    MACHINE,
    VAULT_CREDENTIAL,
    Unsafe,
    job_cmdline,
    job_extra_vars,
    job_templates,
    run_job,
    survey_errors,
)
from ansible_collections.duplex.vmpair.tests.unit.plugins.action.test_site_model import ansible_env
from ansible_collections.duplex.vmpair.tests.unit.test_documented_commands import documented_site

TEMPLATES = {t["name"]: t for t in job_templates()["controller_templates"]}
MACHINE_USER = MACHINE["username"]
# Templates whose playbook runs on the control node only: {playbook: the last line of its verdict}.
CONTROL_NODE = {
    "check_site.yml": "PASSED: 0 error(s), 0 warning(s); 2 pair(s) checked (0 with errors, 0 with warnings), "
    "1 witness(es), 3 VM(s).",
}
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
        runner = run_job(template, pdd, inventory, vault_password)
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
    # A machine credential that sets its "Privilege Escalation Method".
    su = dict(MACHINE, become_method="su")
    assert job_cmdline(validate, su) == ["-u", MACHINE_USER, "--become", "--become-method", "su", "--ask-vault-pass"]
    assert job_cmdline(TEMPLATES["vmpair check site"], su) == ["--ask-vault-pass"]  # no machine credential
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


def test_status_with_a_limit_that_names_no_pair_fails_naming_vmpair_pairs(launch):
    """ "vmpair status" launched with a limit of the witness alone reads no pair: it must fail, naming the
    group, rather than end green with nothing shown."""
    job = launch(prompted("vmpair status", limit="qw1"))
    assert (job.status, job.rc) == ("failed", 2), str(job)
    assert [f for f in job.failures() if "No pair was read: no host of the group vmpair_pairs" in f], str(job)
    assert job.tasks("runner_on_unreachable") == [], str(job)


def test_status_tries_each_pair_on_its_first_host_then_on_the_peer(launch):
    """The docs' site, whose hosts do not answer: each pair is tried on its first host, then on its peer, each
    once. When no pair host answers at all, Ansible ends the run after that play (every host of the play is
    UNREACHABLE): no table, the recap says it."""
    job = launch(TEMPLATES["vmpair status"])
    assert_reaches_the_hosts(job)
    tried = [(host, task) for _c, host, task, _p in job.tasks("runner_on_unreachable")]
    first = "Read the pair's live state on its first host (changes nothing)"
    peer = "Read it on the peer when the first host did not answer"
    assert sorted(tried) == sorted([("hv-east", first), ("hv-north", first), ("hv-west", peer), ("hv-south", peer)]), (
        str(job)
    )
