"""The event loop's single-flight (``LoopFlights``): a burst of fetches waiting on one refresh
shares the leader's run without a worker thread each; results, errors and metrics as the
threads' ``Flights`` give them. The wire side (forced fetches through a live broker, with and
without the refresh token) is in test_refresh_single_flight.py."""

from __future__ import annotations

import asyncio

import pytest

from broker.errors import DescopeError, TokenNotFound
from broker.lifecycle.flight import LoopFlights


async def _burst(
    flights: LoopFlights[str], ending: BaseException | None, callers: int
) -> tuple[list[str | BaseException], list[object], int]:
    """``callers`` at once; the work ends (with ``ending`` raised, if given) once all arrived."""
    work: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    runs = 0
    told: list[object] = []

    async def leader_work() -> str:
        nonlocal runs
        runs += 1
        return await work

    tasks = [
        asyncio.create_task(flights.run(("tok", "force", "False"), leader_work, told.append))
        for _ in range(callers)
    ]
    await asyncio.sleep(0)  # every caller has arrived before the work ends
    if ending is None:
        work.set_result("refreshed")
    else:
        work.set_exception(ending)
    return list(await asyncio.gather(*tasks, return_exceptions=True)), told, runs


def test_a_burst_runs_the_work_once_and_shares_its_result() -> None:
    async def scenario() -> tuple[list[str | BaseException], list[object], int]:
        return await _burst(LoopFlights[str](), None, 5)

    results, told, runs = asyncio.run(scenario())
    assert runs == 1
    assert results == ["refreshed"] * 5
    assert told == ["refreshed"] * 4  # the joiners, not the leader


def test_joiners_get_a_copy_of_the_leaders_descope_error() -> None:
    async def scenario() -> tuple[list[str | BaseException], list[object], int]:
        return await _burst(LoopFlights[str](), TokenNotFound("gone"), 3)

    results, told, runs = asyncio.run(scenario())
    assert runs == 1
    assert all(isinstance(r, TokenNotFound) for r in results)
    assert len({id(r) for r in results}) == 3  # not one instance shared between callers
    assert [type(t) for t in told] == [TokenNotFound, TokenNotFound]


def test_an_unexpected_failure_reaches_joiners_as_a_descope_error() -> None:
    async def scenario() -> tuple[list[str | BaseException], list[object], int]:
        return await _burst(LoopFlights[str](), RuntimeError("database on fire"), 3)

    results, _, _ = asyncio.run(scenario())
    assert isinstance(results[0], RuntimeError)  # the leader's own error, unchanged
    for joined in results[1:]:
        assert type(joined) is DescopeError
        assert "database on fire" not in str(joined)


def test_callers_going_away_do_not_cancel_the_refresh() -> None:
    async def scenario() -> tuple[bool, bool, str]:
        flights = LoopFlights[str]()
        work = asyncio.get_running_loop().create_future()

        async def leader_work() -> str:
            return await work

        key = ("tok", "fetch", "False")
        tasks = [
            asyncio.create_task(flights.run(key, leader_work, lambda _: None)) for _ in range(3)
        ]
        await asyncio.sleep(0)
        tasks[0].cancel()  # the leader's client went away
        tasks[1].cancel()  # and one joiner's
        await asyncio.sleep(0)
        work.set_result("refreshed")
        return tasks[0].cancelled(), tasks[1].cancelled(), await tasks[2]

    assert asyncio.run(scenario()) == (True, True, "refreshed")


def test_a_settled_flight_is_not_joined_again() -> None:
    async def scenario() -> int:
        flights = LoopFlights[str]()
        runs = 0

        async def work() -> str:
            nonlocal runs
            runs += 1
            return "refreshed"

        for _ in range(3):
            await flights.run(("tok", "force", "False"), work, lambda _: None)
        return runs

    assert asyncio.run(scenario()) == 3


@pytest.mark.parametrize("kinds", [("force", "fetch"), ("False", "True")])
def test_other_kinds_of_request_do_not_share_a_flight(kinds: tuple[str, str]) -> None:
    async def scenario() -> int:
        flights = LoopFlights[str]()
        gate = asyncio.get_running_loop().create_future()
        runs = 0

        async def work() -> str:
            nonlocal runs
            runs += 1
            return await gate

        tasks = [
            asyncio.create_task(flights.run(("tok", kind), work, lambda _: None)) for kind in kinds
        ]
        await asyncio.sleep(0)
        gate.set_result("refreshed")
        await asyncio.gather(*tasks)
        return runs

    assert asyncio.run(scenario()) == 2
