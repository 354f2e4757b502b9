"""How the rules of :mod:`alsim.biology` are computed fast: the compiled kernel, the census, blocks of subjects.

The oracles that check it are :mod:`alsim.verification`.
"""
