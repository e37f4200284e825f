"""E-mail sending for accounts, always on a worker, never inside a request."""

from celery import shared_task

from . import services


@shared_task(
    name="apps.users.tasks.send_password_reset_email",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def send_password_reset_email(*, user_id: int, **queued_before: str) -> None:
    """The worker makes the link (`queued_before`: the uid and token that tasks queued by an
    earlier version carried, no longer needed)."""
    services.password_reset_send(user_id=user_id)


@shared_task(
    name="apps.users.tasks.send_invitation_email",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def send_invitation_email(*, invitation_id: int, token: str) -> None:
    services.invitation_send(invitation_id=invitation_id, token=token)
