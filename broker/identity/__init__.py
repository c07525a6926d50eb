"""Identity: project credentials, signing keys and JWTs, users, tenants, sign-in."""
