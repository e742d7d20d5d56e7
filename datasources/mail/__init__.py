"""All the hub's e-mail: messages built from outbox payloads, sent by SMTP or written as .eml files."""
