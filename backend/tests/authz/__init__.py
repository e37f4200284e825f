"""Rows of the authorization matrix, one module per area (see test_authorization_matrix.py).
A module defines MATRIX = {(route name, METHOD): Spec(...)} using the helpers of
tests.test_authorization_matrix (Spec, PUBLIC, USER, STAFF, k_* and b_* builders)."""
