"""Pure domain of filing review: standard library and normreg_common only."""
