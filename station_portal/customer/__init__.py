"""The customer's side: online applications, case access for tracking, contract
signatures and service ratings (no staff sign-in involved)."""
