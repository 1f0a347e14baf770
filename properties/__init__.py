"""Hypothesis strategies and property tests for the anchor-box contract."""
