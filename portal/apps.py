from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal (accounts, roles, audit)"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from portal import jobs, tasks
        from portal.metrics import register_gauge
        from portal.roles import sync_roles_after_migrate
        from portal.security import checks, signals  # noqa: F401  (deploy checks; auth events go to the audit log)

        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="portal.sync_roles")
        # Background jobs (README "Jobs"); importing portal.jobs also connects its retry handler.
        jobs.register_periodic("deliver_email", tasks.deliver_email_job, every=tasks.DELIVER_EVERY)
        jobs.register_periodic("prune_jobs", tasks.prune_jobs_job, every=tasks.PRUNE_EVERY)
        register_gauge(
            "portal_jobs", "Background jobs by state (successful ones not counted).", ["state"], jobs.job_queue_depth
        )
        register_gauge(
            "portal_jobs_oldest_ready_seconds",
            "Seconds the oldest job ready to run has waited for a worker.",
            [],
            jobs.job_oldest_ready_age,
        )
        register_gauge(
            "portal_periodic_job_last_enqueued_timestamp_seconds",
            "When each periodic job was last enqueued (Unix time; 0: never).",
            ["job"],
            jobs.periodic_last_enqueued,
        )
