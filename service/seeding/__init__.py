"""The India–France seed data: loaded into a new database once; corrections to `seeds/` reach
an existing database only through `seed --check` and `seed --apply`.

files.py reads the YAML, loader.py walks it entity by entity, sync.py brings one record in line
(or leaves a user's change alone), ledger.py remembers what the loader made, report.py says
what differed."""
