"""The prices function: keeps the price catalogue current from the AWS Price List."""
