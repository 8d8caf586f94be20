"""Plumbing shared by the services and the worker: settings, logs, Kafka, storage."""
