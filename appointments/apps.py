from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "appointments"

    def ready(self) -> None:
        from appointments.services import refresh_clients_after_merge
        from clients.merge import client_merge_undone, client_merged

        # A merge moves appointments between two clients: their visit dates change with them.
        client_merged.connect(refresh_clients_after_merge, dispatch_uid="appointments.merged")
        client_merge_undone.connect(
            refresh_clients_after_merge, dispatch_uid="appointments.merge_undone"
        )
