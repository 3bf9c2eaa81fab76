"""How the filing review service is reached: consumers of subordinates streams."""
