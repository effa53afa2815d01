"""How a commitment's status and progress follow from its assessments, and an agreement's
from its commitments: the one home of these rules (DESIGN §1; STYLE, one home per rule).

- `rules`: the vocabulary's rules (what progress each status gives, which statuses are
  terminal), the as-of rule (which assessment is current, now or on a date) and the weighted
  roll-up, as pure Python.
- `sql`: the same rules as SQLAlchemy Core expressions, for the reads that cannot load the
  history (filters as of a date, overdue, the statistics); tests/progress holds the two equal.
- `upkeep`: recomputing the derived columns (a commitment's, its ancestors', its agreement's)
  in the transaction of each write.
- `as_of`: commitments read as they stood on a past date.

A package of its own because the rules join two resources: assessments give a commitment its
status, commitments give an agreement its progress. Kept in either resource's package, they
made the two import each other; here, above both models and below both services, the
dependency runs one way: `assessments` uses `commitments`, never the reverse.
"""
