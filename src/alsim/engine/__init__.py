"""Numerics: the state arrays, the vectorised stochastic stepper and the reference stepper."""
