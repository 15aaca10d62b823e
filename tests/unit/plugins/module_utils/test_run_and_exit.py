# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""common.runner.run_and_exit, the ending the modules share: the runner it hands over, how each
error is reported, the result's dict, when the diff is returned, and the warnings."""

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import (
    CommandError,
    CommandRunner,
    run_and_exit,
)


class Ended(Exception):
    """What exit_json and fail_json raise here (AnsibleModule exits the process)."""

    def __init__(self, how, kwargs):
        super().__init__(how)
        self.how = how
        self.kwargs = kwargs


class FakeModule:
    def __init__(self, diff=False):
        self._diff = diff
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)

    def exit_json(self, **kwargs):
        raise Ended("exit", kwargs)

    def fail_json(self, **kwargs):
        raise Ended("fail", kwargs)


class Reported(Exception):
    def fail_kwargs(self):
        return {"msg": "reported", "extra": 1}


class AsDict:
    def as_dict(self):
        return {"changed": True, "diff": {"before": "", "after": "x"}}


def end(module, work, **kwargs):
    with pytest.raises(Ended) as exc:
        run_and_exit(module, work, **kwargs)
    return exc.value.how, exc.value.kwargs


def raising(error):
    def work(runner):
        raise error

    return work


def test_the_work_gets_a_runner_on_the_cib_file_and_its_result_ends_the_module():
    seen = []

    def work(runner):
        seen.append(runner)
        return {"changed": False, "x": 1}

    module = FakeModule()
    assert end(module, work, cib_file="/tmp/cib.xml") == ("exit", {"changed": False, "x": 1})
    assert isinstance(seen[0], CommandRunner)
    assert seen[0].module is module and seen[0].cib_file == "/tmp/cib.xml"
    assert end(FakeModule(), lambda runner: AsDict()) == ("exit", AsDict().as_dict())


def test_each_error_is_reported_its_own_way():
    failed = CommandError("pcs failed (rc=1)", cmd=["pcs"], rc=1, stdout="o", stderr="e")
    assert end(FakeModule(), raising(failed)) == ("fail", failed.fail_kwargs())
    assert end(FakeModule(), raising(ValueError("bad")), errors=[ValueError]) == ("fail", {"msg": "bad"})
    assert end(FakeModule(), raising(Reported()), errors=[Reported]) == ("fail", {"msg": "reported", "extra": 1})
    errors = [(KeyError, lambda exc: {"msg": "no %s" % exc.args[0]}), LookupError]
    assert end(FakeModule(), raising(KeyError("k")), errors=errors) == ("fail", {"msg": "no k"})
    assert end(FakeModule(), raising(IndexError("i")), errors=errors) == ("fail", {"msg": "i"})
    with pytest.raises(ValueError):
        run_and_exit(FakeModule(), raising(ValueError("not the module's")), errors=[KeyError])


@pytest.mark.parametrize(
    "diff, asked, changed, shown",
    [
        (None, False, False, True),
        ("asked", False, True, False),
        ("asked", True, False, True),
        ("changed", True, False, False),
        ("changed", True, True, True),
        ("changed", False, True, False),
    ],
)
def test_the_diff_is_returned_as_the_module_asks(diff, asked, changed, shown):
    result = {"changed": changed, "diff": ["d"]}
    how, kwargs = end(FakeModule(diff=asked), lambda runner: dict(result), diff=diff)
    assert how == "exit"
    assert ("diff" in kwargs) is shown
    assert kwargs.get("diff", ["d"]) == ["d"]


def test_asked_without_a_diff_returns_an_empty_one():
    assert end(FakeModule(diff=True), lambda runner: {"changed": False}, diff="asked")[1]["diff"] == []


def test_warnings_go_to_the_module():
    module = FakeModule()
    end(module, lambda runner: {"changed": False, "w": ["a", "b"]}, warnings=lambda result: result["w"])
    assert module.warnings == ["a", "b"]
