"""Fees and payment (issue 4): FEBRABAN bank-slip codes, PIX BR Code, overdue charges, slip PDF."""
