"""Messages to users: the outbox directory, SMTP, and what each message says."""
