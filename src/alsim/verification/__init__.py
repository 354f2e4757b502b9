"""The independent oracles of the compiled engine (docs/verification.md).

- :mod:`~alsim.verification.reference`: the reference stepper, docs/model.md written out
  with one Python object per motor unit and per endplate;
- :mod:`~alsim.verification.meanfield`: the model's large-size limit, a deterministic day
  map of expected endplate counts.

Both are deliberately separate transcriptions of docs/model.md: they import only the
scenario schema (``alsim.config``), never the production rules (``alsim.biology``) or the
engine, so that a slip in a production rule cannot hide in the oracle that checks it.
"""
