"""An import-linter contract of the project's own (pyproject.toml, `contract_types`): no module
of the root package imports, directly or through others, a module that imports it.

import-linter's `acyclic_siblings` contract looks at packages; a slice package holds both its
models (low) and its services (high), so slices may depend on each other's lower modules both
ways without any module depending on itself. This contract looks at the modules."""

from __future__ import annotations

from typing import Any

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output


class AcyclicModulesContract(Contract):
    type_name = "acyclic_modules"

    root = fields.StringField()

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        root = str(self.root)
        inside = {module for module in graph.modules if module.split(".")[0] == root}
        cycles: list[list[str]] = []
        for importer in sorted(inside):
            for imported in sorted(graph.find_modules_directly_imported_by(importer) & inside):
                # importer -> imported, and a way back: the shortest one is the cycle to show.
                back = graph.find_shortest_chain(importer=imported, imported=importer)
                if back is not None:
                    cycles.append([importer, *back])
        return ContractCheck(kept=not cycles, warnings=None, metadata={"cycles": cycles})

    def render_broken_contract(self, check: ContractCheck) -> None:
        cycles: list[Any] = check.metadata["cycles"]
        for cycle in cycles:
            output.print_error(" -> ".join(cycle), bold=False)
            output.new_line()
