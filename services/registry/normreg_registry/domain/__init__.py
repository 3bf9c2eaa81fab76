"""Pure domain of the registry: no I/O, standard library only (plus normreg_common's pure modules)."""
