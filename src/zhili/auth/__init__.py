"""Identity: password hashing, sessions, bearer tokens, API keys and the Subject a request acts as."""
