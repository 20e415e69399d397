"""Celery settings of the pedw workers (celery -A dagster_celery.app worker finds this module
on PYTHONPATH=deploy). The broker and result backend are the deployment's Redis."""

import os

broker_url = os.environ["PEDW_CELERY_BROKER"]
result_backend = os.environ["PEDW_CELERY_BACKEND"]
worker_prefetch_multiplier = 1  # a step is long: never hold one back behind another
task_acks_late = True  # a worker killed mid-step leaves its task for another worker
