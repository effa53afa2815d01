"""What the Python client openapi-python-client makes from the spec leaves to its users:
walking every page of a list, and problem answers raised as exceptions.

Generate the client as the package `policy_tracker_client` and put this module beside it
(README, "Use the API from code"):

    openapi-python-client generate --path openapi/openapi.json --meta none \
        --output-path policy_tracker_client
    cp openapi/python/policy_tracker_helpers.py .

Every operation's `sync_detailed` returns a `Response` whose `parsed` is the operation's model,
a `Problem` (every 4xx and 5xx the service answers is problem+json), or None. `expect` turns
that into the model or a `ProblemError`; `every_item` walks a list's pages with
`next_page_token` until the last.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

from policy_tracker_client.errors import UnexpectedStatus
from policy_tracker_client.models import Problem
from policy_tracker_client.types import UNSET, Response, Unset

__all__ = ["Page", "ProblemError", "every_item", "expect", "raise_for_problem"]

Model = TypeVar("Model")
Item = TypeVar("Item", covariant=True)


class ProblemError(Exception):
    """A problem+json answer, raised: `problem` holds what the service said (its `status`,
    `title`, `detail`, `type_`, the `errors` by field, the `request_id` to quote)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(f"{problem.status} {problem.title}: {problem.detail}")
        self.problem = problem


def raise_for_problem(response: Response[Any]) -> Response[Any]:
    """The response, unless it is a problem: then its Problem is raised as ProblemError."""
    if isinstance(response.parsed, Problem):
        raise ProblemError(response.parsed)
    return response


def expect(response: Response[Any], model: type[Model]) -> Model:
    """The parsed body as a `model` (the class the operation answers with on success).

    A problem is raised as ProblemError; any other answer (a 304 to a conditional read, a
    body of another shape) as the generated client's UnexpectedStatus, with the body."""
    parsed = raise_for_problem(response).parsed
    if not isinstance(parsed, model):
        raise UnexpectedStatus(response.status_code, response.content)
    return parsed


class Page(Protocol[Item]):
    """What every list answers with (AgreementPage, CommitmentPage, ...)."""

    @property
    def items(self) -> Sequence[Item]: ...

    @property
    def next_page_token(self) -> str | None: ...


def every_item(
    page_model: type[Page[Item]], fetch_page: Callable[[str | Unset], Response[Any]]
) -> Iterator[Item]:
    """Every item of a list, page after page, fetched as they are needed. `fetch_page` takes
    the page token (UNSET for the first page) and calls the list's `sync_detailed` with it:

        every_item(CommitmentPage, lambda token: list_commitments.sync_detailed(
            client=client, page_token=token, status=[ImplementationStatus.ADVANCED]))

    The filters stay the same from page to page (a token belongs to the filters it was made
    under; the service refuses it with others)."""
    token: str | Unset = UNSET
    while True:
        page = expect(fetch_page(token), page_model)
        yield from page.items
        if not page.next_page_token:
            return
        token = page.next_page_token
