from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "sales"

    def ready(self) -> None:
        from clients.merge import client_merge_undone, client_merged
        from sales.services import refresh_spend_after_merge

        # A merge moves sales between clients; their total spend follows.
        client_merged.connect(refresh_spend_after_merge, dispatch_uid="sales-spend-on-merge")
        client_merge_undone.connect(
            refresh_spend_after_merge, dispatch_uid="sales-spend-on-merge-undo"
        )
