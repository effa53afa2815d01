"""Loading the reviewed seed files in `seeds/` through the same schemas and services as the
API. Each record of the files has a key (`agreement/<slug>`, `.../commitment/<external_id>`)
and the ledger remembers which record was made for each. A load creates what is missing,
updates what the files changed and removes what they no longer hold, but leaves alone (and
names) every record that a user changed or deleted after seeding, unless told to overwrite.

The `seed` command runs it once, on a database never seeded; `seed --check` runs it and rolls
back; `seed --apply` commits it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from service.core import writes
from service.organizations import services as organizations
from service.organizations.models import Organization, Post
from service.organizations.schemas import OrganizationCreateSchema, PostCreateSchema
from service.people import services as people
from service.people.models import Membership, Person
from service.people.schemas import MembershipCreateSchema, PersonCreateSchema
from service.seeding.agreements import AgreementSections
from service.seeding.files import SeedError, read_seed_files
from service.seeding.references import E
from service.seeding.report import SeedReport
from service.seeding.sync import load_fields, no_check
from service.sources import services as sources
from service.sources.models import Citation, Source
from service.sources.schemas import CitationCreateSchema, SourceCreateSchema
from service.themes import services as themes
from service.themes.models import Theme
from service.themes.schemas import ThemeCreateSchema


class SeedLoader(AgreementSections):
    def load(self, documents: dict[str, Any]) -> SeedReport:
        steps: list[tuple[str, Callable[[list[Any]], None]]] = [
            ("themes", self.themes),
            ("sources", self.sources),
            ("organizations", self.organizations),
            ("posts", self.posts),
            ("people", self.people),
            ("memberships", self.memberships),
            ("agreements", self.agreements),
            ("meeting_series", self.meeting_series),
            ("meetings", self.meetings),
        ]
        known = {name for name, _step in steps}
        unknown = set(documents) - known
        if unknown:
            raise SeedError(f"unknown sections in the seed files: {sorted(unknown)}")
        for name, step in steps:
            self.on_step(name)
            step(documents.get(name, []))
        self.on_step("assessments")
        self.append_assessments()
        self.on_step("citations")
        self.cite_all()
        self.on_step("removals")
        # Imported here: service.models imports this package's model, so not at the top.
        from service.models import MODEL_BY_ENTITY

        self.remove_what_the_files_dropped(MODEL_BY_ENTITY.__getitem__)
        # The ledger's rows go with the last step's writes.
        writes.commit(self.session)
        return self.report

    def themes(self, items: list[dict[str, Any]], parent_id: int | None = None) -> None:
        for item in items:
            key = f"theme/{item.get('slug')}"
            fields = {k: v for k, v in item.items() if k != "children"}
            desired = load_fields(ThemeCreateSchema, {**fields, "parent_id": parent_id}, key)
            theme = self.sync(
                "themes",
                key,
                E.THEME,
                Theme,
                (Theme.slug == desired["slug"],),
                desired,
                lambda data: themes.create_theme(self.session, data=data),
                lambda record, data: themes.update_theme(
                    self.session, theme_ref=str(record.id), data=data, check=no_check
                ),
            )
            if theme is not None:
                self.themes(item.get("children", []), parent_id=theme.id)

    def sources(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            key = f"source/{item.get('key')}"
            fields = {k: v for k, v in item.items() if k not in {"key", "citations"}}
            desired = load_fields(SourceCreateSchema, fields, key)
            source = self.sync(
                "sources",
                key,
                E.SOURCE,
                Source,
                (Source.url == desired["url"],),
                desired,
                lambda data: sources.create_source(self.session, data=data),
                lambda record, data: sources.update_source(
                    self.session, source_id=record.id, data=data, check=no_check
                ),
            )
            if source is not None:
                self.source_ids[item["key"]] = source.id
            self._cite(key, E.SOURCE, source, item)

    def organizations(self, items: list[dict[str, Any]], parent_id: int | None = None) -> None:
        for item in items:
            key = f"organization/{item.get('slug')}"
            fields = {k: v for k, v in item.items() if k not in {"children", "citations"}}
            desired = load_fields(OrganizationCreateSchema, {**fields, "parent_id": parent_id}, key)
            organization = self.sync(
                "organizations",
                key,
                E.ORGANIZATION,
                Organization,
                (Organization.slug == desired["slug"],),
                desired,
                lambda data: organizations.create_organization(self.session, data=data),
                lambda record, data: organizations.update_organization(
                    self.session, organization_ref=str(record.id), data=data, check=no_check
                ),
            )
            self._cite(key, E.ORGANIZATION, organization, item)
            if organization is not None:
                self.organizations(item.get("children", []), parent_id=organization.id)

    def posts(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            key = f"organization/{item['organization']}/post/{item.get('key')}"
            organization_id = self._organization(item["organization"], key)
            desired = load_fields(
                PostCreateSchema, {"organization_id": organization_id, "label": item["label"]}, key
            )
            post = self.sync(
                "posts",
                key,
                E.POST,
                Post,
                (Post.organization_id == organization_id, Post.label == desired["label"]),
                desired,
                lambda data: organizations.create_post(self.session, data=data),
                lambda record, data: organizations.update_post(
                    self.session, post_id=record.id, data=data, check=no_check
                ),
            )
            if post is not None:
                self.post_ids[item["key"]] = post.id
            self._cite(key, E.POST, post, item)

    def people(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            key = f"person/{item.get('slug')}"
            fields = {k: v for k, v in item.items() if k != "citations"}
            desired = load_fields(PersonCreateSchema, fields, key)
            person = self.sync(
                "people",
                key,
                E.PERSON,
                Person,
                (Person.slug == desired["slug"],),
                desired,
                lambda data: people.create_person(self.session, data=data),
                lambda record, data: people.update_person(
                    self.session, person_ref=str(record.id), data=data, check=no_check
                ),
            )
            self._cite(key, E.PERSON, person, item)

    def memberships(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            held = item.get("post") or item.get("organization")
            key = f"person/{item.get('person')}/membership/{held}"
            data = {
                k: v
                for k, v in item.items()
                if k not in {"person", "post", "organization", "citations"}
            }
            data["person_id"] = self._person(item["person"], key)
            if "post" in item:
                if item["post"] not in self.post_ids:
                    raise SeedError(f"{key}: no post {item['post']!r}")
                data["post_id"] = self.post_ids[item["post"]]
            if "organization" in item:
                data["organization_id"] = self._organization(item["organization"], key)
            desired = load_fields(MembershipCreateSchema, data, key)
            membership = self.sync(
                "memberships",
                key,
                E.MEMBERSHIP,
                Membership,
                (
                    Membership.person_id == desired["person_id"],
                    Membership.post_id == desired.get("post_id"),
                    Membership.organization_id == desired.get("organization_id"),
                ),
                desired,
                lambda data: people.create_membership(self.session, data=data),
                lambda record, data: people.update_membership(
                    self.session, membership_id=record.id, data=data, check=no_check
                ),
            )
            self._cite(key, E.MEMBERSHIP, membership, item)

    def cite_all(self) -> None:
        numbers: Counter[tuple[str, str, str]] = Counter()
        for pending in self.citations:
            source_key, field = pending.data.get("source"), pending.data.get("field") or "-"
            place = (pending.owner_key, str(source_key), field)
            key = f"{pending.owner_key}/citation/{source_key}/{field}/{numbers[place]}"
            numbers[place] += 1
            if source_key not in self.source_ids:
                raise SeedError(f"{key}: unknown source {source_key!r}")
            data = {k: v for k, v in pending.data.items() if k != "source"}
            data.update(
                source_id=self.source_ids[source_key],
                entity_type=pending.entity_type.value,
                entity_id=pending.entity_id,
            )
            desired = load_fields(CitationCreateSchema, data, key)
            self.sync(
                "citations",
                key,
                E.CITATION,
                Citation,
                (
                    Citation.source_id == desired["source_id"],
                    Citation.entity_type == pending.entity_type,
                    Citation.entity_id == pending.entity_id,
                    Citation.field == desired.get("field"),
                    Citation.quote == desired.get("quote"),
                ),
                desired,
                lambda data: sources.create_citation(self.session, data=data),
                lambda record, data: sources.update_citation(
                    self.session, citation_id=record.id, data=data, check=no_check
                ),
            )


def load_seeds(
    session: Session,
    directory: Path,
    on_step: Callable[[str], None] | None = None,
    *,
    overwrite_user_changes: bool = False,
) -> SeedReport:
    """Bring the database in line with the seed files (see the module's docstring)."""
    loader = SeedLoader(session, on_step, overwrite_user_changes=overwrite_user_changes)
    return loader.load(read_seed_files(directory))
