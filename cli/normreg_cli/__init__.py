"""The normreg command-line client and the whole-system runner."""
