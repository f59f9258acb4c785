"""Who is calling: principals, roles and the token authenticator (the seam for users,
projects and Keystone)."""
