"""triage API of the findings app."""

urlpatterns: list = []
