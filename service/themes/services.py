from __future__ import annotations

from sqlalchemy.orm import Session

from service.core import records, writes
from service.core.pagination import Page, PageRequest, keyset_page
from service.core.vocabularies import EntityType
from service.progress import tallies, upkeep
from service.themes.inputs import ThemeFilters, ThemeIn
from service.themes.models import Theme

THEME = EntityType.THEME


def list_themes(session: Session, *, page: PageRequest, filters: ThemeFilters) -> Page[Theme]:
    statement = records.live(Theme)
    if "parent" in filters:
        statement = statement.where(
            records.refers_to(Theme.parent_id, session, Theme, THEME, filters["parent"], "parent")
        )
    if "q" in filters:
        statement = statement.where(Theme.name.icontains(filters["q"], autoescape=True))
    return keyset_page(session, statement, Theme.id, page)


def get_theme(session: Session, *, theme_ref: str) -> Theme:
    return records.find_by_ref(session, Theme, THEME, theme_ref)


def create_theme(session: Session, *, data: ThemeIn) -> Theme:
    records.ensure_unique(session, Theme, THEME, "slug", data["slug"])
    if (parent_id := data.get("parent_id")) is not None:
        records.referenced(session, Theme, THEME, parent_id, "parent_id")
    theme = writes.add(session, Theme(**data), THEME)
    writes.commit(session)
    return theme


def update_theme(session: Session, *, theme_ref: str, data: ThemeIn, check: writes.Check) -> Theme:
    theme = records.find_by_ref(session, Theme, THEME, theme_ref, for_update=True)
    check(theme)
    if "slug" in data:
        records.ensure_unique(session, Theme, THEME, "slug", data["slug"], exclude_id=theme.id)
    if (parent_id := data.get("parent_id")) is not None:
        records.referenced(session, Theme, THEME, parent_id, "parent_id")
        records.ensure_no_cycle(session, Theme, THEME, theme.id, data["parent_id"])
    moving = "parent_id" in data and data["parent_id"] != theme.parent_id
    # What is filed under it moves with it: out of its old parents' scopes, into the new ones'.
    affected = tallies.agreements_under_theme(session, theme.id) if moving else []
    writes.record_update(session, theme, THEME, writes.assign(theme, data))
    if affected:
        session.flush()
        upkeep.rebuild_kept(session, affected)
    writes.commit(session)
    return theme


def delete_theme(session: Session, *, theme_ref: str, check: writes.Check) -> None:
    theme = records.find_by_ref(session, Theme, THEME, theme_ref, for_update=True)
    check(theme)
    records.refuse_if_children(session, Theme, THEME, theme.id)
    affected = tallies.agreements_under_theme(session, theme.id)
    writes.soft_delete(session, theme, THEME)
    if affected:
        session.flush()
        upkeep.rebuild_kept(session, affected)
    writes.commit(session)


def themes_for_slugs(session: Session, slugs: list[str], field: str = "themes") -> list[Theme]:
    """The live themes with these slugs, in slug order; an unknown slug is a 422."""
    from service.core.errors import InvalidInput

    wanted = sorted(set(slugs))
    if not wanted:
        return []
    found = {
        theme.slug: theme
        for theme in session.scalars(records.live(Theme).where(Theme.slug.in_(wanted)))
    }
    missing = [slug for slug in wanted if slug not in found]
    if missing:
        raise InvalidInput(
            f"No theme with slug {', '.join(map(repr, missing))}.",
            errors={field: [f"No theme with slug {slug!r}." for slug in missing]},
        )
    return [found[slug] for slug in wanted]
