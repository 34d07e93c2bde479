"""Synthetic HealthKart-style data, so roasbot can be demoed and tested without real sales data."""
