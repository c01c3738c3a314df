"""One module per benchmark; bench/run lists them in CASES. See bench/README.md."""
