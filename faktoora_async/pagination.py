"""One paginator for every list endpoint.

``client.X.list(...)`` returns an :class:`AsyncPaginator`:

* ``page = await client.invoices.list()`` — the first page (a :class:`~faktoora_async.models.Page`: its
  ``items``, ``meta``, ``has_next``);
* ``async for item in client.invoices.list():`` — every item across all pages, one request per page;
* ``async for page in client.invoices.list().pages():`` — the pages themselves.

Nothing is sent until the paginator is awaited or iterated; iterating twice sends the requests twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator
from typing import Any, Generic, Protocol, TypeVar

from .models import Page
from .protocol import APIRequest

__all__ = ["AsyncPaginator", "PageFetcher"]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class PageFetcher(Protocol):
    async def page(self, req: APIRequest, item_type: type[T], page: int, per_page: int) -> Page[T]: ...


class AsyncPaginator(Generic[T]):
    """Await it for one page, ``async for`` it for every item, ``.pages()`` for every page."""

    def __init__(
        self,
        fetcher: PageFetcher,
        make_request: Callable[[int, int], APIRequest],
        item_type: type[T],
        *,
        page: int = 1,
        per_page: int = 100,
    ) -> None:
        if page < 1:
            raise ValueError("page must be >= 1")
        if per_page < 1:
            raise ValueError("per_page must be >= 1")
        self._fetcher = fetcher
        self._make_request = make_request
        self._item_type = item_type
        self.start_page = page
        self.per_page = per_page

    async def _fetch(self, number: int) -> Page[T]:
        return await self._fetcher.page(
            self._make_request(number, self.per_page), self._item_type, number, self.per_page
        )

    def __await__(self) -> Generator[Any, None, Page[T]]:
        return self._fetch(self.start_page).__await__()

    def pages(self) -> AsyncIterator[Page[T]]:
        """Every page from the start page on (stops after a short or the last page)."""
        return _Pages(self)

    def __aiter__(self) -> AsyncIterator[T]:
        return _Items(_Pages(self))

    def __repr__(self) -> str:
        return f"<AsyncPaginator {self._item_type.__name__} from page {self.start_page}>"


class _Pages(Generic[T]):
    def __init__(self, paginator: AsyncPaginator[T]) -> None:
        self._paginator = paginator
        self._next: int | None = paginator.start_page

    def __aiter__(self) -> _Pages[T]:
        return self

    async def __anext__(self) -> Page[T]:
        if self._next is None:
            raise StopAsyncIteration
        number = self._next
        page = await self._paginator._fetch(number)
        # the next page is the one after the page asked for (a server echoing another number cannot loop us)
        self._next = number + 1 if page.items and page.has_next else None
        return page


class _Items(Generic[T]):
    def __init__(self, pages: _Pages[T]) -> None:
        self._pages = pages
        self._buffer: list[T] = []

    def __aiter__(self) -> _Items[T]:
        return self

    async def __anext__(self) -> T:
        while not self._buffer:
            page = await self._pages.__anext__()
            self._buffer = list(reversed(page.items))
        return self._buffer.pop()
