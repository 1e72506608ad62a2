"""API.md v2 "Invoice numbers" with raw HTTP against the sandbox: template grammar, pad length, counter,
uniqueness bump, preview, ``verify-number``, the number settings and numbering at creation."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from _sandbox_http import Api, assert_error, invoice

from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

SETTINGS = "/settings/invoice-number-template"


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async with Sandbox(processing_delay=(30, 30)) as sb, aiohttp.ClientSession() as session:
        yield Api(session, sb)


def today_parts() -> set[tuple[str, str, str]]:
    """(YYYY, MM, DD) of today in UTC, and of tomorrow (a test may straddle midnight)."""
    now = dt.datetime.now(dt.timezone.utc).date()
    return {(f"{d.year:04d}", f"{d.month:02d}", f"{d.day:02d}") for d in (now, now + dt.timedelta(days=1))}


async def preview(api: Api, template: str | None = None) -> dict[str, Any]:
    params = {"template": template} if template is not None else {}
    status, body, _ = await api.call("GET", "/invoices/next-number", params=params)
    assert status == 200, body
    return dict(body)


async def put_settings(api: Api, **body: Any) -> tuple[int, Any]:
    status, answer, _ = await api.call("PUT", SETTINGS, json=body)
    return status, answer


async def configure(api: Api, **body: Any) -> dict[str, Any]:
    status, answer = await put_settings(api, **body)
    assert status == 200, answer
    return dict(answer)


async def numbers_of(api: Api, fids: list[str]) -> list[str]:
    status, body, _ = await api.call(
        "GET", "/invoices", params={"perPage": "1000"}, headers=api.headers(Accept="application/json")
    )
    assert status == 200
    by_id = {row["faktooraId"]: row["invoiceNumber"] for row in body["data"]}
    return [by_id[fid] for fid in fids]


# --- settings -----------------------------------------------------------------------------------------------
async def test_default_settings_and_preview(api: Api) -> None:
    status, body, _ = await api.call("GET", SETTINGS)
    assert status == 200 and body == {"template": "YYYY/MM/id", "padLength": 5, "counter": 0}
    status, v2, _ = await api.call("GET", SETTINGS, v=2)
    assert status == 200 and v2 == body
    first = await preview(api)
    assert set(first) == {"invoiceNumber", "counter"} and first["counter"] == 0
    match = re.fullmatch(r"(\d{4})/(\d{2})/00001", first["invoiceNumber"])
    assert match and (match[1], match[2]) in {(y, m) for y, m, _ in today_parts()}
    assert await preview(api) == first  # a preview allocates nothing


@pytest.mark.parametrize(
    ("template", "pattern"),
    [
        ("YYYY/MM/id", r"(?P<y>\d{4})/(?P<m>\d{2})/00001"),
        ("YYYY-id", r"(?P<y>\d{4})-00001"),
        ("RE-YYYY-id", r"RE-(?P<y>\d{4})-00001"),
        ("YYYY.MM.DD.id", r"(?P<y>\d{4})\.(?P<m>\d{2})\.(?P<d>\d{2})\.00001"),
        ("INV_2026_id", r"INV_2026_00001"),
        ("RE-id", r"RE-00001"),
    ],
)
async def test_templates_render_today_and_the_padded_counter(api: Api, template: str, pattern: str) -> None:
    body = await preview(api, template)
    assert body["template"] == template and body["counter"] == 0
    match = re.fullmatch(pattern, body["invoiceNumber"])
    assert match, body
    parts = match.groupdict()
    assert any(
        parts.get("y", y) == y and parts.get("m", m) == m and parts.get("d", d) == d
        for y, m, d in today_parts()
    )
    status, settings = await put_settings(api, template=template)
    assert status == 200 and settings == {"template": template, "padLength": 5, "counter": 0}
    assert (await preview(api))["invoiceNumber"] == body["invoiceNumber"]


@pytest.mark.parametrize(("pad", "digits"), [(4, "0001"), (5, "00001"), (1, "1"), (10, "0000000001")])
async def test_pad_length(api: Api, pad: int, digits: str) -> None:
    settings = await configure(api, template="YYYY-id", padLength=pad)
    assert settings["padLength"] == pad
    assert (await preview(api))["invoiceNumber"].endswith("-" + digits)
    (fid,) = await api.create(invoice(None))
    (number,) = await numbers_of(api, [fid])
    assert number.endswith("-" + digits) and len(number) == 5 + pad


async def test_counter_longer_than_the_pad_is_not_cut(api: Api) -> None:
    await configure(api, template="RE-id", padLength=4)
    await api.create(invoice("RE-9999"))  # made by the template: the counter moves to 9999
    assert await preview(api) == {"invoiceNumber": "RE-10000", "counter": 9999}


async def test_bad_pad_lengths_are_400(api: Api) -> None:
    for pad in (0, 11, -1, "5", 4.5, True):
        status, body = await put_settings(api, padLength=pad)
        assert status == 400, pad
        assert_error(body, 400, "BAD_REQUEST")
        assert body["errors"][0]["field"] == "padLength" and "1 to 10" in body["message"]
    for bad in ({}, {"template": None}, {"counter": 5}, {"template": "YYYY-id", "extra": 1}):
        status, body = await put_settings(api, **bad)
        assert status == 400, bad
        assert_error(body, 400)
    status, body, _ = await api.call("PUT", SETTINGS, json=["YYYY-id"])
    assert status == 400
    status, body, _ = await api.call("GET", SETTINGS)
    assert body == {"template": "YYYY/MM/id", "padLength": 5, "counter": 0}  # nothing changed


MALFORMED = [
    ("", "must not be empty"),
    ("YYYY/MM", "must end with a separator and id"),
    ("id", "must end with a separator and id"),
    ("YYYY/MM-id", "mixes separators"),
    ("YYYY//id", "empty segment"),
    ("/YYYY/id", "empty segment"),
    ("YYYY-MM-", "empty segment"),
    ("YYYY/id/MM", "id must be the last segment"),
    ("YYYY-id-id", "id may appear only once"),
    ("YYYY id", "character ' ' is not allowed"),
    ("YYYY|id", "character '|' is not allowed"),
    ("RE-{YYYY}-{counter:05}", "braces are not template syntax"),
    ("{YYYY}-{counter}", "braces are not template syntax"),
    ("YY-id", "unknown date token 'YY'"),
    ("yyyy-MM-id", "unknown date token 'yyyy'"),
    ("YYYY-YYYY-id", "date token YYYY appears more than once"),
    ("YYYY-ID", "the counter token is lower-case id"),
    ("MMM-id", "unknown date token 'MMM'"),
    ("RE-" + "X" * 100 + "-id", "at most 100 characters"),
]


@pytest.mark.parametrize(("template", "rule"), MALFORMED, ids=[m[1] + ":" + m[0][:20] for m in MALFORMED])
async def test_malformed_templates_are_400_naming_the_rule(api: Api, template: str, rule: str) -> None:
    status, body = await put_settings(api, template=template)
    assert status == 400
    assert_error(body, 400, "BAD_REQUEST")
    assert rule in body["message"]
    assert body["errors"] == [{"field": "template", "message": body["errors"][0]["message"]}]
    assert rule in body["errors"][0]["message"]
    status, preview_body, _ = await api.call("GET", "/invoices/next-number", params={"template": template})
    assert status == 400 and rule in preview_body["message"]
    _, settings, _ = await api.call("GET", SETTINGS)
    assert settings["template"] == "YYYY/MM/id"


async def test_template_must_be_a_string(api: Api) -> None:
    for bad in (5, ["YYYY-id"], {"t": 1}, True):
        status, body = await put_settings(api, template=bad)
        assert status == 400 and body["errors"][0]["field"] == "template", bad
        assert "must be a string" in body["message"]


# --- counter, bump, allocation ------------------------------------------------------------------------------
async def test_invoices_without_number_are_numbered_at_creation(api: Api) -> None:
    await configure(api, template="RE-YYYY-id", padLength=4)
    fids = await api.create(invoice(None), invoice("MANUAL-1"), invoice(None))
    numbers = await numbers_of(api, fids)
    year = re.fullmatch(r"RE-(\d{4})-0001", numbers[0])
    assert year and numbers[1] == "MANUAL-1" and numbers[2] == f"RE-{year[1]}-0002"
    _, settings, _ = await api.call("GET", SETTINGS)
    assert settings["counter"] == 2  # counter = the last number used; MANUAL-1 is not template-made
    assert (await preview(api))["invoiceNumber"] == f"RE-{year[1]}-0003"
    # the documents carry the allocated numbers
    st = await api.status(fids[0])
    assert st["jobStatus"] in ("queued", "processing")


async def test_template_made_numbers_move_the_counter_forward_only(api: Api) -> None:
    await configure(api, template="A-id", padLength=5)
    await api.create(invoice("A-00003"))
    assert await preview(api) == {"invoiceNumber": "A-00004", "counter": 3}
    await api.create(invoice("A-00005"), invoice("A-00002"))  # to the largest embedded value, never back
    assert await preview(api) == {"invoiceNumber": "A-00006", "counter": 5}
    await api.create(invoice("A-7"))  # made by the template with another pad: still moves it
    assert await preview(api) == {"invoiceNumber": "A-00008", "counter": 7}
    await api.create(invoice("B-00020"), invoice("A-00030X"), invoice("XA-00040"))  # not template-made
    assert await preview(api) == {"invoiceNumber": "A-00008", "counter": 7}
    await configure(api, template="YYYY/MM/id")  # date tokens match any date
    await api.create(invoice("2019/12/00012"), invoice("2019/13/00099"))  # month 13: not template-made
    _, settings, _ = await api.call("GET", SETTINGS)
    assert settings == {"template": "YYYY/MM/id", "padLength": 5, "counter": 12}


async def test_uniqueness_bump_skips_taken_numbers_without_moving_on_preview(api: Api) -> None:
    await configure(api, template="Z-id", padLength=3)
    # take Z-002 and Z-003 through another template so the counter stays 0
    await configure(api, template="Y-id")
    await api.create(invoice("Z-001"), invoice("Z-002"))
    await configure(api, template="Z-id")
    assert await preview(api) == {"invoiceNumber": "Z-003", "counter": 0}  # Z-001, Z-002 taken: bumped
    assert await preview(api) == {"invoiceNumber": "Z-003", "counter": 0}  # a preview moves nothing
    fids = await api.create(invoice(None), invoice(None))
    assert await numbers_of(api, fids) == ["Z-003", "Z-004"]
    assert await preview(api) == {"invoiceNumber": "Z-005", "counter": 4}


async def test_numbering_skips_numbers_of_the_same_request(api: Api) -> None:
    await configure(api, template="Q-id", padLength=2)
    fids = await api.create(invoice(None), invoice("Q-02"), invoice(None))
    assert await numbers_of(api, fids) == ["Q-01", "Q-02", "Q-03"]


async def test_a_refused_request_allocates_nothing(api: Api) -> None:
    await configure(api, template="R-id")
    await api.create(invoice("R-00001"))
    status, body, _ = await api.call(
        "POST", "/invoices", json={"invoices": [invoice(None), invoice("R-00001")]}
    )
    assert status == 409
    assert_error(body, 409, "DUPLICATE_INVOICE_NUMBER")
    bad = invoice(None)
    bad["buyer"]["postcode"] = "ABC"
    status, body, _ = await api.call("POST", "/invoices", json={"invoices": [invoice(None), bad]})
    assert status == 400
    assert await preview(api) == {"invoiceNumber": "R-00002", "counter": 1}


async def test_tenants_have_their_own_numbers(
    api: Api,
) -> None:
    other = Api(api.s, api.sb, account="branch-2")
    await configure(api, template="T-id")
    await api.create(invoice(None))
    status, settings, _ = await other.call("GET", SETTINGS)
    assert settings == {"template": "YYYY/MM/id", "padLength": 5, "counter": 0}
    status, body, _ = await other.call("GET", "/invoices/verify-number", params={"invoiceNumber": "T-00001"})
    assert status == 200 and body == {"succeed": True}


# --- verify-number ------------------------------------------------------------------------------------------
async def test_verify_number(api: Api) -> None:
    await api.create(invoice("V/2026/1"))
    for number, free in (("V/2026/1", False), ("V/2026/2", True), ("v/2026/1", True)):
        for v in (1, 2):
            status, body, _ = await api.call(
                "GET", "/invoices/verify-number", v=v, params={"invoiceNumber": number}
            )
            assert status == 200 and body == {"succeed": free}, (number, v)
    for params in ({}, {"invoiceNumber": ""}, {"invoiceNumber": "x" * 101}):
        status, body, _ = await api.call("GET", "/invoices/verify-number", params=params)
        assert status == 400, params
        assert_error(body, 400, "BAD_REQUEST")
        assert body["errors"][0]["field"] == "invoiceNumber"
    status, body, _ = await api.call("GET", "/invoices/verify-number", headers={})
    assert status == 401
