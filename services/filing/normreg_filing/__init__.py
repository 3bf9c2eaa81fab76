"""The recipient side of filing (备案审查): filings received from subordinate jurisdictions."""
