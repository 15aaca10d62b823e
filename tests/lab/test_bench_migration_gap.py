"""bench/migration_gap.py: the figures bench/migration.sh publishes come from it.

Its input is what the bench follows on two lab hosts; here the same lines are written by hand
(the shape `stamp` and the host-side sampler write), so the arithmetic and the checks are tested
without a lab.
"""

import importlib.util
import io
import os
import pathlib
import subprocess
import sys

import pytest

BENCH = pathlib.Path(__file__).resolve().parents[2] / "bench" / "migration_gap.py"


def load():
    spec = importlib.util.spec_from_file_location("migration_gap", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    return str(tmp_path / name.split(".")[0])


def lab_move(tmp_path, target_acks="20.0 VMPAIR-ACK 7\n"):
    """A move: last write on the source at 10.5, paused at 12.0, resumed at 12.1, first write at 19.5."""
    write(tmp_path, "src.serial", "10.0 VMPAIR-ACK 5\n11.0 VMPAIR-ACK 6\n")
    write(tmp_path, "src.writes", "9.0 W 10 0 110 1 1\n10.5 W 12 0 160 2 2\n")
    write(tmp_path, "src.events", "12.0 event 'lifecycle' for domain 'guest1': Suspended Migrated\n")
    write(tmp_path, "dst.serial", "12.5 \n" + target_acks)
    # The target host: 97 % busy between the resume and the first write; the guest's QEMU gets 68 %
    # of a CPU; one sample of three has a write in flight.
    write(
        tmp_path,
        "dst.writes",
        "5.0 W 0 0 0 100 50\n12.2 W 0 0 520 200 50\n15.0 W 0 1 720 300 50\n19.5 W 2 0 1020 500 60\n",
    )
    write(tmp_path, "dst.events", "12.1 event 'lifecycle' for domain 'guest1': Resumed Migrated\n")
    return str(tmp_path / "src"), str(tmp_path / "dst")


def run(*args):
    return subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, check=False)


def test_a_move_is_cut_into_pause_and_wait_for_the_cpu(tmp_path):
    src, dst = lab_move(tmp_path)
    out = run(src, dst)
    assert out.returncode == 0, out.stderr
    figures = dict(kv.split("=") for kv in out.stdout.split())
    assert figures == {
        "ack_gap": "9.00",
        "write_gap": "9.00",
        "write_to_pause": "1.50",
        "pause_to_resume": "0.10",
        "resume_to_write": "7.40",
        "resume_cpu": "0.68",
        "resume_in_flight": "0.33",
        "resume_host_busy": "0.97",
        "last_ack": "6",
        "first_ack": "7",
    }


def test_a_skipped_or_repeated_ack_fails_the_run(tmp_path):
    src, dst = lab_move(tmp_path, target_acks="20.0 VMPAIR-ACK 8\n")
    out = run(src, dst)
    assert out.returncode != 0
    assert "ACK sequence broken" in out.stderr
    src, dst = lab_move(tmp_path, target_acks="20.0 VMPAIR-ACK 6\n21.0 VMPAIR-ACK 7\n")
    assert "ACK sequence broken" in run(src, dst).stderr


def test_a_move_without_the_resume_event_says_so(tmp_path):
    src, dst = lab_move(tmp_path)
    (tmp_path / "dst.events").write_text("")
    out = run(src, dst)
    assert out.returncode != 0
    assert "no Resumed event" in out.stderr


def test_stamp_keeps_a_line_the_move_cut_and_times_it_by_its_first_byte():
    module = load()
    read_fd, write_fd = os.pipe()
    # The source's console stops after "VMPAIR-ACK 753" (no newline): the line is kept, stamped.
    os.write(write_fd, b"VMPAIR-ACK 752\r\nVMPAIR-ACK 7")
    os.write(write_fd, b"53")
    os.close(write_fd)
    out = io.StringIO()
    module.stamp(read_fd, out)
    os.close(read_fd)
    lines = out.getvalue().splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == ["VMPAIR-ACK 752", "VMPAIR-ACK 753"]
    assert all(float(line.split(" ", 1)[0]) > 0 for line in lines)


@pytest.mark.parametrize("args", [[], ["a"], ["a", "b", "c"]])
def test_usage(args):
    out = run(*args)
    assert out.returncode != 0
    assert "Usage" in out.stderr


@pytest.mark.parametrize(
    "logs, line, rc",
    [
        ("VMPAIR-GUEST up\r\nVMPAIR-ACK 1\r\nVMPAIR-ACK 2\r\n" + "VMPAIR-ACK 3\r\n", "guest2: ACK 1..3, whole", 0),
        ("VMPAIR-ACK 1\r\nVMPAIR-ACK 3\r\n", "guest2: ACK 1..3, BROKEN", 1),
        ("VMPAIR-ACK 1\r\nVMPAIR-ACK 2\r\nVMPAIR-ACK 2\r\n", "guest2: ACK 1..2, BROKEN", 1),
        ("", "guest2: ACK 0..0, BROKEN", 1),
    ],
)
def test_sequence_judges_one_guests_logs_of_both_hosts(logs, line, rc):
    out = subprocess.run(
        [sys.executable, str(BENCH), "sequence", "guest2"], input=logs, capture_output=True, text=True, check=False
    )
    assert (out.stdout.strip(), out.returncode) == (line, rc)
