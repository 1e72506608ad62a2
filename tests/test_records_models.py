"""The request models of issue 12's areas check themselves before anything is sent (pure, no server):
customers, products, projects, API keys, incoming updates, the customer CSV, the secret type and the
expiry watch."""

from __future__ import annotations

import datetime
import logging
import pickle
from decimal import Decimal

import pytest

from faktoora_async import FieldValidationError
from faktoora_async.models import (
    ApiKeySecret,
    CustomerInput,
    IncomingUpdate,
    ProductInput,
    ProductPatch,
    ProjectInput,
)
from faktoora_async.models._checks import build, has_emoji, patch_fields
from faktoora_async.protocol import api_keys as key_proto
from faktoora_async.protocol import customers as customer_proto
from faktoora_async.protocol import projects as project_proto
from faktoora_async.resources._csv import check_customer_csv
from faktoora_async.resources.api_keys import KeyExpiryWatch

BASE = {"is_company": True, "address": "Hauptstr. 1", "city": "Berlin"}


def fields_of(exc: pytest.ExceptionInfo[FieldValidationError]) -> set[str | None]:
    return {e.field for e in exc.value.errors}


# ------------------------------------------------------------------------------------------------ customers


@pytest.mark.parametrize(
    ("country", "good", "bad"),
    [
        (None, "10115", "1011"),  # DE is the default country
        ("DE", "01067", "010677"),
        ("AT", "1010", "10100"),
        ("CH", "8001", "800"),
        ("DE", "10115", "1O115"),  # a letter O is not a digit
        ("DE", "10115", "１０１１５"),  # full-width digits are not ASCII digits
    ],
)
def test_postcode_per_country(country: str | None, good: str, bad: str) -> None:
    CustomerInput(**BASE, postcode=good, country=country)
    with pytest.raises(FieldValidationError) as info:
        CustomerInput(**BASE, postcode=bad, country=country)
    assert info.value.field == "postcode"
    assert "postcode" in str(info.value) and (country or "DE") in str(info.value)


def test_postcode_of_other_countries_only_needs_a_value() -> None:
    assert CustomerInput(**BASE, postcode="SW1A 1AA", country="GB").postcode == "SW1A 1AA"
    with pytest.raises(FieldValidationError):
        CustomerInput(**BASE, postcode="  ", country="GB")


def test_customer_collects_every_problem_with_wire_names() -> None:
    with pytest.raises(FieldValidationError) as info:
        CustomerInput(
            is_company="yes",
            address="",
            postcode=10115,
            city="B",
            extras=[],  # type: ignore[arg-type]
            country="de",
            email="nope",
            peppol_id="x",
        )
    assert fields_of(info) == {"isCompany", "address", "postcode", "extras", "country", "email", "peppolId"}
    assert isinstance(info.value, ValueError)  # also a ValueError


def test_customer_extras_is_always_sent_even_empty() -> None:
    import msgspec

    body = msgspec.json.decode(msgspec.json.encode(CustomerInput(**BASE, postcode="10115")))
    assert body == {
        "isCompany": True,
        "address": "Hauptstr. 1",
        "postcode": "10115",
        "city": "Berlin",
        "extras": {},
    }


def test_build_from_mappings_names_unknown_and_missing_fields() -> None:
    made = build(
        CustomerInput,
        {
            "isCompany": False,
            "address": "A",
            "postcode": "1010",
            "city": "Wien",
            "country": "AT",
            "firstName": "Eva",
        },
        "customer",
    )
    assert made.first_name == "Eva" and made.country == "AT"
    with pytest.raises(FieldValidationError) as info:
        build(CustomerInput, {**BASE, "postcode": "10115", "emial": "a@b.de"}, "customer")
    assert fields_of(info) == {"emial"}
    with pytest.raises(FieldValidationError) as info:
        build(CustomerInput, {"isCompany": True}, "customer")
    assert fields_of(info) == {"address", "postcode", "city"}


def test_list_options_are_checked_locally() -> None:
    with pytest.raises(ValueError, match="sort"):
        customer_proto.filters(sort="colour")
    with pytest.raises(ValueError, match="order"):
        customer_proto.filters(order="up")
    params = customer_proto.filters(keywords=["acme", "berlin"], relation_fields="name", sort="name")
    assert params == (
        ("sort", "name"),
        ("keywords[]", "acme"),
        ("keywords[]", "berlin"),
        ("relationFields[]", "name"),
    )


# ------------------------------------------------------------------------------------------------ products


@pytest.mark.parametrize("name", ["Kaffee ☕", "Pizza 🍕", "Flag 🇩🇪", "Star ⭐", "Keycap 1️⃣", "Family 👨‍👩‍👧"])
def test_product_names_without_emoji(name: str) -> None:
    assert has_emoji(name)
    with pytest.raises(FieldValidationError) as info:
        ProductInput(name=name, unit="H87", tax=Decimal(19))
    assert info.value.field == "name" and "emoji" in str(info.value)


@pytest.mark.parametrize("name", ["Rohr ⌀ 20 mm", "Müller™ Beratung ©", "Pfeil → Ziel", "Ελληνικά", "Straße"])
def test_product_names_that_are_not_emoji(name: str) -> None:
    assert ProductInput(name=name, unit="H87", tax=Decimal(19)).name == name


def test_product_fields_are_checked_and_decimals_converted() -> None:
    p = ProductInput(name="Beratung", unit="HUR", tax=19, price="120.50", cost=3)  # type: ignore[arg-type]
    assert p.tax == Decimal(19) and p.price == Decimal("120.50") and p.cost == Decimal(3)
    with pytest.raises(FieldValidationError) as info:
        ProductInput(
            name="",
            unit="hours",
            tax=Decimal("100.5"),
            price="abc",
            inventory_count=1.5,  # type: ignore[arg-type]
            global_id={"id": "4012345000009", "schemeId": "GTIN"},
        )  # type: ignore[arg-type]
    assert fields_of(info) == {"name", "unit", "tax", "price", "inventoryCount", "globalID.schemeId"}
    with pytest.raises(FieldValidationError, match="decimals"):
        ProductInput(name="x", unit="C62", tax=Decimal("19.125"))
    assert ProductInput(name="x", unit="C62", tax=Decimal("19.000")).tax == Decimal("19.000")


def test_product_patch_is_partial_and_cannot_clear_required() -> None:
    checked, send, nulls = patch_fields(
        ProductPatch, {"price": "9.99", "description": None}, "product", required=("name", "unit", "tax")
    )
    assert send == {"price"} and nulls == ["description"] and checked.price == Decimal("9.99")
    with pytest.raises(FieldValidationError) as info:
        patch_fields(ProductPatch, {"unit": None}, "product", required=("name", "unit", "tax"))
    assert fields_of(info) == {"unit"}
    with pytest.raises(FieldValidationError):
        patch_fields(ProductPatch, {"name": "Tee 🍵"}, "product")
    with pytest.raises(ValueError):
        patch_fields(ProductPatch, {}, "product")


# ------------------------------------------------------------------------------------------------ projects


def test_project_name_status_and_eta() -> None:
    assert ProjectInput(name="x" * 255).name == "x" * 255
    with pytest.raises(FieldValidationError) as info:
        ProjectInput(name="x" * 256)
    assert info.value.field == "name" and "255" in str(info.value)
    with pytest.raises(FieldValidationError) as info:
        ProjectInput(name="Umbau", status="done", est_minutes=-1, currency="eur", eta="soon")
    assert fields_of(info) == {"status", "estMinutes", "currency", "eta"}
    assert ProjectInput(name="a", eta=datetime.date(2027, 1, 2)).eta == "2027-01-02"
    when = datetime.datetime(2027, 1, 2, 10, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    assert ProjectInput(name="a", eta=when).eta == "2027-01-02T09:30:00Z"
    with pytest.raises(ValueError, match="status"):
        project_proto.filters(status=["active", "gone"])
    with pytest.raises(ValueError, match="document_type"):
        project_proto.attach("0b4c2f3e-0000-4000-8000-000000000000", "F1", "receipt")


# ------------------------------------------------------------------------------------------------ API keys


def test_api_key_arguments_are_checked_before_sending() -> None:
    now = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.timezone.utc)
    ok = key_proto.create("ci", now + datetime.timedelta(days=365), now=now)
    assert ok.api_version == "v2" and b'"expiresAt":"2027-12-01T12:00:00.000Z"' in (ok.body or b"")
    for bad, field in [
        ((" ", None), "label"),
        (("ci", now + datetime.timedelta(days=365, seconds=1)), "expiresAt"),
        (("ci", now - datetime.timedelta(seconds=1)), "expiresAt"),
        (("ci", "2027-01-01"), "expiresAt"),
    ]:
        with pytest.raises(FieldValidationError) as info:
            key_proto.create(*bad, now=now)  # type: ignore[arg-type]
        assert info.value.field == field
    with pytest.raises(FieldValidationError) as info:
        key_proto.rotate("ak_1", -1)
    assert info.value.field == "gracePeriodHours"
    assert key_proto.update("ak_1", expires_at=None).body == b'{"expiresAt":null}'
    with pytest.raises(ValueError):
        key_proto.update("ak_1")


def test_secret_never_shows_itself() -> None:
    secret = ApiKeySecret("sk_test_secretvalue123", key_id="ak_1")
    for text in (
        repr(secret),
        str(secret),
        f"{secret}",
        f"{secret!r}",
        "%s" % (secret,),  # noqa: UP031
        format(secret),
        repr([secret]),
    ):
        assert "sk_test_secretvalue123" not in text
    assert secret.reveal() == "sk_test_secretvalue123"
    assert secret == ApiKeySecret("sk_test_secretvalue123") and secret != ApiKeySecret("sk_test_other00")
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_expiry_watch_warns_once_per_key_and_never_with_the_secret(caplog: pytest.LogCaptureFixture) -> None:
    watch = KeyExpiryWatch()
    headers = {"X-API-Key-Status": "expiring_soon", "X-API-Key-Expires-At": "2026-12-05T00:00:00.000Z"}
    with caplog.at_level(logging.WARNING, logger="faktoora_async"):
        watch.observe({"X-API-Key-Status": "active"})
        assert not caplog.records
        for _ in range(5):
            watch.observe(headers)
        assert len(caplog.records) == 1
        assert "2026-12-05" in caplog.records[0].getMessage()
        watch.observe({**headers, "X-API-Key-Id": "ak_abc"})  # a named key: its own warning, once
        watch.observe({**headers, "X-API-Key-Id": "ak_abc"})
        assert len(caplog.records) == 2 and "ak_abc" in caplog.records[1].getMessage()
        watch.observe({**headers, "X-API-Key-Id": "sk_test_notanidbutasecret"})  # never echoed
        watch.key_changed(ApiKeySecret("sk_test_newsecret0001", key_id="ak_new"))
        watch.observe(headers)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 3 and "ak_new" in messages[2]
    assert not any("sk_test_" in m for m in messages)
    assert watch.notice is not None and watch.notice.key_id is None


# ------------------------------------------------------------------------------------------------ incoming


def test_incoming_update_fields() -> None:
    u = IncomingUpdate(issue_date="20260102", total_gross="11.90")  # type: ignore[arg-type]
    assert u.issue_date == datetime.date(2026, 1, 2) and u.total_gross == Decimal("11.90")
    with pytest.raises(FieldValidationError) as info:
        IncomingUpdate(issue_date="2 Jan", currency="Euro", total_tax="x")  # type: ignore[arg-type]
    assert fields_of(info) == {"issueDate", "currency", "totalTax"}


# ------------------------------------------------------------------------------------------------ CSV


def customer_csv(rows: int, *, bad: dict[int, str] | None = None, sep: str = ",") -> bytes:
    lines = [sep.join(["isCompany", "name", "address", "postcode", "city", "customerId", "extras"])]
    for i in range(1, rows + 1):
        postcode = (bad or {}).get(i, f"{10000 + i:05d}")
        lines.append(sep.join(["yes", f"Firma {i}", f"Weg {i}", postcode, "Berlin", f"C-{i:05d}", ""]))
    return ("\n".join(lines) + "\n").encode()


def test_csv_check_names_the_bad_row() -> None:
    assert check_customer_csv(customer_csv(1000)) == 1000
    assert check_customer_csv(b"\xef\xbb\xbf" + customer_csv(3, sep=";")) == 3  # BOM, semicolons
    with pytest.raises(FieldValidationError) as info:
        check_customer_csv(customer_csv(1000, bad={517: "5170"}))
    assert info.value.row == 517
    assert [(e.index, e.field) for e in info.value.errors] == [(516, "postcode")]
    assert "row 517" in str(info.value)


def test_csv_row_numbers_skip_blank_lines_and_see_duplicates() -> None:
    data = customer_csv(3).replace(b"\nyes,Firma 2", b"\n\nyes,Firma 2")
    data += b"true,Dup,Weg,10115,Berlin,C-00001,\n"  # row 4 reuses row 1's customer number
    data += b'no,Eva,Weg,10115,Berlin,,{"vip": true}\n'
    data += b"maybe,X,Weg,10115,Berlin,,\n"
    data += b"true,X,Weg,10115,Berlin\n"
    with pytest.raises(FieldValidationError) as info:
        check_customer_csv(data)
    assert [(e.index, e.field) for e in info.value.errors] == [(3, "customerId"), (5, "isCompany"), (6, None)]
    assert info.value.row == 4


def test_csv_header_problems() -> None:
    with pytest.raises(FieldValidationError) as info:
        check_customer_csv(b"isCompany,address,city,colour,city\n")
    assert fields_of(info) == {"colour", "city", "postcode", "extras"}
    with pytest.raises(FieldValidationError, match="UTF-8"):
        check_customer_csv("isCompany,address\n".encode("utf-16"))
    with pytest.raises(FieldValidationError, match="no customer rows"):
        check_customer_csv(b"isCompany,address,postcode,city,extras\n")
