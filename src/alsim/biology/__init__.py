"""The rules of the model: what happens to motor units, endplates and fibres.

``docs/model.md`` states every rule in plain words; the functions here compute them
on NumPy arrays for the engine. A new process is added here, once.
"""
