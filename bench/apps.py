from django.apps import AppConfig


class BenchConfig(AppConfig):
    """The benchmark's data builder (``manage.py bench_data``): installed only with PORTAL_BENCH on, and in tests."""

    name = "bench"
