# No commands: the implicit keep files everything into INBOX (RFC 5228 §2.10.2).
