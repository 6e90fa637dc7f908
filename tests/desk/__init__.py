"""The desk: Textual Pilot tests on real sealed cases."""
