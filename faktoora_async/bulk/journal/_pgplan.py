"""Planning a chunk of input invoices into the PostgreSQL journal: a few set-based statements per chunk.

The rules are the SQLite backend's (``new``, ``known``, ``conflict``, ``repeat``, see :class:`PlanResult`),
made safe for planners running at the same time: new rows go in with ``INSERT … ON CONFLICT DO NOTHING``
and a row someone else inserted meanwhile is then read and classified like any known row, so running the
same input twice, or from two processes at once, never plans an invoice twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import psycopg

from ._base import ROW_COLUMNS, JournalRow, Planned, PlanResult, State

__all__ = ["plan_chunk"]

_NOW = "extract(epoch FROM clock_timestamp())::float8"
_CONFLICT = "a different payload is already journalled under this invoice number; not sent"


def _initial(e: Planned) -> tuple[State, bool, str | None, str | None]:
    if e.violations:
        reason = "pre-flight: " + "; ".join(f"{r}: {m}" for r, m in e.violations[:10])
        return "failed", True, reason, json.dumps(sorted({r for r, _ in e.violations}))
    return "planned", False, None, None


async def _existing(
    conn: psycopg.AsyncConnection[Any], numbers: list[str]
) -> dict[str, tuple[JournalRow, int | None]]:
    if not numbers:
        return {}
    cur = await conn.execute(
        f"SELECT {ROW_COLUMNS}, run_id FROM invoices WHERE number = ANY(%s)"
        " ORDER BY number FOR UPDATE".encode(),
        (numbers,),
    )
    return {r[0]: (JournalRow._from_db(r[:-1]), r[-1]) for r in await cur.fetchall()}


async def plan_chunk(
    conn: psycopg.AsyncConnection[Any], run_id: int, entries: Sequence[Planned]
) -> list[PlanResult]:
    """Plan ``entries`` into ``run_id`` inside the caller's transaction; one result per entry, in order."""
    numbers = list(dict.fromkeys(e.number for e in entries))
    found = await _existing(conn, numbers)
    first_new: dict[str, Planned] = {}
    for e in entries:
        if e.number not in found and e.number not in first_new:
            first_new[e.number] = e
    inserted: dict[str, float] = {}
    if first_new:
        rows = [(e, *_initial(e)) for e in first_new.values()]
        cur = await conn.execute(
            "INSERT INTO invoices (number, payload_hash, state, final, reason, rule_ids, payload, run_id,"
            " created_at, updated_at)"
            " SELECT v.number, v.payload_hash, v.state, v.final, v.reason, v.rule_ids, v.payload, %(run)s,"
            f" {_NOW}, {_NOW} FROM unnest(%(n)s::text[], %(h)s::text[], %(s)s::text[], %(f)s::bool[],"
            " %(r)s::text[], %(ru)s::text[], %(p)s::bytea[])"
            " AS v(number, payload_hash, state, final, reason, rule_ids, payload)"
            " ON CONFLICT (number) DO NOTHING RETURNING number, created_at".encode(),
            {
                "run": run_id,
                "n": [e.number for e, *_ in rows],
                "h": [e.payload_hash for e, *_ in rows],
                "s": [state for _, state, _, _, _ in rows],
                "f": [final for _, _, final, _, _ in rows],
                "r": [reason for _, _, _, reason, _ in rows],
                "ru": [rules for *_, rules in rows],
                "p": [e.payload for e, *_ in rows],
            },
        )
        inserted = {str(n): float(c) for n, c in await cur.fetchall()}
        raced = [n for n in first_new if n not in inserted]  # another planner inserted it meanwhile
        found.update(await _existing(conn, raced))

    out: list[PlanResult] = []
    takeovers: dict[str, bytes | None] = {}
    extras: list[tuple[str, str]] = []  # (number, payload_hash) of conflicts
    for e in entries:
        if e.number in inserted and e.number not in found:
            state, final, reason, rules = _initial(e)
            now = inserted[e.number]
            row = JournalRow(
                e.number, e.payload_hash, state, None, 0, final, reason,
                tuple(json.loads(rules)) if rules else (), {}, now, now, None, None, None,
            )  # fmt: skip
            out.append(PlanResult("new", row))
            found[e.number] = (row, run_id)  # a second occurrence in this chunk is a repeat (or conflict)
            continue
        row, row_run = found[e.number]
        if row.payload_hash != e.payload_hash:
            extras.append((e.number, e.payload_hash))
            out.append(PlanResult("conflict", row))
        elif row_run == run_id:
            out.append(PlanResult("repeat", row))
        else:
            takeovers[e.number] = e.payload
            found[e.number] = (row, run_id)
            out.append(PlanResult("known", row))
    if takeovers:
        await conn.execute(
            "UPDATE invoices i SET run_id = %(run)s, payload = COALESCE(i.payload, v.payload)"
            " FROM unnest(%(n)s::text[], %(p)s::bytea[]) AS v(number, payload) WHERE i.number = v.number",
            {"run": run_id, "n": list(takeovers), "p": list(takeovers.values())},
        )
    if extras:
        await conn.execute(
            "INSERT INTO run_extras (run_id, number, outcome, reason, payload_hash)"
            " SELECT %(run)s, v.number, 'conflict', %(reason)s, v.h FROM unnest(%(n)s::text[], %(h)s::text[])"
            " WITH ORDINALITY AS v(number, h, k) ORDER BY v.k",
            {"run": run_id, "reason": _CONFLICT, "n": [n for n, _ in extras], "h": [h for _, h in extras]},
        )
    return out
