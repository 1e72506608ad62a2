"""A journal worker in a child process of its own, for the claim tests (a real second process).

    python tests/_journal_child.py SPEC RUN_ID MODE [--lease S] [--batch N]

Modes (each prints one JSON line per event on stdout, flushed):

* ``drain``: claim ``--batch`` rows at a time, mark each downloaded, until nothing is left to claim;
  prints ``{"claimed": [...]}`` per batch, then ``{"done": true}``.
* ``hold``: claim one batch, print ``{"claimed": [...]}``, then sleep (renewing the lease) until killed.
* ``stall``: claim one batch, print it, wait for a line on stdin, then ``mark_submitting`` the batch and
  print ``{"marked": [...]}`` (what the journal let this worker mark after it was paused).
"""

from __future__ import annotations

import argparse
import json
import sys

import anyio

from faktoora_async.bulk.journal import Journal


def emit(**event: object) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


async def main(spec: str, run_id: int, mode: str, lease: float, batch: int) -> None:
    async with Journal(spec) as journal, journal.worker(run_id, lease=lease, name=f"child-{mode}") as worker:
        if mode == "drain":
            while claims := await worker.claim(batch):
                numbers = [c.row.number for c in claims]
                emit(claimed=numbers)
                for n in numbers:
                    await journal.mark_downloaded(n, {"xml": {"path": f"{n}.xml", "sha256": "00", "size": 1}})
            emit(done=True)
            return
        claims = await worker.claim(batch)
        numbers = [c.row.number for c in claims]
        emit(claimed=numbers)
        if mode == "hold":
            await anyio.sleep(3600)
        elif mode == "stall":
            await anyio.to_thread.run_sync(sys.stdin.readline)
            emit(marked=await journal.mark_submitting(numbers))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("spec")
    parser.add_argument("run_id", type=int)
    parser.add_argument("mode", choices=["drain", "hold", "stall"])
    parser.add_argument("--lease", type=float, default=30.0)
    parser.add_argument("--batch", type=int, default=10)
    args = parser.parse_args()
    anyio.run(main, args.spec, args.run_id, args.mode, args.lease, args.batch)
