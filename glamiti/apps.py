from django.apps import AppConfig


class GlamitiConfig(AppConfig):
    name = "glamiti"
    verbose_name = "Glamiti platform"
