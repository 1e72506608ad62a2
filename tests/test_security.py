"""Security: API-key hygiene (errors, reprs, logs, files), hostile invoice numbers, malformed payloads.

The suite-wide leak guard lives in ``tests/conftest.py``; the first tests here prove it can fail a run.
"""

from __future__ import annotations

import os
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

import anyio
import pytest

from faktoora_async.files import safe_filename

pytestmark = pytest.mark.anyio

CONFTEST = Path(__file__).with_name("conftest.py")

# The key is assembled at run time so that this source file itself never contains one.
_LEAKY_TEST = """
import logging
KEY = "sk_" + "test_" + "LeakyKeyForTheGuard123"

def test_leaks_{kind}(tmp_path):
    kind = "{kind}"
    if kind == "log":
        logging.getLogger("faktoora_async.transport").debug("sending with key %s", KEY)
    elif kind == "log_exc":
        try:
            raise RuntimeError("boom " + KEY)
        except RuntimeError:
            logging.getLogger("somewhere.else").warning("failed", exc_info=True)
    elif kind == "file":
        (tmp_path / "report.json").write_text('{{"apiKey": "' + KEY + '"}}')
    elif kind == "stdout":
        print("key:", KEY)
    elif kind == "clean":
        logging.getLogger("faktoora_async").info("nothing secret here, only sk_test_ as a word")
"""


@pytest.mark.parametrize("kind", ["log", "log_exc", "file", "stdout", "clean"])
def test_leak_guard_fails_a_run_that_leaks(pytester: pytest.Pytester, kind: str) -> None:
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(test_leaky=_LEAKY_TEST.format(kind=kind))
    # The inner run's tmp dirs live outside this run's tmp dirs, so a planted key cannot trip the outer scan.
    with tempfile.TemporaryDirectory(prefix="faktoora-guard-") as base:
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--basetemp={base}/t")
    output = result.stdout.str() + result.stderr.str()
    assert "LeakyKeyForTheGuard123" not in output  # the guard reports leaks masked
    if kind == "clean":
        assert result.ret == 0, output
        assert "API key leak guard: no test API key" in output
    else:
        result.assert_outcomes(passed=1)
        assert result.ret == pytest.ExitCode.TESTS_FAILED, output
        assert "API key leak guard: FAILED" in output


# ----------------------------------------------------------------------------------------- file names
HOSTILE_NUMBERS = [
    "../x",
    "../../../../etc/passwd",
    "..\\..\\windows\\system32",
    "/etc/passwd",
    "/tmp/absolute",
    "C:\\Windows\\evil",
    "\\\\server\\share\\x",
    "a\x00b",
    "\x00",
    "x" * 300,
    "ä" * 300,
    "CON",
    "con.pdf",
    "NUL",
    "LPT1",
    "COM¹",
    ".",
    "..",
    "...",
    ". .",
    "",
    " ",
    "RE\u202egpj.exe",  # right-to-left override
    "..\u2215etc\u2215passwd",  # division slash
    "\uff0e\uff0e\uff0fx",  # fullwidth dots and solidus
    "\u2024\u2024/x",  # one-dot leaders
    "e\u0301\u0301\u0301",  # stacked combining marks
    "a/b/c",
    "line\nbreak",
    "tab\there",
    "trailing.",
    "-rf",
    "~/x",
    "$HOME",
    "x:y",
    "😀" * 60,
]


@pytest.mark.parametrize("number", HOSTILE_NUMBERS)
def test_safe_filename_never_leaves_the_folder(tmp_path: Path, number: str) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    name = safe_filename(number, "pdf")
    assert name and name.endswith(".pdf")
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert name not in (".", "..") and not name.startswith("..")
    assert len(name.encode()) <= 255  # a valid name on every common file system
    assert name.split(".", 1)[0].upper() not in {"CON", "NUL", "LPT1", "PRN", "AUX"}
    assert not any(unicodedata.category(c) == "Cc" for c in name)
    target = (folder / name).resolve()
    assert target.parent == folder.resolve()
    target.write_bytes(b"%PDF-1.7\n")
    assert [p.name for p in folder.iterdir()] == [name]
    assert sorted(os.listdir(tmp_path)) == ["out"]  # nothing written beside the folder


def test_safe_filename_keeps_distinct_ordinary_numbers_distinct() -> None:
    names = {safe_filename(f"RE-2026/{i:05d}", "pdf") for i in range(500)}
    assert len(names) == 500


# --------------------------------------------------------------------------------- malformed payloads
_DROP = object()
_P = "invoiceItems.0.product"
# (path to change, new value or _DROP): each is caught client-side, naming the field, and nothing is sent
MALFORMED: list[tuple[str, object]] = [
    ("invoiceNumber", "   "),  # missing is allowed (API.md v2: the next number), blank is not
    ("invoiceNumber", ""),
    ("invoiceNumber", 123),
    ("issueDate", _DROP),
    ("issueDate", "2026-03-01"),
    ("issueDate", "20261341"),
    ("issueDate", 20260301),
    ("currency", "EURO"),
    ("currency", 978),
    ("invoiceTypeCode", "999"),
    ("dueDate", "tomorrow"),
    ("deliveryDate", "2026/01/01"),
    ("format", "pdf"),
    ("draftOnly", "yes"),
    ("schema", "ubl"),  # was ("seller", _DROP): API.md v2 makes seller optional (the account profile)
    ("seller", "ACME GmbH"),
    ("seller.name", _DROP),
    ("seller.country", "Germany"),
    ("seller.vatId", 12345),
    ("buyer", _DROP),
    ("buyer", ["x"]),
    ("buyer.name", ""),
    ("buyer.country", "D"),
    ("invoiceItems", _DROP),
    ("invoiceItems", []),
    ("invoiceItems", {"id": "1"}),
    (f"{_P}", _DROP),
    (f"{_P}.name", _DROP),
    (f"{_P}.quantity", "abc"),
    (f"{_P}.quantity", None),
    (f"{_P}.quantity", "1e400"),
    (f"{_P}.price", "12,50"),
    (f"{_P}.price", float("nan")),
    (f"{_P}.taxes", "VAT"),
    (f"{_P}.taxes.0.categoryCode", "X"),
    (f"{_P}.taxes.0.rate", "nineteen"),
    (f"{_P}.taxes.0.rate", -5),
]
# Caught only by the server (400 naming the field): gaps in the client's pre-flight, reported to C.
SERVER_ONLY: list[tuple[str, object]] = [
    ("invoiceNumber", "R" * 101),
    (f"{_P}.unitCode", ""),
    ("seller.iban", "DE00INVALID"),
    ("delivery", {"type": "email", "recipient": "not-an-email"}),
    ("delivery", {"type": "fax", "recipient": "buchhaltung@example.de"}),
]


def _mutated(path: str, value: object) -> dict[str, object]:
    from faktoora_async.einvoice.generate import generate_invoice

    doc: dict[str, object] = generate_invoice(0, seed=1)
    parts = path.split(".")
    cur: object = doc
    for part in parts[:-1]:
        cur = cur[int(part)] if isinstance(cur, list) else cur[part]  # type: ignore[index]
    last: object = int(parts[-1]) if isinstance(cur, list) else parts[-1]
    if value is _DROP:
        del cur[last]  # type: ignore[attr-defined]
    else:
        cur[last] = value  # type: ignore[index]
    return doc


def _wire_path(path: str) -> str:
    """``invoiceItems.0.product`` -> ``invoices[0].invoiceItems[0].product``."""
    out = "invoices[0]"
    for part in path.split("."):
        out += f"[{part}]" if part.isdigit() else f".{part}"
    return out


async def test_malformed_payloads_name_the_field_and_send_nothing() -> None:
    from faktoora_async import FaktooraClient
    from faktoora_async.errors import InvoiceValidationError
    from faktoora_async.sandbox import Sandbox

    assert len({(p, repr(v)) for p, v in MALFORMED}) >= 30
    async with Sandbox() as sb, FaktooraClient(sb.api_key, base_url=sb.base_url, max_retries=0) as client:
        for path, value in MALFORMED:
            with pytest.raises(InvoiceValidationError) as info:
                await client.invoices.create([_mutated(path, value)])
            expected = _wire_path(path)
            paths = [getattr(v, "path", None) for v in info.value.violations]
            named = [
                p for p in paths if p and (p == expected or p.startswith((expected + ".", expected + "[")))
            ]
            assert named, (path, value, paths)
            assert named[0] in str(info.value)
            assert path.rsplit(".", 1)[-1] in str(info.value) or path.endswith(".0.product")
        assert sb.stats()["requests"] == {}, "a malformed invoice reached the server"
        # the untouched payload does go through: the checks are not simply refusing everything
        await client.invoices.create([_mutated("note", "ok")])
        assert sum(sb.stats()["requests"]["POST /api/v1/invoices"].values()) == 1


async def test_server_side_validation_names_the_field() -> None:
    from faktoora_async import FaktooraClient
    from faktoora_async.errors import BadRequestError
    from faktoora_async.sandbox import Sandbox

    async with Sandbox() as sb, FaktooraClient(sb.api_key, base_url=sb.base_url, max_retries=0) as client:
        for path, value in SERVER_ONLY:
            with pytest.raises(BadRequestError) as info:
                await client.invoices.create([_mutated(path, value)])
            fields = [e.field for e in info.value.errors]
            assert any(f is not None and f.startswith(_wire_path(path)) for f in fields), (path, fields)
            assert all(e.index == 0 for e in info.value.errors)


# ------------------------------------------------------------------------------------- real downloads
SANDBOX_NUMBERS = [
    "../x",
    "../../../../tmp/escaped",
    "..\\..\\windows\\evil",
    "/etc/passwd",
    "/tmp/absolute-invoice",
    "CON",
    "nul.pdf",
    "LPT1",
    "...",
    "..",
    ".",
    "R" * 100,
    "RE\u202egpj.exe",
    "..\u2215..\u2215x",
    "\uff0e\uff0e\uff0fx",
    "a/b/c",
    "~/x",
    "x:y*z?",
    "\u00e4" * 100,
    "a\x00b",
    "tab\there",
]


def _files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


async def test_hostile_invoice_numbers_never_leave_the_download_folder(tmp_path: Path) -> None:
    from faktoora_async import FaktooraClient
    from faktoora_async.einvoice.generate import generate_invoice
    from faktoora_async.errors import BadRequestError, GenerationFailedError, InvoiceValidationError
    from faktoora_async.sandbox import Sandbox

    root = tmp_path / "jail"
    folder = root / "downloads"
    folder.mkdir(parents=True)
    downloaded: list[str] = []
    refused: list[str] = []
    async with Sandbox() as sb, FaktooraClient(sb.api_key, base_url=sb.base_url, max_retries=0) as client:
        for i, number in enumerate(SANDBOX_NUMBERS):
            payload = generate_invoice(i, seed=99)
            payload["invoiceNumber"] = number
            try:
                created = await client.invoices.create([payload])
            except (InvoiceValidationError, BadRequestError):
                refused.append(number)
                continue
            fid = created[0].faktoora_id
            try:
                await client.invoices.wait(fid, timeout=60)
            except GenerationFailedError:  # e.g. NUL: accepted, then the XML cannot hold it
                refused.append(number)
                continue
            by_id = await client.invoices.download(fid, format="pdf", to=folder)
            by_number = await client.invoices.download(invoice_number=number, format="xml", to=folder)
            for path in (by_id.path, by_number.path):
                assert path.resolve().parent == folder.resolve(), (number, path)
                assert path.is_file() and path.stat().st_size > 0
            downloaded.append(number)
    # nothing was written anywhere but the download folder
    written = _files_under(root)
    assert written and all(name.startswith("downloads/") and name.count("/") == 1 for name in written), (
        written
    )
    assert _files_under(tmp_path) == [f"jail/{name}" for name in written]
    assert len(downloaded) >= 12, (downloaded, refused)
    # numbers the server or pre-flight refuses are still safe as file names
    for number in refused:
        name = safe_filename(number, "pdf")
        assert (folder / name).resolve().parent == folder.resolve()
    print(f"hostile numbers: {len(downloaded)} downloaded for real, {len(refused)} refused: {refused!r}")


# -------------------------------------------------------------------------------- key never in errors
ECHO_KEY = "sk_test_echo_" + "a1b2c3d4e5f6g7h8"
STATUS_SCENARIOS = [
    *("bad-request", "unauthorized", "forbidden", "not-found", "not-acceptable", "conflict", "duplicate"),
    *("not-ready", "too-large", "rate-limited", "server-error", "teapot", "non-json", "bad-json", "silent"),
]


def _echo_app() -> Any:
    """A hostile server that puts the X-API-KEY it receives into every part of its answers."""
    import asyncio

    from aiohttp import web

    statuses = {
        "bad-request": (400, "BAD_REQUEST"),
        "unauthorized": (401, "UNAUTHORIZED"),
        "forbidden": (403, "FEATURE_DISABLED"),
        "not-found": (404, "NOT_FOUND"),
        "not-acceptable": (406, "NOT_ACCEPTABLE"),
        "conflict": (409, "SOMETHING_ELSE"),
        "duplicate": (409, "DUPLICATE_INVOICE_NUMBER"),
        "not-ready": (409, "NOT_READY"),
        "too-large": (413, "PAYLOAD_TOO_LARGE"),
        "rate-limited": (429, "TOO_MANY_REQUESTS"),
        "server-error": (500, "INTERNAL"),
        "teapot": (418, "TEAPOT"),
    }

    async def handler(request: web.Request) -> web.StreamResponse:
        key = request.headers.get("X-API-KEY", "")
        scenario = request.match_info["scenario"]
        headers = {"x-request-id": f"req-{key}", "Retry-After": "0"}
        if scenario in statuses:
            status, code = statuses[scenario]
            body = {
                "code": code,
                "statusCode": status,
                "message": f"key {key} is not welcome",
                "errors": [{"index": 0, "field": f"invoices[0].{key}", "message": f"bad {key}"}],
            }
            return web.json_response(body, status=status, headers=headers)
        if scenario == "non-json":
            return web.Response(text=f"<html>{key}</html>", content_type="text/html", headers=headers)
        if scenario == "bad-json":  # not even the shape of a status object
            return web.json_response([{"invoiceStatus": 5, "echo": key}], headers=headers)
        if scenario == "tolerated":  # a 2xx the SDK keeps (a field dropped), echoing the key
            return web.json_response({"invoiceStatus": 5, "echo": key}, headers=headers)
        if scenario == "failed":
            body = {"invoiceStatus": None, "jobStatus": "failed", "error": f"renderer died near {key}"}
            return web.json_response(body, headers=headers)
        if scenario == "processing":
            return web.json_response({"invoiceStatus": None, "jobStatus": "processing"}, headers=headers)
        if scenario == "silent":
            await asyncio.sleep(3600)
        if scenario == "truncated":
            resp = web.StreamResponse(headers={"Content-Type": "application/pdf", "Content-Length": "9999"})
            await resp.prepare(request)
            await resp.write(f"%PDF {key}".encode())
            assert request.transport is not None
            request.transport.close()
            return resp
        raise web.HTTPNotFound()

    app = web.Application()
    app.router.add_route("*", "/{scenario}/api/{version}/{tail:.*}", handler)
    return app


def _texts_of(exc: BaseException) -> list[str]:
    """Every text an error exposes: str, repr, attributes (repr), args, and the same for its chain."""
    texts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts += [str(current), repr(current), repr(current.args)]
        texts += [repr(value) for value in vars(current).values()]
        current = current.__cause__ or current.__context__
    return texts


async def test_api_key_never_in_any_error(tmp_path: Path) -> None:
    import socket

    from aiohttp import web

    from faktoora_async import FaktooraClient, Timeout
    from faktoora_async import errors as E

    collected: list[BaseException] = []
    runner = web.AppRunner(_echo_app(), shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    root = f"http://127.0.0.1:{runner.addresses[0][1]}"

    def client(scenario: str, **options: Any) -> FaktooraClient:
        options.setdefault("max_retries", 0)
        options.setdefault("timeout", Timeout(total=1.0, connect=1.0, read=0.5))
        return FaktooraClient(ECHO_KEY, base_url=f"{root}/{scenario}/api/v1", **options)

    async def expect(awaitable: Any) -> None:
        with anyio.fail_after(20):
            try:
                await awaitable
            except E.FaktooraError as exc:
                collected.append(exc)
                return
        raise AssertionError("no error raised")

    try:
        for scenario in STATUS_SCENARIOS:
            async with client(scenario) as c:
                await expect(c.invoices.status("FKEYTEST1"))
        # what a tolerated answer keeps never carries the key (a call that must succeed: no tight timeout)
        async with client("tolerated", timeout=Timeout(total=30.0, connect=10.0, read=20.0)) as c:
            kept = await c.invoices.status("FKEYTEST1")
            assert ECHO_KEY not in repr(kept) and ECHO_KEY not in repr(kept.raw) and "***" in kept.raw["echo"]
        async with client("failed") as c:
            await expect(c.invoices.wait("FKEYTEST1", timeout=5))
        async with client("processing") as c:
            await expect(c.invoices.wait("FKEYTEST1", timeout=0.3))
        async with client("truncated") as c:
            await expect(c.invoices.download("FKEYTEST1", format="pdf", to=tmp_path / "x.pdf"))
        async with client("silent") as c:
            from faktoora_async.einvoice.generate import generate_invoice

            await expect(c.invoices.create([generate_invoice(0, seed=5)]))
        c = client("not-found")
        await c.aclose()
        await expect(c.invoices.status("FKEYTEST1"))
        with socket.socket() as probe:  # a port nobody listens on
            probe.bind(("127.0.0.1", 0))
            dead = probe.getsockname()[1]
        async with FaktooraClient(ECHO_KEY, base_url=f"http://127.0.0.1:{dead}/api/v1", max_retries=0) as c:
            await expect(c.invoices.status("FKEYTEST1"))
        async with client("bad-request") as c:
            bad = generate_invoice(1, seed=5)
            bad["issueDate"] = "yesterday"
            await expect(c.invoices.create([bad]))
            await expect(c.customers.create(is_company=True, address="A 1", postcode="1", city="B"))  # local
    finally:
        await runner.cleanup()
    from faktoora_async.files import AtomicDownload, AtomicWriter

    with pytest.raises(E.DownloadError) as short:  # the stored size differs from the announced one
        async with AtomicDownload(tmp_path / "short.pdf", expected_size=9999) as download:
            await download.write(b"%PDF-1.7 " + ECHO_KEY.encode())
            await download.commit()
    collected.append(short.value)
    (tmp_path / "a-file").write_bytes(b"")
    # a folder that cannot exist
    with pytest.raises(E.DownloadError) as unwritable, AtomicWriter(tmp_path / "a-file" / "x.pdf") as writer:
        writer.write(b"x")
    assert type(unwritable.value) is E.DownloadError
    collected.append(unwritable.value)
    with pytest.raises(E.ConfigurationError) as config_error:
        FaktooraClient(ECHO_KEY, base_url="ftp://example.com/api/v1")
    collected.append(config_error.value)

    kinds = {type(exc) for exc in collected}
    every = {
        obj
        for obj in vars(E).values()
        if isinstance(obj, type) and issubclass(obj, E.FaktooraError) and obj.__module__ == E.__name__
    }
    # abstract bases are covered through their subclasses
    abstract = {E.FaktooraError, E.APIStatusError, E.ConflictError, E.TransportError}
    missing = every - abstract - kinds
    assert not missing, (sorted(cls.__name__ for cls in missing), sorted(k.__name__ for k in kinds))
    leaks: dict[str, str] = {}
    for exc in collected:
        for text in _texts_of(exc):
            if ECHO_KEY in text:
                leaks.setdefault(type(exc).__name__, text.replace(ECHO_KEY, "<KEY>")[:160])
    assert not leaks, "the API key is carried by:\n" + "\n".join(
        f"{k}: {v!r}" for k, v in sorted(leaks.items())
    )
    print(f"{len(collected)} errors of {len(kinds)} classes checked")


async def test_client_repr_and_str_hide_the_key() -> None:
    from faktoora_async import FaktooraClient

    async with FaktooraClient(ECHO_KEY, base_url="http://127.0.0.1:9/api/v1") as client:
        shown = [repr(client), str(client), f"{client!r}", repr(client.invoices), repr(client.webhooks)]
        shown += [repr(client.imports), repr(client.events), repr(client.timeout), repr(client.retry)]
        for text in shown:
            leaked = ECHO_KEY in text
            assert not leaked, text.replace(ECHO_KEY, "<KEY>")
        assert "***" in repr(client)
    assert ECHO_KEY not in repr(client)
