"""run_forked: results in order whatever the process, and a failed or hung child is redone here."""

from __future__ import annotations

import os
import time

import pytest

from dynamap._core import forking
from dynamap._core.forking import run_forked

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def test_results_come_back_in_order_from_the_children():
    parent = os.getpid()
    out = run_forked(lambda k: (k * k, os.getpid() == parent), range(4))
    assert [v for v, _ in out] == [0, 1, 4, 9]
    assert [here for _, here in out] == [True, False, False, False]  # the first item is done here


def test_one_item_or_none_runs_here():
    parent = os.getpid()
    assert run_forked(lambda k: os.getpid() == parent, [7]) == [True]
    assert run_forked(lambda k: k, []) == []


def test_a_failed_child_is_redone_here():
    parent = os.getpid()

    def fn(k):
        if os.getpid() != parent and k == 2:
            raise RuntimeError("only in the child")
        return k, os.getpid() == parent

    assert run_forked(fn, range(3)) == [(0, True), (1, False), (2, True)]


def test_a_hung_child_is_stopped_and_redone_here():
    parent = os.getpid()

    def fn(k):
        if os.getpid() != parent:
            time.sleep(3600)
        return k

    t0 = time.perf_counter()
    assert run_forked(fn, range(2), wait_factor=1.0, wait_s=0.3) == [0, 1]
    assert time.perf_counter() - t0 < 20.0


def test_children_are_stopped_when_the_parent_fails(tmp_path):
    parent = os.getpid()
    pids = tmp_path / "pids"

    def fn(k):
        if os.getpid() == parent:
            t0 = time.perf_counter()
            while not pids.exists() and time.perf_counter() - t0 < 30.0:  # let the child start
                time.sleep(0.01)
            raise KeyError("the parent's item fails")
        pids.write_text(str(os.getpid()))
        time.sleep(3600)

    with pytest.raises(KeyError):
        run_forked(fn, range(2))
    pid = int(pids.read_text())
    with pytest.raises(ChildProcessError):  # already reaped: no zombie left behind
        os.waitpid(pid, os.WNOHANG)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_can_fork_only_on_linux(monkeypatch):
    monkeypatch.setattr(forking.sys, "platform", "darwin")
    assert not forking.can_fork()
    monkeypatch.setattr(forking.sys, "platform", "linux")
    assert forking.can_fork() == hasattr(os, "fork")
