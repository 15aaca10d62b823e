# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The AWX project (awx/) and the execution environment files against the collection's playbooks.

Every playbook in playbooks/ needs a wrapper in awx/ and a job template in awx/job_templates.yml, so
a new playbook fails here until it has both. Templates and schedules use only options of the
awx.awx modules; every survey variable is read by the playbook it launches (or a role it runs);
a limit is offered when the playbook targets inventory hosts; the "check" job type is offered when
every task of the playbook declares check mode support. tests/integration/ee/run.sh (make ee)
builds the execution environment and runs the wrappers in it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import re
import subprocess
import sys
import zipfile

import pytest
import yaml

from ansible_collections.duplex.vmpair.plugins.module_utils.site import base as site_base
from ansible_collections.duplex.vmpair.plugins.plugin_utils.site import model as site_model
from ansible_collections.duplex.vmpair.tests.lab.awxjob import AWX, MACHINE_CREDENTIAL, VAULT_CREDENTIAL, job_templates
from ansible_collections.duplex.vmpair.tests.unit import sitedata
from ansible_collections.duplex.vmpair.tests.unit.collection_artifact import REPO_ROOT, artifact_names

PLAYBOOKS = os.path.join(REPO_ROOT, "playbooks")
NAMESPACE = "duplex.vmpair."
SURVEY_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}
# Keys of a task that are not its module (ansible-core's task keywords, plus blocks and handlers).
TASK_KEYWORDS = {
    "action", "any_errors_fatal", "args", "async", "become", "become_exe", "become_flags", "become_method",
    "become_user", "changed_when", "check_mode", "collections", "connection", "debugger", "delay",
    "delegate_facts", "delegate_to", "diff", "environment", "failed_when", "ignore_errors",
    "ignore_unreachable", "listen", "local_action", "loop", "loop_control", "module_defaults", "name",
    "no_log", "notify", "poll", "port", "register", "remote_user", "retries", "run_once", "tags",
    "throttle", "timeout", "until", "vars", "when", "block", "rescue", "always",
}  # fmt: skip
INCLUDES = {"include_tasks", "import_tasks", "include_role", "import_role"}


def load(path):
    with open(path) as fh:
        return yaml.safe_load(fh)


def collection_playbooks():
    return sorted(os.path.basename(p)[: -len(".yml")] for p in glob.glob(os.path.join(PLAYBOOKS, "*.yml")))


def imported(play):
    return play.get("ansible.builtin.import_playbook", play.get("import_playbook"))


def wrappers():
    """{file name: parsed plays} of the awx/ playbooks that import a playbook."""
    found = {}
    for path in sorted(glob.glob(os.path.join(AWX, "*.yml"))):
        data = load(path)
        if isinstance(data, list) and any(isinstance(p, dict) and imported(p) for p in data):
            found[os.path.basename(path)] = data
    return found


def templates_for(playbook):
    return [t for t in job_templates()["controller_templates"] if t["playbook"] == playbook + ".yml"]


def short(name):
    return name.split(".")[-1]


# ----------------------------------------------------------------------------- playbook analysis
def iter_tasks(tasks):
    for task in tasks or []:
        if not isinstance(task, dict):
            continue
        if "block" in task:
            for key in ("block", "rescue", "always"):
                yield from iter_tasks(task.get(key))
        else:
            yield task


def module_of(task):
    keys = [k for k in task if k not in TASK_KEYWORDS and not k.startswith("with_")]
    assert len(keys) == 1, "cannot tell the module of task %r (keys %s)" % (task.get("name"), keys)
    return keys[0] if "." in keys[0] else "ansible.builtin." + keys[0]


def role_files(role):
    """Task and handler files of a role of this collection (every file: includes stay in the role)."""
    assert role.startswith(NAMESPACE), "role %s is not called by its FQCN duplex.vmpair.<role>" % role
    base = os.path.join(REPO_ROOT, "roles", short(role))
    assert os.path.isdir(base), "role %s does not exist in roles/" % role
    return sorted(glob.glob(os.path.join(base, "tasks", "*.yml")) + glob.glob(os.path.join(base, "handlers", "*.yml")))


def role_name(entry):
    return entry if isinstance(entry, str) else entry.get("role", entry.get("name"))


def playbook_plays(name):
    """The plays of a collection playbook, with its own imports of collection playbooks inlined."""
    plays = []
    for play in load(os.path.join(PLAYBOOKS, name + ".yml")):
        target = imported(play)
        plays.extend(playbook_plays(short(target)) if target else [play])
    return plays


def playbook_tasks(name):
    """(task, file) for every task the playbook runs: its plays and the roles they run."""
    found = []
    roles_seen = set()
    files_seen = set()

    def add_role(role):
        if role in roles_seen:
            return
        roles_seen.add(role)
        for path in role_files(role):
            add_tasks(load(path), path)

    def add_tasks(tasks, path):
        for task in iter_tasks(tasks):
            found.append((task, path))
            module = short(module_of(task))
            args = task[next(k for k in task if short(k) == module)]
            if module in ("include_role", "import_role"):
                add_role(args["name"])
            elif module in ("include_tasks", "import_tasks"):
                # A playbook's own task files (playbooks/tasks/), found beside the including file;
                # a templated name is the user's own file (rolling_update's update tasks).
                included = args if isinstance(args, str) else args.get("file")
                if "{{" not in included:
                    add_file(os.path.join(os.path.dirname(path), included))

    def add_file(path):
        path = os.path.normpath(path)
        if path not in files_seen:
            files_seen.add(path)
            add_tasks(load(path), path)

    for play in playbook_plays(name):
        for key in ("pre_tasks", "tasks", "post_tasks", "handlers"):
            add_tasks(play.get(key), os.path.join(PLAYBOOKS, name + ".yml"))
        for entry in play.get("roles") or []:
            add_role(role_name(entry))
    return found, sorted(roles_seen)


def reads_variable(name, variable):
    """Whether the playbook or a role it runs mentions the variable outside comments."""
    tasks, roles = playbook_tasks(name)
    paths = sorted({os.path.join(PLAYBOOKS, name + ".yml")} | {path for _task, path in tasks})
    for role in roles:
        base = os.path.join(REPO_ROOT, "roles", short(role))
        paths += [p for p in glob.glob(os.path.join(base, "**", "*"), recursive=True) if os.path.isfile(p)]
    pattern = re.compile(r"\b%s\b" % re.escape(variable))
    for path in paths:
        with open(path, errors="replace") as fh:
            text = "\n".join(line for line in fh.read().splitlines() if not line.lstrip().startswith("#"))
        if pattern.search(text):
            return True
    return False


def targets_inventory_hosts(name):
    return any(str(play.get("hosts", "")).strip() not in ("localhost", "127.0.0.1") for play in playbook_plays(name))


@pytest.fixture(scope="module")
def check_mode_support(tmp_path_factory):
    """{module FQCN: check_mode support} from ansible-doc, for every module the playbooks use."""
    modules = set()
    for name in collection_playbooks():
        modules.update(module_of(task) for task, _path in playbook_tasks(name)[0])
    collections = tmp_path_factory.mktemp("collections")
    (collections / "ansible_collections" / "duplex").mkdir(parents=True)
    (collections / "ansible_collections" / "duplex" / "vmpair").symlink_to(REPO_ROOT)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections))
    ansible_doc = os.path.join(os.path.dirname(sys.executable), "ansible-doc")
    proc = subprocess.run(
        [ansible_doc, "-t", "module", "-j", *sorted(modules)], env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    docs = json.loads(proc.stdout)
    missing = sorted(modules - set(docs))
    assert not missing, "ansible-doc knows no module %s" % missing
    return {m: docs[m]["doc"].get("attributes", {}).get("check_mode", {}).get("support", "none") for m in modules}


def check_mode_blocker(task, path, support):
    """Why the task would not behave in check mode, or None."""
    module = module_of(task)
    if short(module) in INCLUDES or support.get(module) in ("full", "partial", "N/A"):
        return None
    # A task that runs for real in check mode is fine only as a read-only probe.
    if task.get("check_mode") is False and task.get("changed_when") is False:
        return None
    return "%s: task %r uses %s (check_mode support: %s)" % (
        os.path.relpath(path, REPO_ROOT),
        task.get("name"),
        module,
        support.get(module, "unknown"),
    )


def check_mode_blockers(name, support):
    """Tasks of the playbook that would not behave in check mode, as readable strings."""
    found = (check_mode_blocker(task, path, support) for task, path in playbook_tasks(name)[0])
    return [b for b in found if b]


# ----------------------------------------------------------------------------- wrappers
def test_the_collection_has_playbooks():
    assert {"check_site", "site", "validate"} <= set(collection_playbooks())


@pytest.mark.parametrize("name", collection_playbooks())
def test_every_playbook_has_a_wrapper(name):
    path = os.path.join(AWX, name + ".yml")
    assert os.path.isfile(path), (
        "playbooks/%s.yml has no AWX wrapper: add awx/%s.yml with one play "
        "'ansible.builtin.import_playbook: duplex.vmpair.%s' and a job template in awx/job_templates.yml"
        % (name, name, name)
    )
    plays = load(path)
    assert isinstance(plays, list) and len(plays) == 1, "awx/%s.yml must hold exactly one import" % name
    assert plays[0].get("name"), "awx/%s.yml: give the import a name" % name
    assert imported(plays[0]) == NAMESPACE + name, "awx/%s.yml must import %s%s, not %r" % (
        name,
        NAMESPACE,
        name,
        imported(plays[0]),
    )


def test_every_wrapper_imports_an_existing_playbook():
    playbooks = set(collection_playbooks())
    found = wrappers()
    assert found, "no wrapper playbook in awx/"
    for filename, plays in found.items():
        for play in plays:
            target = imported(play)
            assert target and target.startswith(NAMESPACE), "awx/%s: %r is not a duplex.vmpair playbook" % (
                filename,
                target,
            )
            assert short(target) in playbooks, "awx/%s imports %s, which is not in playbooks/" % (filename, target)


# ----------------------------------------------------------------------------- job templates
@pytest.mark.parametrize("name", collection_playbooks())
def test_every_playbook_has_a_job_template(name):
    assert templates_for(name), (
        "playbooks/%s.yml has no job template: add one with 'playbook: %s.yml' to awx/job_templates.yml" % (name, name)
    )


def test_every_template_launches_a_wrapper():
    found = wrappers()
    names = [t["name"] for t in job_templates()["controller_templates"]]
    assert len(names) == len(set(names)), "job template names must be unique: %s" % names
    for template in job_templates()["controller_templates"]:
        assert template["playbook"] in found, "job template %r launches %s, which is not a wrapper in awx/" % (
            template["name"],
            template["playbook"],
        )


def awx_module_options(module):
    """Option names (with aliases) of an awx.awx module, read from the ansible wheel `make collections` fetched."""
    wheels = sorted(glob.glob(os.path.join(REPO_ROOT, ".build", "download", "ansible-*.whl")))
    if not wheels:
        pytest.skip("no ansible wheel in .build/download (make collections downloads it)")
    with zipfile.ZipFile(wheels[-1]) as wheel:
        source = wheel.read("ansible_collections/awx/awx/plugins/modules/%s.py" % module).decode()
    match = re.search(r"^DOCUMENTATION = r?('{3}|\"{3})(.*?)\1", source, re.S | re.M)
    doc = yaml.safe_load(match.group(2))
    options = set()
    for option, spec in doc["options"].items():
        options.add(option)
        options.update(spec.get("aliases") or [])
    return options


def test_templates_use_job_template_options_only():
    options = awx_module_options("job_template")
    for template in job_templates()["controller_templates"]:
        unknown = sorted(set(template) - options)
        assert not unknown, "job template %r: %s are not options of awx.awx.job_template" % (template["name"], unknown)
        assert template.get("job_type", "run") == "run", (
            "job template %r: the default job type is run" % (template["name"])
        )


def test_schedules_name_templates_and_use_schedule_options_only():
    options = awx_module_options("schedule")
    data = job_templates()
    names = {t["name"] for t in data["controller_templates"]}
    assert data.get("controller_schedules"), "awx/job_templates.yml has no schedule example"
    for schedule in data["controller_schedules"]:
        unknown = sorted(set(schedule) - options)
        assert not unknown, "schedule %r: %s are not options of awx.awx.schedule" % (schedule["name"], unknown)
        assert schedule["unified_job_template"] in names, "schedule %r runs %r, which is not a job template" % (
            schedule["name"],
            schedule["unified_job_template"],
        )
        assert re.match(r"^DTSTART[;:].* RRULE:FREQ=", schedule["rrule"]), "schedule %r: bad rrule %r" % (
            schedule["name"],
            schedule["rrule"],
        )
    validate = [t["name"] for t in templates_for("validate")]
    assert any(s["unified_job_template"] in validate for s in data["controller_schedules"]), "no schedule for validate"


def test_the_hourly_validate_pages_only_when_protection_is_gone_and_a_daily_one_catches_the_rest():
    """A normal resync is a warning: the hourly job runs at critical so it stays green through one (its
    extra_data answers the survey question); a daily one at warning catches a cut link."""
    data = job_templates()
    validate = templates_for("validate")[0]
    asked = {q["variable"]: q for q in validate["survey_spec"]["spec"]}
    levels = {}
    for schedule in data["controller_schedules"]:
        if schedule["unified_job_template"] != validate["name"]:
            continue
        extra = schedule.get("extra_data") or {}
        assert set(extra) <= set(asked), "schedule %r: extra_data %s is not asked by the survey" % (
            schedule["name"],
            extra,
        )
        level = extra.get("vmpair_validate_fail_on", asked["vmpair_validate_fail_on"]["default"])
        assert level in asked["vmpair_validate_fail_on"]["choices"]
        levels[re.search(r"FREQ=(\w+)", schedule["rrule"]).group(1)] = level
    assert levels == {"HOURLY": "critical", "DAILY": "warning"}


def test_the_documented_notification_uses_the_awx_modules_options():
    """docs/awx.md: the notification on failure of the scheduled validate, as awx.awx tasks; the collection
    itself configures none (its data has no notification), which the docs must say."""
    with open(os.path.join(REPO_ROOT, "docs", "awx.md")) as fh:
        text = fh.read()
    section = text[text.index("### A notification when the scheduled validate fails") :]
    assert "The collection does\nnot configure one" in section
    tasks = yaml.safe_load(re.search(r"```yaml\n(.*?)```", section, re.S).group(1))
    used = {}
    for task in tasks:
        module = [k for k in task if k.startswith("awx.awx.")][0]
        used.setdefault(module, []).append(task[module])
    assert sorted(used) == ["awx.awx.job_template", "awx.awx.notification_template"]
    for module, calls in used.items():
        options = awx_module_options(module.split(".")[-1])
        for args in calls:
            assert not set(args) - options, "%s: %s are not options" % (module, sorted(set(args) - options))
    types = [args["notification_type"] for args in used["awx.awx.notification_template"]]
    assert types == ["email", "webhook"]
    attach = used["awx.awx.job_template"][0]
    assert attach["name"] in [t["name"] for t in templates_for("validate")]
    assert attach["notification_templates_error"][0] == used["awx.awx.notification_template"][0]["name"]
    assert not [k for k in job_templates() if "notification" in k], "the data defines a notification: fix docs/awx.md"


# ----------------------------------------------------------------------------- surveys
def surveys():
    for template in job_templates()["controller_templates"]:
        spec = (template.get("survey_spec") or {}).get("spec") or []
        yield template, spec


def test_surveys_are_well_formed():
    for template, spec in surveys():
        where = "job template %r" % template["name"]
        assert bool(template.get("survey_enabled")) == bool(spec), "%s: survey_enabled must match the survey" % where
        if not spec:
            continue
        assert template["survey_spec"].get("name") and "description" in template["survey_spec"], where
        variables = [q["variable"] for q in spec]
        assert len(variables) == len(set(variables)), "%s: a variable is asked twice: %s" % (where, variables)
        for question in spec:
            q = "%s, question %r" % (where, question.get("question_name"))
            assert question.get("question_name") and question.get("question_description"), q
            assert re.match(r"^[a-z_][a-z0-9_]*$", question["variable"]), "%s: bad variable name" % q
            assert question["type"] in SURVEY_TYPES, "%s: type %r" % (q, question["type"])
            assert isinstance(question.get("required"), bool), "%s: required must be true or false" % q
            if question["type"] in ("multiplechoice", "multiselect"):
                choices = question.get("choices")
                assert isinstance(choices, list) and choices and all(isinstance(c, str) for c in choices), q
                default = question.get("default")
                defaults = str(default).split("\n") if default not in (None, "") else []
                assert defaults or not question["required"], "%s: a required choice needs a default" % q
                assert set(defaults) <= set(choices), "%s: default %r is not a choice" % (q, question.get("default"))


@pytest.mark.parametrize("name", collection_playbooks())
def test_survey_variables_are_read_by_the_playbook(name):
    for template in templates_for(name):
        for question in (template.get("survey_spec") or {}).get("spec") or []:
            assert reads_variable(name, question["variable"]), (
                "job template %r asks for %r, but neither playbooks/%s.yml nor a role it runs reads it"
                % (template["name"], question["variable"], name)
            )


def test_the_protect_survey_offers_exactly_the_levels_check_site_accepts():
    """The survey's Level, check_site and protect.yml's -e level (the same rule, in the site_model action) agree:
    each level offered passes check_site as a VM's level, each level of the vocabulary not offered (ft) fails it."""
    (template,) = templates_for("protect")
    (question,) = [q for q in template["survey_spec"]["spec"] if q["variable"] == "level"]
    assert sorted(question["choices"]) == sorted(site_base.SERVED_LEVELS)
    for level in site_base.LEVELS:
        pairs, witnesses, hostvars = sitedata.site()
        sitedata.set_pair_var(hostvars, "vmpair_vms", [{"name": "web1", "level": level}])
        errors = [str(p) for p in site_model.check_site(pairs, witnesses, hostvars).errors]
        if level in question["choices"]:
            assert errors == [], "the survey offers level %s, which check_site refuses: %s" % (level, errors)
        else:
            assert [e for e in errors if "vmpair_vms[web1].level" in e], (
                "the survey leaves out level %s, which check_site accepts" % level
            )


# ----------------------------------------------------------------------------- limit, check mode
@pytest.mark.parametrize("name", collection_playbooks())
def test_limit_is_offered_where_it_fits(name):
    fits = targets_inventory_hosts(name)
    for template in templates_for(name):
        assert bool(template.get("ask_limit_on_launch")) == fits, (
            "job template %r: ask_limit_on_launch should be %s: playbooks/%s.yml %s"
            % (
                template["name"],
                fits,
                name,
                "runs on inventory hosts" if fits else "runs on localhost only, so a limit would match nothing",
            )
        )


@pytest.mark.parametrize("name", collection_playbooks())
def test_check_mode_is_offered_where_the_playbook_supports_it(name, check_mode_support):
    blockers = check_mode_blockers(name, check_mode_support)
    for template in templates_for(name):
        offered = bool(template.get("ask_job_type_on_launch"))
        if blockers:
            assert not offered, "job template %r offers check mode, but: %s" % (template["name"], "; ".join(blockers))
        else:
            assert offered, (
                "job template %r: every task of playbooks/%s.yml supports check mode: set ask_job_type_on_launch: true"
                % (template["name"], name)
            )


def test_check_mode_analysis_finds_a_task_without_support():
    """The analysis itself: a module without check mode support blocks; a read-only probe does not."""
    support = {"ansible.builtin.copy": "full", "ansible.builtin.command": "partial", "duplex.vmpair.writer": "none"}
    path = os.path.join(PLAYBOOKS, "x.yml")
    assert check_mode_blocker({"name": "c", "ansible.builtin.copy": {}}, path, support) is None
    assert check_mode_blocker({"name": "c", "command": "true"}, path, support) is None
    blocker = check_mode_blocker({"name": "w", "duplex.vmpair.writer": {}, "when": "x"}, path, support)
    assert blocker == "playbooks/x.yml: task 'w' uses duplex.vmpair.writer (check_mode support: none)"
    probe = {"name": "p", "duplex.vmpair.writer": {}, "check_mode": False, "changed_when": False}
    assert check_mode_blocker(probe, path, support) is None
    assert check_mode_blocker({"name": "u", "community.x.y": {}}, path, support).endswith("support: unknown)")


# ----------------------------------------------------------------------------- credentials, privilege escalation
LOCAL_HOSTS = ("localhost", "127.0.0.1")


def test_every_template_has_the_vault_credential():
    """Every playbook reads the inventory's variables (check_site too): a vaulted file needs the password."""
    missing = [
        t["name"]
        for t in job_templates()["controller_templates"]
        if VAULT_CREDENTIAL not in (t.get("credentials") or [])
    ]
    assert not missing, "job templates without the vault credential %r: %s" % (VAULT_CREDENTIAL, missing)


@pytest.mark.parametrize("name", collection_playbooks())
def test_machine_credential_and_become_where_the_playbook_runs_on_hosts(name):
    """The playbooks need root on the hosts and set no become: the template must escalate, so that a
    machine credential for a user with sudo works. A playbook on the control node only needs neither
    (become there would run sudo inside the execution environment)."""
    on_hosts = targets_inventory_hosts(name)
    for template in templates_for(name):
        credentials = template.get("credentials") or []
        assert (MACHINE_CREDENTIAL in credentials) == on_hosts, "job template %r: the machine credential %r %s" % (
            template["name"],
            MACHINE_CREDENTIAL,
            "is missing" if on_hosts else "is useless on the control node",
        )
        assert template.get("become_enabled", False) is on_hosts, (
            "job template %r: become_enabled should be %s: playbooks/%s.yml %s"
            % (
                template["name"],
                on_hosts,
                name,
                "needs root on the hosts" if on_hosts else "runs on the control node only",
            )
        )


@pytest.mark.parametrize("name", collection_playbooks())
def test_control_node_tasks_do_not_become_under_a_become_template(name):
    """With privilege escalation on, a task delegated to localhost would run sudo on the control node."""
    if not any(t.get("become_enabled") for t in templates_for(name)):
        pytest.skip("no job template of playbooks/%s.yml escalates" % name)
    for play in playbook_plays(name):
        if str(play.get("hosts", "")).strip() in LOCAL_HOSTS:
            assert play.get("become") is False, "playbooks/%s.yml: play %r on localhost needs become: false" % (
                name,
                play.get("name"),
            )
    for task, path in playbook_tasks(name)[0]:
        local = str(task.get("delegate_to", "")).strip() in LOCAL_HOSTS or "local_action" in task
        if local:
            assert task.get("become") is False, "%s: task %r runs on the control node: set become: false" % (
                os.path.relpath(path, REPO_ROOT),
                task.get("name"),
            )


# ----------------------------------------------------------------------------- EE files
def test_meta_execution_environment_points_at_the_requirements():
    meta = load(os.path.join(REPO_ROOT, "meta", "execution-environment.yml"))
    assert meta["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}
    with open(os.path.join(REPO_ROOT, "requirements.txt")) as fh:
        reqs = [line.strip() for line in fh if line.strip() and not line.lstrip().startswith("#")]
    assert reqs, "requirements.txt lists nothing"
    for req in reqs:
        assert re.match(r"^[A-Za-z0-9_.-]+>=[0-9][0-9.]*$", req), (
            "requirements.txt: %r must be a lower bound (name>=version), never a pin or an upper bound" % req
        )
        assert not req.lower().startswith(("ansible-core", "ansible>")), "ansible-core comes with the EE, not from here"
    with open(os.path.join(REPO_ROOT, "bindep.txt")) as fh:
        bindep = [line.strip() for line in fh if line.strip() and not line.lstrip().startswith("#")]
    assert bindep and all(re.match(r"^[a-z0-9.+-]+ \[platform:(dpkg|rpm)\]$", line) for line in bindep), bindep


def test_example_ee_and_navigator_settings_agree():
    ee = load(os.path.join(REPO_ROOT, "ee", "execution-environment.yml"))
    assert ee["version"] == 3
    assert ee["options"]["package_manager_path"] == "/usr/bin/apt-get"
    collections = ee["dependencies"]["galaxy"]["collections"]
    assert [c["type"] for c in collections] == ["file"]
    assert any(
        os.path.basename(c["name"]) == os.path.basename(f["src"])
        for c in collections
        for f in ee["additional_build_files"]
    )
    navigator = load(os.path.join(AWX, "ansible-navigator.yml"))["ansible-navigator"]
    ee_settings = navigator["execution-environment"]
    assert ee_settings["pull"]["policy"] == "never"
    assert ee_settings["image"] in ["localhost/" + tag for tag in ee["options"]["tags"]], (
        "awx/ansible-navigator.yml runs %s, but ee/execution-environment.yml tags %s"
        % (ee_settings["image"], ee["options"]["tags"])
    )


EE_IMAGE = "duplex-vmpair-ee"
# run.sh builds and removes its own test image (EE_IMAGE, default tag "test"); this file spells the pattern.
EE_NAME_EXEMPT = {"tests/integration/ee/run.sh", "tests/lab/test_awx.py"}


def repository_text_files():
    """(relative path, text) of every text file of the working tree, without hidden folders (.git, .venv, .build,
    lab/.state)."""
    for dirpath, dirnames, filenames in os.walk(REPO_ROOT):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
        for filename in sorted(filenames):
            path = os.path.join(dirpath, filename)
            if not os.path.isfile(path) or os.path.getsize(path) > 2_000_000:
                continue
            with open(path, "rb") as fh:
                data = fh.read()
            if b"\0" not in data:
                yield os.path.relpath(path, REPO_ROOT), data.decode("utf-8", "replace")


def test_every_place_naming_the_ee_image_uses_one_name():
    """One name for the execution environment image: the collection's version as its tag, localhost/ when local."""
    wanted = "%s:%s" % (EE_IMAGE, load(os.path.join(REPO_ROOT, "galaxy.yml"))["version"])
    ee = load(os.path.join(REPO_ROOT, "ee", "execution-environment.yml"))
    assert ee["options"]["tags"] == [wanted], "ee/execution-environment.yml must tag %s" % wanted
    navigator = load(os.path.join(AWX, "ansible-navigator.yml"))["ansible-navigator"]
    assert navigator["execution-environment"]["image"] == "localhost/" + wanted
    pattern = re.compile(r"(?<![\w.-])(?:[\w.-]+/)*%s(?::[\w.-]*\w)?(?![\w-])" % re.escape(EE_IMAGE))
    found = {}
    for path, text in repository_text_files():
        if path not in EE_NAME_EXEMPT:
            for match in pattern.finditer(text):
                found.setdefault(match.group(0), set()).add(path)
    assert len(found) > 1, "the image is named nowhere but in its definition? %s" % found
    wrong = {name: sorted(paths) for name, paths in found.items() if name.rsplit("/", 1)[-1] != wanted}
    assert not wrong, "the EE image is %s (with localhost/ or a registry in front), not: %s" % (wanted, wrong)


def test_the_collection_artifact_carries_the_ee_files_and_no_test_equipment(tmp_path):
    names = artifact_names(tmp_path)
    for wanted in ("meta/execution-environment.yml", "requirements.txt", "bindep.txt", "awx/job_templates.yml",
                   "awx/ansible-navigator.yml", "awx/collections/requirements.yml", "ee/execution-environment.yml",
                   "docs/awx.md"):  # fmt: skip
        assert wanted in names, "%s is missing from the collection artifact (galaxy.yml build_ignore?)" % wanted
    for name in collection_playbooks():
        assert "awx/%s.yml" % name in names, "awx/%s.yml is missing from the collection artifact" % name
    leaked = sorted(n for n in names if n.startswith(("tests/integration", "lab/", "molecule/", ".venv", ".build")))
    assert not leaked, "test equipment in the collection artifact: %s" % leaked[:10]
