"""The rules of the model: what happens to motor units, endplates and fibres.

``docs/model.md`` states every rule in plain words. Each rate or probability is one small
pure function here (:mod:`~alsim.biology.unit_rules`, :mod:`~alsim.biology.endplate_rules`,
:mod:`~alsim.biology.subject_rules`), compiled into the engine's kernel by Numba
(:func:`~alsim.biology.rule.rule`) and callable from Python on arrays as ``.py_func``.
A new process is added here, once; the oracles of :mod:`alsim.verification` transcribe
docs/model.md on their own.
"""
