"""The queued intake: appeals acknowledged after one durable insert and filed as work orders moments later."""
