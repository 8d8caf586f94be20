"""Local stack: Kafka, PostgreSQL, SeaweedFS and Temporal under supervisord."""
