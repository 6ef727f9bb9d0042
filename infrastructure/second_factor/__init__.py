"""What proves a second factor: TOTP codes (pyotp), their secrets sealed at rest (Fernet), passkeys (py_webauthn)."""
