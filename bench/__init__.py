"""`python -m bench`: intake measured side by side with age, gpg, bare endpoints and bare PyNaCl."""
