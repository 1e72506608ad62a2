"""``client.products``: the account's product catalogue (``/products``, ``/product/{id}``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._raw import raw_method
from ..models import Succeeded
from ..models._checks import build, patch_fields
from ..models.products import ProductInput, ProductPatch, ProductRecord
from ..pagination import AsyncPaginator
from ..protocol import products as proto
from ..protocol.records import struct_body
from ._base import DEFAULT_PER_PAGE, Resource

__all__ = ["Products", "ProductsWithRawResponse"]


class Products(Resource):
    """Catalogue products: list, get, create, update (partial), delete, code check."""

    @property
    def with_raw_response(self) -> ProductsWithRawResponse:
        return ProductsWithRawResponse(self)

    def list(
        self,
        *,
        sort: str | None = None,
        order: str | None = None,
        keyword: str | None = None,
        code: str | None = None,
        page: int = 1,
        per_page: int = DEFAULT_PER_PAGE,
    ) -> AsyncPaginator[ProductRecord]:
        """Matching products (``keyword`` searches name, code and description; ``code`` is exact)."""
        params = proto.filters(sort=sort, order=order, keyword=keyword, code=code)
        return self._paginate(lambda n, size: proto.list_page(params, n, size), ProductRecord, page, per_page)

    async def get(self, product_id: str) -> ProductRecord:
        return await self._r.request(proto.get(product_id), ProductRecord)

    async def create(
        self, product: ProductInput | Mapping[str, Any] | None = None, **fields: Any
    ) -> ProductRecord:
        """Create a product from a :class:`ProductInput`, a mapping or keyword fields; a bad field (a name
        with an emoji, a unit that is no Rec 20 code, a tax rate outside 0..100) raises
        FieldValidationError before anything is sent."""
        body = build(ProductInput, product if product is not None else {}, "product", **fields)
        return await self._r.request(proto.create(struct_body(body)), ProductRecord)

    async def update(self, product_id: str, /, **fields: Any) -> ProductRecord:
        """Change only the fields given (a partial PATCH; ``None`` clears an optional field)."""
        checked, send, nulls = patch_fields(ProductPatch, fields, "product", required=("name", "unit", "tax"))
        return await self._r.request(
            proto.update(product_id, struct_body(checked, only=send, nulls=nulls)), ProductRecord
        )

    async def delete(self, product_id: str) -> bool:
        """Delete a product; True when the server confirmed (``{"succeed": true}``)."""
        answer = await self._r.request_optional(proto.delete(product_id), Succeeded)
        return True if answer is None else answer.succeed

    async def valid_code(self, code: str) -> bool:
        """True when no product has ``code`` yet."""
        return (await self._r.request(proto.valid_code(code), Succeeded)).succeed


class ProductsWithRawResponse:
    """``client.products.with_raw_response``."""

    def __init__(self, products: Products) -> None:
        self.list = raw_method(products.list)
        self.get = raw_method(products.get)
        self.create = raw_method(products.create)
        self.update = raw_method(products.update)
        self.delete = raw_method(products.delete)
        self.valid_code = raw_method(products.valid_code)
