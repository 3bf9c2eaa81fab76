"""The review task and its rules. Standard library and normreg_common's pure modules only."""
