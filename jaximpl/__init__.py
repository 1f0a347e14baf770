"""The JAX implementation of the anchor-box contract."""
