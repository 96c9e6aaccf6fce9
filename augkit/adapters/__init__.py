"""augkit.adapters."""
