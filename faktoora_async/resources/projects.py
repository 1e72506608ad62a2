"""``client.projects``: projects (``/projects``, ``/project/{id}``) and the document each may hold."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._raw import raw_method
from ..models import Succeeded
from ..models._checks import build, patch_fields
from ..models.projects import Project, ProjectInput, ProjectPatch
from ..pagination import AsyncPaginator
from ..protocol import projects as proto
from ..protocol.records import struct_body
from ._base import DEFAULT_PER_PAGE, Resource

__all__ = ["Projects", "ProjectsWithRawResponse"]


class Projects(Resource):
    """Projects: list, get, create, update (partial), delete, attach/detach a document."""

    @property
    def with_raw_response(self) -> ProjectsWithRawResponse:
        return ProjectsWithRawResponse(self)

    def list(
        self,
        *,
        keyword: str | None = None,
        status: Sequence[str] | str | None = None,
        customer_id: Sequence[str] | str | None = None,
        sort: str | None = None,
        order: str | None = None,
        page: int = 1,
        per_page: int = DEFAULT_PER_PAGE,
    ) -> AsyncPaginator[Project]:
        """Matching projects; ``status`` and ``customer_id`` take one value or several (any of them)."""
        params = proto.filters(
            keyword=keyword, status=status, customer_id=customer_id, sort=sort, order=order
        )
        return self._paginate(lambda n, size: proto.list_page(params, n, size), Project, page, per_page)

    async def get(self, project_id: str) -> Project:
        return await self._r.request(proto.get(project_id), Project)

    async def create(self, project: ProjectInput | Mapping[str, Any] | None = None, **fields: Any) -> Project:
        """Create a project (``name`` required, at most 255 characters; ``status`` active, paused or
        closed); a bad field raises FieldValidationError before anything is sent."""
        body = build(ProjectInput, project if project is not None else {}, "project", **fields)
        return await self._r.request(proto.create(struct_body(body)), Project)

    async def update(self, project_id: str, /, **fields: Any) -> Project:
        """Change only the fields given (a partial PATCH; ``None`` clears an optional field)."""
        checked, send, nulls = patch_fields(ProjectPatch, fields, "project", required=("name",))
        return await self._r.request(
            proto.update(project_id, struct_body(checked, only=send, nulls=nulls)), Project
        )

    async def delete(self, project_id: str) -> bool:
        """Delete a project; True when the server confirmed (``{"succeed": true}``)."""
        answer = await self._r.request_optional(proto.delete(project_id), Succeeded)
        return True if answer is None else answer.succeed

    async def attach_document(self, project_id: str, document_id: str, document_type: str) -> Project:
        """Put a document into the project (a project holds at most one, a document is in at most one
        project: ConflictError otherwise).  ``document_type``: invoice (a faktooraId), invoiceIncoming
        (an importId), offer, letter, reminder or orderConfirmation."""
        return await self._r.request(proto.attach(project_id, document_id, document_type), Project)

    async def detach_document(
        self, project_id: str, document_id: str | None = None, document_type: str | None = None
    ) -> Project:
        """Take the project's document out of it (NotFoundError when it holds none).  Give the document
        to make sure the one you mean is detached; without it, whatever the project holds is."""
        return await self._r.request(proto.detach(project_id, document_id, document_type), Project)


class ProjectsWithRawResponse:
    """``client.projects.with_raw_response``."""

    def __init__(self, projects: Projects) -> None:
        self.list = raw_method(projects.list)
        self.get = raw_method(projects.get)
        self.create = raw_method(projects.create)
        self.update = raw_method(projects.update)
        self.delete = raw_method(projects.delete)
        self.attach_document = raw_method(projects.attach_document)
        self.detach_document = raw_method(projects.detach_document)
