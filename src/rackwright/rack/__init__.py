"""The rack: a design file resolved against the catalog, evaluated by the model chain, held to the rules.

- :mod:`.design` reads and validates design files (inheritance, overrides, lineage);
- :mod:`.chain` resolves a design against the catalog (:class:`~.chain.RackModel`) and runs the model steps
  of :mod:`rackwright.models` on it;
- :mod:`.figures` names the evaluated figures, their units and sections;
- :mod:`.rules` holds a rack to the design rules;
- :mod:`.evaluation` is the entry: :func:`~.evaluation.evaluate` returns an evaluated
  :class:`~.evaluation.Rack`, :func:`~.evaluation.evaluate_batch` a :class:`~.evaluation.BatchResult`;
- :mod:`.bom` and :mod:`.sourcing` give its bill of materials, US content and what-if supply scenarios;
- :mod:`.compare` the fields and figures that differ between two racks.

Everything above this package (perf, site, factory, fleet, roadmap, explore, report, server, cli) receives an
evaluated :class:`~.evaluation.Rack` or a batch rather than loading a design file again.
"""
