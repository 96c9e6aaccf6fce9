"""Helpers for testing with augkit offline: tiny models built locally, never downloaded."""
