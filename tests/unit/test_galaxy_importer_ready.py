# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""What galaxy-importer (the check Galaxy and Automation Hub run on every uploaded collection) needs, where it
is cheap to see: scripts/galaxy-importer.sh (make importer) runs the importer itself.

Every role has a README.md in the artifact (the importer stops at "No role readme found" without one) that
names the role by its FQCN, shows a play that runs it by that name, says where its options are
(meta/argument_specs.yml, docs/), names every option of its main entry point with the default it has there,
and names no variable that does not exist; every role has a description in meta/main.yml. The sanity ignore
files in the artifact name only files of the artifact (ansible-test's `ignores` check fails on the others),
galaxy.yml has a tag from the list Automation Hub requires, and the artifact has a changelog."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

import pytest
import yaml

from ansible_collections.duplex.vmpair.tests.unit.collection_artifact import REPO_ROOT, artifact_names

ROLES = sorted(os.path.basename(p) for p in glob.glob(os.path.join(REPO_ROOT, "roles", "*")) if os.path.isdir(p))
# galaxy_importer/schema.py (0.4.44): with check_required_tags, at least one tag from this list.
REQUIRED_TAGS = {"ai", "application", "cloud", "database", "eda", "infrastructure", "linux", "monitoring",
                 "networking", "security", "storage", "tools", "windows"}  # fmt: skip
# Inventory groups of the site model, not variables.
GROUPS = {"vmpair_pairs", "vmpair_witnesses"}


def read(path):
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def readme(role):
    return os.path.join(REPO_ROOT, "roles", role, "README.md")


def argument_specs(role):
    return yaml.safe_load(read(os.path.join(REPO_ROOT, "roles", role, "meta", "argument_specs.yml")))["argument_specs"]


def yaml_blocks(text):
    return re.findall(r"^```ya?ml\n(.*?)^```", text, re.M | re.S)


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    """The names in the collection tarball that ansible-galaxy builds from this tree."""
    return artifact_names(tmp_path_factory.mktemp("dist"))


def test_the_collection_has_roles():
    assert ROLES, "no role under roles/: the checks below would check nothing"


@pytest.mark.parametrize("role", ROLES)
def test_every_role_has_a_readme_in_the_artifact(role, artifact):
    assert os.path.isfile(readme(role)), (
        "roles/%s has no README.md: galaxy-importer fails the import ('No role readme found.')" % role
    )
    assert "roles/%s/README.md" % role in artifact, "roles/%s/README.md is left out of the artifact" % role


@pytest.mark.parametrize("role", ROLES)
def test_role_readme_names_the_role_by_its_fqcn_and_where_its_options_are(role):
    if not os.path.isfile(readme(role)):
        pytest.fail("roles/%s has no README.md" % role)
    text = read(readme(role))
    title = text.splitlines()[0] if text else ""
    assert title == "# duplex.vmpair.%s" % role, "roles/%s/README.md starts with %r" % (role, title)
    assert "meta/argument_specs.yml" in text, "roles/%s/README.md does not point at meta/argument_specs.yml" % role
    assert "](../../docs/" in text, "roles/%s/README.md links to no page of docs/" % role


@pytest.mark.parametrize("role", ROLES)
def test_role_readme_example_runs_the_role_by_its_fqcn(role):
    if not os.path.isfile(readme(role)):
        pytest.fail("roles/%s has no README.md" % role)
    blocks = yaml_blocks(read(readme(role)))
    assert blocks, "roles/%s/README.md has no ```yaml example" % role
    played = []
    for block in blocks:
        plays = yaml.safe_load(block)
        assert isinstance(plays, list) and plays, "roles/%s/README.md: an example is not a list of plays" % role
        for play in plays:
            assert play.get("name") and play.get("hosts"), "roles/%s/README.md: a play without name or hosts" % role
            for entry in play.get("roles", []):
                name = entry.get("role") if isinstance(entry, dict) else entry
                assert name.startswith("duplex.vmpair."), "roles/%s/README.md plays role %r, not by FQCN" % (role, name)
                played.append(name)
    fqcn = "duplex.vmpair.%s" % role
    assert fqcn in played, "roles/%s/README.md: no example play runs %s" % (role, fqcn)


@pytest.mark.parametrize("role", ROLES)
def test_role_readme_names_every_option_with_its_default_and_no_variable_that_does_not_exist(role):
    if not os.path.isfile(readme(role)):
        pytest.fail("roles/%s has no README.md" % role)
    text = read(readme(role))
    options = argument_specs(role)["main"].get("options") or {}
    missing = sorted(name for name in options if not re.search(r"`%s`" % re.escape(name), text))
    assert not missing, "roles/%s/README.md does not name the options %s" % (role, missing)

    known = set(GROUPS) | set(re.findall(r"\bvmpair_\w+", read(os.path.join(REPO_ROOT, "docs", "site_model.md"))))
    for other in ROLES:
        for entry in argument_specs(other).values():
            known.update(entry.get("options") or {})
    unknown = sorted(set(re.findall(r"\bvmpair_\w+", text)) - known)
    assert not unknown, "roles/%s/README.md names variables that no role and no site model has: %s" % (role, unknown)

    # Table rows `| `name` | `default` | ...`: the default is the one in meta/argument_specs.yml.
    wrong = []
    for name, default in re.findall(r"^\| `(vmpair_\w+)` \| `([^`|]*)` \|", text, re.M):
        if name not in options or "default" not in options[name]:
            continue
        spec = options[name]["default"]
        if isinstance(spec, str):
            same = default.strip("\"'") == spec
        else:
            same = yaml.safe_load(default) == spec
        if not same:
            wrong.append("%s: README %s, argument_specs %r" % (name, default, spec))
    assert not wrong, "roles/%s/README.md shows other defaults than meta/argument_specs.yml: %s" % (role, wrong)


@pytest.mark.parametrize("role", ROLES)
def test_role_readme_links_lead_to_files_of_the_repository(role):
    if not os.path.isfile(readme(role)):
        pytest.fail("roles/%s has no README.md" % role)
    here = os.path.dirname(readme(role))
    targets = [t.split("#")[0] for t in re.findall(r"\]\(([^)\s]+)\)", read(readme(role)))]
    missing = sorted(
        {t for t in targets if t and not re.match(r"^[a-z]+:", t) and not os.path.exists(os.path.join(here, t))}
    )
    assert not missing, "roles/%s/README.md links to files that do not exist: %s" % (role, missing)


@pytest.mark.parametrize("role", ROLES)
def test_role_meta_has_a_description(role):
    meta = yaml.safe_load(read(os.path.join(REPO_ROOT, "roles", role, "meta", "main.yml")))
    description = (meta.get("galaxy_info") or {}).get("description")
    assert isinstance(description, str) and description.strip(), (
        "roles/%s/meta/main.yml: galaxy_info.description is what Galaxy lists for the role" % role
    )


def test_the_readme_checks_see_a_readme_without_fqcn_or_example():
    assert not yaml_blocks("# cluster\n\nNo example.\n")
    (block,) = yaml_blocks("# x\n\n```yaml\n- name: A\n  hosts: all\n  roles: [cluster]\n```\n")
    assert yaml.safe_load(block)[0]["roles"] == ["cluster"]


def test_sanity_ignore_files_in_the_artifact_name_only_files_of_the_artifact(artifact):
    wrong = []
    for name in sorted(n for n in artifact if re.match(r"^tests/sanity/ignore-[\d.]+\.txt$", n)):
        for number, line in enumerate(read(os.path.join(REPO_ROOT, name)).splitlines(), 1):
            path = line.split("#")[0].strip().split(" ")[0]
            if path and path not in artifact:
                wrong.append("%s:%d: %s" % (name, number, path))
    assert not wrong, (
        "these sanity ignore entries name files that galaxy.yml's build_ignore leaves out of the artifact, so "
        "ansible-test sanity fails on the artifact ('File ... does not exist'); leave the ignore files out "
        "too, or ship the files: %s" % wrong
    )


def test_galaxy_yml_tags_pass_the_importer():
    galaxy = yaml.safe_load(read(os.path.join(REPO_ROOT, "galaxy.yml")))
    tags = galaxy.get("tags") or []
    assert REQUIRED_TAGS & set(tags), "Automation Hub requires one of the tags %s" % sorted(REQUIRED_TAGS)
    assert len(tags) <= 20, "galaxy-importer takes at most 20 tags"
    bad = [t for t in tags if not re.match(r"^(?!.*__)[a-z][0-9a-z_]*$", t) or len(t) > 64]
    assert not bad, "galaxy-importer refuses the tags %s" % bad


def test_the_artifact_has_a_changelog(artifact):
    assert "changelogs/changelog.yaml" in artifact, "galaxy-importer warns 'No changelog found'"
