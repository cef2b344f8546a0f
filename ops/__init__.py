"""What operations staff run beside the service: metrics, tracing, backups and the restore drill."""
