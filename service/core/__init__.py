"""The foundation every layer stands on: settings, the database, dates, the vocabularies,
identifiers, the domain's errors, pagination, search; and the steps every service shares to
find records (records.py) and to write them, each write recorded as a change (writes.py)."""
