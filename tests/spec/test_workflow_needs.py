"""The graph of `needs`: unknown jobs, cycles named in full, big graphs checked quickly."""

from __future__ import annotations

import time

from tests.spec import cases


def jobs(*specs: tuple[str, str]) -> str:
    """A workflow whose jobs (id, needs) are given in order; `needs` as written in YAML."""
    text = "on: push\njobs:\n"
    for job_id, needs in specs:
        text += f"  {job_id}:\n    runs-on: x\n"
        if needs:
            text += f"    needs: {needs}\n"
        text += "    steps: [{run: x}]\n"
    return text


def messages(text: str) -> list[str]:
    return [problem.split("\n")[0] for problem in cases.problems(text)]


def test_every_cycle_is_named_once_from_its_first_job() -> None:
    found = messages(
        jobs(("a", "[b]"), ("b", "[a]"), ("c", "[d, e]"), ("d", "[c]"), ("e", "[e]"), ("f", "[a]"))
    )
    assert found == [
        f"{cases.PATH}:5:13: jobs.a.needs: `needs` forms a cycle: a -> b -> a",
        f"{cases.PATH}:13:13: jobs.c.needs: `needs` forms a cycle: c -> d -> c",
        f"{cases.PATH}:21:13: jobs.e.needs: `needs` forms a cycle: e -> e",
    ]


def test_a_job_named_twice_in_needs_is_one_edge() -> None:
    loaded = cases.load(jobs(("a", ""), ("b", "[a, a]")))
    assert loaded.jobs["b"].needs == ("a", "a")


def test_unknown_and_cyclic_needs_are_both_reported() -> None:
    found = messages(jobs(("a", "[b, nope]"), ("b", "a")))
    assert found == [
        f"{cases.PATH}:5:13: jobs.a.needs: `needs` forms a cycle: a -> b -> a",
        f"{cases.PATH}:5:16: jobs.a.needs: unknown job `nope`",
    ]


def test_a_long_chain_and_a_wide_fan_in_are_fast() -> None:
    chain = [("j0", ""), *((f"j{i}", f"j{i - 1}") for i in range(1, 500))]
    fan_in = [("all", "[" + ", ".join(f"j{i}" for i in range(500)) + "]")]
    start = time.perf_counter()
    loaded = cases.load(jobs(*chain, *fan_in))
    assert len(loaded.jobs) == 501
    assert time.perf_counter() - start < 5  # a few hundred ms on a loaded CI machine

    cyclic = [("j0", "j499"), *chain[1:]]
    (message,) = messages(jobs(*cyclic))
    circle = " -> ".join(["j0", *(f"j{i}" for i in range(499, 0, -1)), "j0"])
    assert message == f"{cases.PATH}:5:12: jobs.j0.needs: `needs` forms a cycle: {circle}"
