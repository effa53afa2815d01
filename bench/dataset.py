"""The benchmark's data, made the same way every time (a fixed seed): agreements, each with a
commitment tree, each commitment with a history of assessments, as the service's bulk files.

The shape is the seed's, scaled up: an agreement has a few sections, each with commitments;
a commitment's history walks up the status scale over the years, as a real one does.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from service.exchange.columns import COMMITMENT_COLUMNS

THEMES = ["defence", "space-security", "defence-industry"]
DOC_TYPES = ["treaty", "mou", "letter_of_intent", "joint_statement", "roadmap", "action_plan"]
# A commitment's history: each step moves it on, as analysts and officials report.
HISTORY = [
    ("not_started", None),
    ("initiated", None),
    ("partially_completed", 30),
    ("partially_completed", 45),
    ("stalled", None),
    ("initiated", None),
    ("partially_completed", 55),
    ("advanced", None),
    ("partially_completed", 80),
    ("completed", None),
]


@dataclass(frozen=True)
class Scale:
    agreements: int = 1_000
    commitments_per_agreement: int = 100
    assessments_per_commitment: int = 10
    sections_per_agreement: int = 10

    @property
    def commitments(self) -> int:
        return self.agreements * self.commitments_per_agreement

    @property
    def assessments(self) -> int:
        return self.commitments * self.assessments_per_commitment


# Evidence before status: every generated assessment cites a source. Id 1 is the first source
# of the seed data, which bench/generate.py loads into its new database before anything else.
CITED_SOURCE_ID = 1


def agreement_slug(number: int) -> str:
    return f"bench-agreement-{number:05d}"


def commitment_external_id(agreement: int, number: int) -> str:
    return f"bench-{agreement:05d}-{number:03d}"


def agreements(scale: Scale) -> Iterator[dict[str, object]]:
    rng = random.Random(1)
    for number in range(scale.agreements):
        yield {
            "slug": agreement_slug(number),
            "title": f"Benchmark agreement {number}",
            "doc_type": rng.choice(DOC_TYPES),
            "summary": "An agreement made by the benchmark's data generator.",
            "themes": [rng.choice(THEMES)],
        }


def commitments_csv(scale: Scale, first: int, count: int) -> str:
    """The commitment import file for agreements first..first+count-1: sections first, then
    the commitments under them (a parent comes before its children, as the import needs)."""
    rng = random.Random(2 + first)
    rows = []
    per_section = scale.commitments_per_agreement // scale.sections_per_agreement - 1
    for agreement in range(first, first + count):
        number = 0
        for section in range(scale.sections_per_agreement):
            section_id = commitment_external_id(agreement, number)
            rows.append(_commitment(agreement, section_id, None, "section", f"{section + 1}", rng))
            number += 1
            for item in range(per_section):
                rows.append(
                    _commitment(
                        agreement,
                        commitment_external_id(agreement, number),
                        section_id,
                        "commitment",
                        f"{section + 1}.{item + 1}",
                        rng,
                    )
                )
                number += 1
    return _csv([column.name for column in COMMITMENT_COLUMNS], rows)


def _commitment(
    agreement: int, external_id: str, parent: str | None, kind: str, ref: str, rng: random.Random
) -> dict[str, object]:
    year = rng.randint(2023, 2030)
    return {
        "external_id": external_id,
        "agreement": agreement_slug(agreement),
        "parent_external_id": parent or "",
        "kind": kind,
        "ref": ref,
        "title": f"Commitment {ref} of agreement {agreement}",
        "themes": rng.choice(THEMES),
        "due_date": f"{year}-{rng.randint(1, 12):02d}",
        "weight": rng.choice([1, 1, 1, 2, 3]),
    }


def assessments_csv(scale: Scale, first: int, count: int) -> str:
    """The assessment import file for the commitments of agreements first..first+count-1:
    each commitment's history, the steps a few weeks to months apart from 2019 on."""
    rng = random.Random(3 + first)
    rows = []
    for agreement in range(first, first + count):
        for number in range(scale.commitments_per_agreement):
            external_id = commitment_external_id(agreement, number)
            day = rng.randint(0, 300)
            steps = rng.randint(scale.assessments_per_commitment // 2, len(HISTORY))
            for step in range(scale.assessments_per_commitment):
                status, pct = HISTORY[min(step, steps - 1)]
                day += rng.randint(20, 120)
                year, day_of_year = 2019 + day // 365, day % 365
                rows.append(
                    {
                        "commitment_external_id": external_id,
                        "status": status,
                        "progress_pct": "" if pct is None else pct,
                        "as_of": f"{year}-{day_of_year // 31 + 1:02d}-{day_of_year % 28 + 1:02d}",
                        "assessor_kind": rng.choice(["official", "independent", "media"]),
                        "confidence": rng.choice(["low", "medium", "high"]),
                        "source_ids": CITED_SOURCE_ID,
                    }
                )
    return _csv(
        [
            "commitment_external_id",
            "status",
            "progress_pct",
            "as_of",
            "assessor_kind",
            "confidence",
            "source_ids",
        ],
        rows,
    )


def _csv(header: list[str], rows: Sequence[Mapping[str, object]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, restval="")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
